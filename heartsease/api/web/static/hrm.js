// The Heart Rate Measurement characteristic (0x2A37), decoded exactly as
// heartsease/sensors/hrm.py decodes it (a browser test holds the two to the same bytes).
// The first byte holds flags: bit 0 heart rate as uint16 (else uint8), bit 1 contact
// detected (meaningful only with bit 2), bit 2 contact supported, bit 3 energy expended
// (uint16, kJ), bit 4 RR intervals (uint16 each, 1/1024 s, oldest first). Reserved bits are
// ignored: refusing a strap's beats for them would lose the beats.

export const HEART_RATE_SERVICE = 0x180d;
export const HEART_RATE_MEASUREMENT = 0x2a37;
export const BATTERY_SERVICE = 0x180f;
export const BATTERY_LEVEL = 0x2a19;
export const RR_UNITS_PER_S = 1024;

const HR_UINT16 = 0x01, CONTACT_DETECTED = 0x02, CONTACT_SUPPORTED = 0x04;
const ENERGY_PRESENT = 0x08, RR_PRESENT = 0x10;

// The words of heartsease.sensors.hrm.SensorContact's values (sent on /ingest as they are).
export const Contact = Object.freeze({
  NOT_SUPPORTED: "not supported",
  NOT_DETECTED: "supported, not detected",
  DETECTED: "supported, detected",
});

export class MalformedMeasurementError extends Error {}

function contactOf(flags) {
  if (!(flags & CONTACT_SUPPORTED)) return Contact.NOT_SUPPORTED;
  return flags & CONTACT_DETECTED ? Contact.DETECTED : Contact.NOT_DETECTED;
}

// `payload`: a DataView (what Web Bluetooth delivers), an ArrayBuffer, a typed array or an
// array of byte values.
// Returns { hrBpm, contact, energyExpendedKj (null when absent), rr1024ths, rrMs, hrUint16,
// trailingBytes }; throws MalformedMeasurementError for anything the layout cannot hold.
export function parseHrm(payload) {
  const bytes = ArrayBuffer.isView(payload)
    ? new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength)
    : new Uint8Array(payload);
  if (bytes.length === 0) throw new MalformedMeasurementError("empty payload: no flags byte");
  const flags = bytes[0];
  const hrUint16 = Boolean(flags & HR_UINT16);
  const uint16 = (at) => bytes[at] | (bytes[at + 1] << 8);
  let offset = 1;
  const hrSize = hrUint16 ? 2 : 1;
  if (bytes.length < offset + hrSize) {
    throw new MalformedMeasurementError(`payload of ${bytes.length} bytes ends before its ` +
      `${hrUint16 ? "uint16" : "uint8"} heart rate (flags 0x${flags.toString(16).padStart(2, "0")})`);
  }
  const hrBpm = hrUint16 ? uint16(offset) : bytes[offset];
  offset += hrSize;
  let energyExpendedKj = null;
  if (flags & ENERGY_PRESENT) {
    if (bytes.length < offset + 2) {
      throw new MalformedMeasurementError(
        `payload of ${bytes.length} bytes ends before its energy expended field`);
    }
    energyExpendedKj = uint16(offset);
    offset += 2;
  }
  const rr1024ths = [];
  let trailingBytes = bytes.length - offset;
  if (flags & RR_PRESENT) {
    const pairs = Math.floor(trailingBytes / 2);
    for (let k = 0; k < pairs; k++) rr1024ths.push(uint16(offset + 2 * k));
    trailingBytes -= 2 * pairs;
  }
  return {
    hrBpm, contact: contactOf(flags), energyExpendedKj, rr1024ths,
    // As Python's `v * 1000.0 / 1024`: the same operations in the same order, the same double.
    rrMs: rr1024ths.map((v) => v * 1000.0 / RR_UNITS_PER_S),
    hrUint16, trailingBytes,
  };
}
