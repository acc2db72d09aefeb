// The page's strap streamed to its session's /ingest, as `heartsease breathe --server` streams
// (heartsease/remote.py, the protocol in heartsease/wire.py): each message numbers its first
// beat (`seq`), the server acknowledges once the beats are on disk, and everything not yet
// acknowledged is sent again after a reconnection (a beat sent twice is stored once).
//
// Everything not yet acknowledged is kept in IndexedDB, written before it is sent, and
// removed only by an acknowledgement: a reload, a lost network or a closed lid loses
// nothing. When the page is back, what is left goes to its session, even one that has
// ended meanwhile (the server stores it there without reopening it). A gap is kept until the
// beats after it are acknowledged, since the server takes gaps without acknowledging them.

import { open as openSocket } from "./socket.js";
import { Close, Kind } from "./wire.js";

const DB_NAME = "heartsease-strap", DB_VERSION = 1;
const FIRST_DELAY_MS = 500, LONGEST_DELAY_MS = 10000;  // as remote.py's backoff

let opened = null;
function database() {
  opened = opened || new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      // One row per stream: its session, its person, its next number and its clock's origin.
      db.createObjectStore("streams", { keyPath: "sessionId" });
      // The messages not yet acknowledged, in the order they were made.
      const outbox = db.createObjectStore("outbox", { keyPath: "key", autoIncrement: true });
      outbox.createIndex("session", "sessionId");
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  return opened;
}

// One transaction over `stores`; `work(stores...)` may return a request whose result is
// the transaction's result. Resolves once the transaction is committed.
async function transact(stores, mode, work) {
  const db = await database();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(stores, mode);
    let result;
    const request = work(...stores.map((name) => tx.objectStore(name)));
    if (request) request.onsuccess = () => { result = request.result; };
    tx.oncomplete = () => resolve(result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

const lastSeq = (message) => message.seq + message.rr_ms.length - 1;
const wallMs = () => performance.timeOrigin + performance.now();

// Streams this browser still holds for `personId`: [{ sessionId, pending, ended }].
export async function heldStreams(personId) {
  const streams = await transact(["streams"], "readonly", (s) => s.getAll());
  const held = [];
  for (const stream of streams.filter((s) => s.personId === personId)) {
    const pending = await transact(["outbox"], "readonly",
      (o) => o.index("session").count(stream.sessionId));
    held.push({ sessionId: stream.sessionId, pending, ended: stream.ended });
  }
  return held;
}

export class BeatStream {
  // The stream of `sessionId` (carried on after a reload: its numbering and clock kept).
  static async open(sessionId, personId, onProgress = () => {}) {
    let row = await transact(["streams"], "readonly", (s) => s.get(sessionId));
    if (!row) {
      row = { sessionId, personId, nextSeq: 1, originMs: wallMs(), ended: false };
      await transact(["streams"], "readwrite", (s) => s.put(row));
    }
    return new BeatStream(row, onProgress);
  }

  constructor(row, onProgress) {
    this.row = row;
    this.onProgress = onProgress;
    this.socket = null;
    this.delayMs = FIRST_DELAY_MS;
    this.stopped = false;
    this.acknowledged = 0;
    // Every step that reads or writes the outbox, one after another, so messages leave in
    // the order they were numbered.
    this.chain = Promise.resolve();
  }

  get sessionId() { return this.row.sessionId; }

  // Seconds on this stream's clock, which a reload does not restart (beat times before and
  // after it stay comparable, and gaps measurable).
  nowS() { return (wallMs() - this.row.originMs) / 1000; }

  // One notification's beats ({ arrivalS, hrBpm, rrMs, beatTimesS, contact }), numbered,
  // kept, then sent.
  measurement(m) {
    if (!m.rrMs.length) return this.chain;
    return this.step(async () => {
      const message = { seq: this.row.nextSeq, arrival_s: m.arrivalS, hr_bpm: m.hrBpm,
        rr_ms: m.rrMs, beat_times_s: m.beatTimesS, contact: m.contact };
      this.row.nextSeq += m.rrMs.length;
      this.row.lastArrivalS = m.arrivalS;
      await transact(["streams", "outbox"], "readwrite", (streams, outbox) => {
        streams.put(this.row);
        outbox.add({ sessionId: this.sessionId, upto: lastSeq(message), message });
      });
      this.send(message);
    });
  }

  // A stretch without beats (the link was lost, the page was away), on this stream's clock.
  gap(startS, endS, reason) {
    return this.step(async () => {
      const message = { gap_start_s: startS, gap_end_s: endS, reason };
      // Done with once the first beat after it is acknowledged.
      await transact(["outbox"], "readwrite", (outbox) =>
        outbox.add({ sessionId: this.sessionId, upto: this.row.nextSeq, message }));
      this.send(message);
    });
  }

  // The session has ended: nothing more is made; what is kept is still sent.
  end() {
    return this.step(async () => {
      this.row.ended = true;
      await transact(["streams"], "readwrite", (s) => s.put(this.row));
      await this.forgetWhenDone();
    });
  }

  step(work) {
    this.chain = this.chain.then(work).catch((e) => console.error("beat stream:", e));
    return this.chain;
  }

  send(message) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(message));
    }
  }

  async pending() {
    return transact(["outbox"], "readonly", (o) => o.index("session").getAll(this.sessionId));
  }

  connect() {
    if (this.stopped) return;
    const socket = openSocket("/api/sessions/" + this.sessionId + "/ingest");
    this.socket = socket;
    socket.onopen = () => {
      this.delayMs = FIRST_DELAY_MS;
      // Whatever may not have landed, in order, before anything new.
      this.step(async () => {
        for (const entry of await this.pending()) socket.send(JSON.stringify(entry.message));
      });
      this.report("live");
    };
    socket.onmessage = (e) => this.reply(JSON.parse(e.data));
    socket.onclose = (e) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.stopped) return;
      if (e.code === Close.NOT_LIVE) { this.discard(); return; }  // the session is gone
      if (e.code === Close.NOT_ALLOWED) { this.report("denied"); return; }
      this.report("lost");
      setTimeout(() => this.connect(), this.delayMs);
      this.delayMs = Math.min(this.delayMs * 2, LONGEST_DELAY_MS);
    };
  }

  reply(reply) {
    if (reply.kind === Kind.ACK) {
      this.acknowledged = Math.max(this.acknowledged, reply.seq);
      this.step(async () => {
        await transact(["outbox"], "readwrite", (outbox) => {
          const cursor = outbox.index("session").openCursor(this.sessionId);
          cursor.onsuccess = () => {
            const at = cursor.result;
            if (!at) return;
            if (at.value.upto <= this.acknowledged) at.delete();
            at.continue();
          };
        });
        if (this.row.ended) await this.forgetWhenDone();
        this.report("live");
      });
    } else if (reply.kind === Kind.ERROR) {
      console.warn("the server refused a message:", reply.detail);
      if (reply.expected_seq !== undefined) {
        // Beats before this message are missing there: send everything kept again.
        if (this.socket) this.socket.close();
      } else {
        // A message it will never take: do not send it forever.
        this.step(async () => {
          const refused = (await this.pending()).find((entry) =>
            reply.seq === undefined || entry.message.seq === reply.seq);
          if (refused) await transact(["outbox"], "readwrite", (o) => o.delete(refused.key));
        });
      }
    }
  }

  async report(state) {
    const pending = (await this.pending()).filter((entry) => entry.message.seq !== undefined);
    this.onProgress({ state, sent: this.row.nextSeq - 1, acknowledged: this.acknowledged,
      waiting: pending.reduce((n, entry) => n + entry.message.rr_ms.length, 0) });
  }

  // The server has no session for these beats (it was erased): nothing to keep them for.
  discard() {
    this.stopped = true;
    return this.step(async () => {
      for (const entry of await this.pending()) {
        await transact(["outbox"], "readwrite", (o) => o.delete(entry.key));
      }
      await transact(["streams"], "readwrite", (s) => s.delete(this.sessionId));
      this.report("ended");
    });
  }

  // An ended stream with nothing left to send is forgotten, and its socket closed.
  async forgetWhenDone() {
    if ((await this.pending()).length) return;
    this.stopped = true;
    await transact(["streams"], "readwrite", (s) => s.delete(this.sessionId));
    if (this.socket) this.socket.close();
  }
}
