// A stand-in for the radio only: `navigator.bluetooth` with one chest strap, as Chrome's Web
// Bluetooth presents it, delivering the notifications in `window.__radioConfig`
// ({ notifications: [[arrival_s, hex]], speed, name, battery }) at their recorded times,
// `speed` times faster. Everything else on the page is real.
//
// The strap runs on the wall clock whatever the page does: its start is kept in
// localStorage, so a reload finds it further on, and what it sent while no page listened
// is lost, as with a real strap. Like Chrome, requestDevice is refused outside a user
// gesture. `window.__radio.drop(ms)` breaks the link for `ms` (`inReach()` says when it is
// over, across reloads); `window.__radio.delivered()`
// lists the payloads a page took, across reloads; after `window.__radio.cancelChooser()` the
// person closes the strap chooser without picking one.
(() => {
  const config = window.__radioConfig;
  const KEY = "__radio";
  const state = () => JSON.parse(localStorage.getItem(KEY) || '{"startMs": null, "downUntil": 0, "delivered": []}');
  const save = (s) => localStorage.setItem(KEY, JSON.stringify(s));
  const HEART_RATE = 0x180d, HRM = 0x2a37, BATTERY = 0x180f, BATTERY_LEVEL = 0x2a19;
  const uuid = (v) => typeof v === "number" ? v
    : parseInt(String(v).replace(/^0000/, "").slice(0, 4), 16);
  const bytes = (hex) => new Uint8Array(hex.length / 2).map((_, k) => parseInt(hex.substr(2 * k, 2), 16));

  class Characteristic extends EventTarget {
    constructor(service, id) { super(); this.service = service; this.uuid = id; this.value = null; this.notifying = false; }
    async startNotifications() {
      if (!gatt.connected) throw new DOMException("GATT Server is disconnected.", "NetworkError");
      const s = state();
      if (s.startMs === null) { s.startMs = Date.now(); save(s); }
      // What the strap sent while nobody listened is gone.
      const elapsedS = (Date.now() - s.startMs) * config.speed / 1000;
      while (next < config.notifications.length && config.notifications[next][0] < elapsedS) next += 1;
      this.notifying = true;
      schedule();
      return this;
    }
    async readValue() {
      if (this.uuid !== BATTERY_LEVEL) throw new DOMException("Not permitted.", "NotSupportedError");
      this.value = new DataView(Uint8Array.of(config.battery).buffer);
      return this.value;
    }
  }
  class Service {
    constructor(id) { this.uuid = id; this.characteristics = new Map(); }
    async getCharacteristic(id) {
      const c = this.characteristics.get(uuid(id));
      if (!c) throw new DOMException("No Characteristics matching UUID found in Service.", "NotFoundError");
      return c;
    }
  }
  const heart = new Service(HEART_RATE), battery = new Service(BATTERY);
  const measurement = new Characteristic(heart, HRM);
  heart.characteristics.set(HRM, measurement);
  battery.characteristics.set(BATTERY_LEVEL, new Characteristic(battery, BATTERY_LEVEL));

  const device = new EventTarget();
  const gatt = {
    device, connected: false,
    async connect() {
      await new Promise((r) => setTimeout(r, 20));
      if (Date.now() < state().downUntil) {
        throw new DOMException("Connection failed for unknown reason.", "NetworkError");
      }
      gatt.connected = true;
      return gatt;
    },
    disconnect() { if (gatt.connected) lose(); },
    async getPrimaryService(id) {
      if (!gatt.connected) throw new DOMException("GATT Server is disconnected.", "NetworkError");
      const service = { [HEART_RATE]: heart, [BATTERY]: battery }[uuid(id)];
      if (!service) throw new DOMException("No Services matching UUID found in Device.", "NotFoundError");
      return service;
    },
  };
  Object.assign(device, { id: "standin-strap", name: config.name, gatt });

  function lose() {
    gatt.connected = false;
    measurement.notifying = false;
    device.dispatchEvent(new Event("gattserverdisconnected"));
  }

  // The next notification at its time; those due while nobody listens are gone.
  let timer = null, next = 0;
  function schedule() {
    clearTimeout(timer);
    const s = state();
    const elapsedS = (Date.now() - s.startMs) * config.speed / 1000;
    while (next < config.notifications.length && config.notifications[next][0] <= elapsedS) {
      const hex = config.notifications[next][1];
      next += 1;
      if (measurement.notifying) {
        measurement.value = new DataView(bytes(hex).buffer);
        const taken = state();
        taken.delivered.push(next - 1);
        save(taken);
        measurement.dispatchEvent(new Event("characteristicvaluechanged"));
      }
    }
    if (next < config.notifications.length) {
      const dueMs = s.startMs + config.notifications[next][0] * 1000 / config.speed - Date.now();
      timer = setTimeout(schedule, Math.max(0, dueMs));
    }
  }

  const bluetooth = {
    async getAvailability() { return true; },
    async requestDevice(options) {
      if (!navigator.userActivation.isActive) {
        throw new DOMException("Failed to execute 'requestDevice' on 'Bluetooth': Must be handling a user gesture to show a permission request.", "SecurityError");
      }
      const wanted = (options.filters || []).some((f) => (f.services || []).map(uuid).includes(HEART_RATE));
      if (!wanted || state().cancel) {
        throw new DOMException("User cancelled the requestDevice() chooser.", "NotFoundError");
      }
      return device;
    },
  };
  Object.defineProperty(Navigator.prototype, "bluetooth", { get: () => bluetooth, configurable: true });

  window.__radio = {
    drop(ms) { const s = state(); s.downUntil = Date.now() + ms; save(s); if (gatt.connected) lose(); },
    delivered() { return state().delivered; },
    inReach() { return Date.now() >= state().downUntil; },
    cancelChooser() { const s = state(); s.cancel = true; save(s); },
  };
})();
