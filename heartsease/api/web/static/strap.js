// The client's own chest strap, from the page (Web Bluetooth): paired inside a click (Chrome
// asks for a strap only then), Heart Rate Measurement notifications decoded and timed as the
// Python reader does them (hrm.js, beat-timing.js), battery and skin contact shown, the link
// brought back when it drops (the time without beats recorded as a gap, never filled), and
// every beat streamed to the session through beat-stream.js, which keeps what the server has
// not acknowledged. Where the browser cannot reach a strap, the page says so and offers what
// works: the clinic's strap, or the streamer on a laptop started with a one-time code.

import { api } from "./common.js";
import { BATTERY_LEVEL, BATTERY_SERVICE, Contact, HEART_RATE_MEASUREMENT, HEART_RATE_SERVICE,
  MalformedMeasurementError } from "./hrm.js";
import { NotificationTimer } from "./beat-timing.js";
import { BeatStream, heldStreams } from "./beat-stream.js";

const $ = (id) => document.getElementById(id);
const FIRST_DELAY_MS = 500, LONGEST_DELAY_MS = 10000, GIVE_UP_AFTER_MS = 600000;  // as ble.py

// "available", "insecure" (Web Bluetooth needs https:// or this computer itself), or
// "unavailable" (Safari, every iOS browser, Firefox).
export function bluetoothSupport() {
  if (!window.isSecureContext) return "insecure";
  return navigator.bluetooth ? "available" : "unavailable";
}

// Ask for a strap offering the Heart Rate service. Call it inside a click: Chrome refuses
// anywhere else.
export function pairStrap() {
  return navigator.bluetooth.requestDevice({
    filters: [{ services: [HEART_RATE_SERVICE] }], optionalServices: [BATTERY_SERVICE] });
}

// One paired strap's link, feeding `stream` until stopped.
export class StrapLink {
  constructor(device, stream, onStatus) {
    this.device = device;
    this.stream = stream;
    this.onStatus = onStatus;
    this.stopped = false;
    this.battery = null;
    this.onValue = (event) => this.take(event.target.value);
    device.addEventListener("gattserverdisconnected", () => this.lost());
  }

  async start(linked) { await this.connect(linked); this.onStatus("connected", this); }

  // `linked()` is called once the link is up, before any notification: a gap goes before
  // the beats that follow it.
  async connect(linked = () => {}) {
    this.timer = new NotificationTimer();  // beats before and after a drop are unrelated
    const server = await this.device.gatt.connect();
    linked();
    const heart = await server.getPrimaryService(HEART_RATE_SERVICE);
    const measurement = await heart.getCharacteristic(HEART_RATE_MEASUREMENT);
    measurement.addEventListener("characteristicvaluechanged", this.onValue);
    await measurement.startNotifications();
    try {
      const battery = await server.getPrimaryService(BATTERY_SERVICE);
      this.battery = (await (await battery.getCharacteristic(BATTERY_LEVEL)).readValue()).getUint8(0);
    } catch (e) {
      this.battery = null;  // a strap without a battery service still gives its beats
    }
  }

  take(value) {
    let m;
    try {
      m = this.timer.take(this.stream.nowS(), value);
    } catch (e) {
      if (e instanceof MalformedMeasurementError) { console.warn("ignored a malformed heart rate packet:", e.message); return; }
      throw e;
    }
    if (!m) return;  // a stale repeat
    this.contact = m.contact;
    this.hrBpm = m.hrBpm;
    this.stream.measurement(m);
    this.onStatus("beat", this);
  }

  async lost() {
    if (this.stopped || this.reconnecting) return;
    this.reconnecting = true;
    const lostAtS = this.stream.nowS(), started = Date.now();
    let gapKept = false;
    const linked = () => {
      if (!gapKept) this.stream.gap(lostAtS, this.stream.nowS(), "link lost");
      gapKept = true;
    };
    this.onStatus("lost", this);
    for (let delayMs = FIRST_DELAY_MS; !this.stopped; delayMs = Math.min(delayMs * 2, LONGEST_DELAY_MS)) {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      if (this.stopped) break;
      try {
        await this.connect(linked);
        this.reconnecting = false;
        this.onStatus("connected", this);
        return;
      } catch (e) {
        if (Date.now() - started > GIVE_UP_AFTER_MS) break;
      }
    }
    this.reconnecting = false;
    if (!this.stopped) this.onStatus("gone", this);
  }

  stop() {
    this.stopped = true;
    if (this.device.gatt.connected) this.device.gatt.disconnect();
  }
}

// --- The breathing page's strap panel (the elements of breathe.html's "own strap" block).

const contactWords = {
  [Contact.DETECTED]: "skin contact good",
  [Contact.NOT_DETECTED]: "it can't feel your skin: wet the electrodes and tighten the strap a little",
  [Contact.NOT_SUPPORTED]: null,
};

// Shows `text` in element `id` (hidden when empty), and the strap's card while it has words.
function show(id, text) {
  const el = $(id);
  el.textContent = text;
  el.classList.toggle("hidden", !text);
  const card = $("own-strap");
  card.classList.toggle("hidden", !card.querySelector(":scope > :not(.hidden)"));
}

function linkWords(state, link) {
  const name = link.device.name || "your strap";
  if (state === "lost") return "The strap's signal was lost. Reconnecting… The missing beats are recorded as a gap, never filled in.";
  if (state === "gone") return "The strap did not come back. Check it is on and close by, then choose Reconnect your strap.";
  const parts = ["Connected to " + name];
  if (link.battery !== null) parts.push("battery " + link.battery + " %");
  if (link.contact && contactWords[link.contact]) parts.push(contactWords[link.contact]);
  return parts.join(" · ");
}

function streamWords(progress) {
  if (progress.state === "denied") return "Your heartbeats can't be sent: please sign in again. They are kept on this device until then.";
  if (!progress.waiting) return progress.acknowledged ? progress.acknowledged + " heartbeats safely stored." : "";
  return progress.acknowledged + " heartbeats safely stored, " + progress.waiting +
    " kept on this device until the connection is back.";
}

let current = null;  // { link, stream }

function linkStatus(state, link) {
  $("strap-reconnect").classList.toggle("hidden", state !== "gone");
  show("strap-status", linkWords(state, link));
}

// Ask for a strap in plain words: the browser's own messages are for developers.
async function pairInWords() {
  try {
    return await pairStrap();
  } catch (e) {
    if (e.name === "NotFoundError") {
      throw new Error("No strap was chosen. Put your strap on (wet its electrodes first), then choose Begin and pick it from the list.");
    }
    if (e.name === "SecurityError") throw new Error("The browser looks for a strap only when you click: please choose Begin again.");
    throw new Error("The browser could not look for a strap: " + e.message);
  }
}

// Stream the paired strap's beats to `sessionId`; a strap that cannot be reached ends the
// session it was to feed (it would wait for beats that never come).
async function streamStrap(device, sessionId, personId) {
  const stream = await BeatStream.open(sessionId, personId, (p) => show("strap-stream", streamWords(p)));
  const link = new StrapLink(device, stream, linkStatus);
  show("strap-status", "Connecting to " + (device.name || "your strap") + "…");
  try {
    await link.start();
  } catch (e) {
    link.stop();
    await stream.end();
    await api("/api/sessions/" + sessionId + "/stop", { method: "POST" }).catch(() => {});
    show("strap-status", "");
    throw new Error("Your strap could not be reached. Check it is on and close by, and that no other app is connected to it, then begin again.");
  }
  stream.connect();
  current = { link, stream };
}

export const ownStrap = {
  // Inside the Begin click, before anything else: the browser's strap chooser.
  pair: pairInWords,

  stream: streamStrap,

  // The session is over: the strap is let go; what it gave is still sent.
  ended() {
    if (!current) return;
    current.link.stop();
    current.stream.end();
    current = null;
  },

  // On the page's start: say what works in this browser, send what an earlier visit kept,
  // and offer to reconnect to a session still running. `follow(sessionId)` rejoins it;
  // `clinicStrap`, whether the clinic's strap is offered here.
  async offer(person, follow, clinicStrap = false) {
    const support = bluetoothSupport();
    const option = document.querySelector("input[name=source][value=own]");
    if (support !== "available") {
      if (option) option.disabled = true;
      show("strap-support", support === "insecure"
        ? "Your own strap can connect only over a secure connection, and this page was opened over plain http from another computer. Ask whoever runs heartsease to serve it over https:// (the README's HTTPS set-up shows how)."
        : "This browser can't connect to a heart-rate strap: Chrome or Edge on a computer, and Chrome on Android, can; Safari, every browser on iPhone and iPad, and Firefox can't. You can " +
          (clinicStrap ? "practise with the clinic's strap, or " : "") + "stream your strap from a laptop with the heartsease streamer, started with a one-time code from this page, so your password is never typed into it.");
      $("streamer").classList.remove("hidden");
      $("own-strap").classList.remove("hidden");
      $("streamer-code").addEventListener("click", () => showStreamerCode().catch((e) =>
        show("streamer-note", e.message)));
    }
    for (const held of await heldStreams(person.id)) {
      const stream = await BeatStream.open(held.sessionId, person.id, (p) => show("strap-stream", streamWords(p)));
      const session = await api("/api/sessions/" + held.sessionId).catch(() => null);
      if (session && session.status === "active" && support === "available") {
        offerReconnect(stream, follow);
      } else {
        await stream.end();  // what was kept still goes to its session, never reopened
      }
      stream.connect();
    }
  },
};

function offerReconnect(stream, follow) {
  const button = $("strap-reconnect");
  show("strap-status", "Your session is still running. Reconnect your strap to carry on.");
  button.classList.remove("hidden");
  button.onclick = async () => {
    button.disabled = true;
    try {
      const device = await pairInWords();  // inside this click, as Chrome requires
      button.classList.add("hidden");
      current = { stream, link: new StrapLink(device, stream, linkStatus) };
      // From the last beat before the page went away to the link back: no beats, a gap.
      const since = stream.row.lastArrivalS ?? stream.nowS();
      await current.link.start(() => stream.gap(since, stream.nowS(), "page closed"));
      follow(stream.sessionId);
    } catch (e) {
      button.classList.remove("hidden");
      show("strap-status", e instanceof DOMException
        ? "Your strap could not be reached. Check it is on and close by, then try again." : e.message);
    } finally {
      button.disabled = false;
    }
  };
}

// A one-time code for the streamer, and the line to type.
async function showStreamerCode() {
  const issued = await api("/api/me/stream-code", { method: "POST" });
  const minutes = Math.max(1, Math.round((new Date(issued.expires_at) - Date.now()) / 60000));
  show("streamer-command", "heartsease breathe --server " + location.origin + " --code " +
    issued.code + ' --device "Polar H10"');
  show("streamer-note", "This code works once, for the next " + minutes +
    " minutes. Use your strap's name after --device.");
}
