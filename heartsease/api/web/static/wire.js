// The live protocol as the pages follow it: a mirror of heartsease/wire.py (the messages on a
// session's /live WebSocket and the codes it closes with). tests/test_wire.py fails when the
// two differ: change both together.

// Why the server closed a WebSocket: SIGNED_OUT, NOT_ALLOWED and NOT_LIVE are final; on any other, reconnect.
export const Close = Object.freeze({
  NOT_TEXT: 1003,
  NOT_READABLE: 1007,
  TOO_FAST: 1008,
  TOO_BIG: 1009,
  NOT_STORED: 1011,
  TOO_MANY_VIEWS: 1013,
  SIGNED_OUT: 4401,
  NOT_ALLOWED: 4403,
  NOT_LIVE: 4404,
  ELSEWHERE: 4409,
});

// The `kind` of a message from the server.
export const Kind = Object.freeze({
  SESSION_STARTED: "session-started",
  STEP: "step",
  PACER: "pacer",
  PACER_PHASE: "pacer-phase",
  BEAT: "beat",
  METRICS: "metrics",
  STATE: "state",
  SHIFT: "shift",
  BACKDRAFT: "backdraft",
  BACKDRAFT_EASED: "backdraft-eased",
  CUE: "cue",
  GAP: "gap",
  ANNOTATION: "annotation",
  PAUSED: "paused",
  RESONANCE: "resonance",
  BASELINE: "baseline",
  SESSION_ENDED: "session-ended",
  HELLO: "hello",
  PRESENCE: "presence",
  RATING: "rating",
  SOURCE_ERROR: "source-error",
  CLOSED: "closed",
  ERROR: "error",
  ACK: "ack",
});

// The `type` of a message a viewer sends.
export const Command = Object.freeze({
  PAUSE: "pause",
  RESUME: "resume",
  STOP: "stop",
  THIS_IS_A_LOT: "this-is-a-lot",
  RATING: "rating",
  ANNOTATION: "annotation",
});
