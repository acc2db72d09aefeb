// A live connection to a session that comes back by itself, telling the page how it is doing.
// It opens with the page's sign-in (the browser sends the cookie; nothing in the URL), keeps
// that sign-in renewed while open, and sends the person to sign in when the sign-in ends.

import { socketClosed, socketOpened, toSignIn } from "./common.js";
import { Close } from "./wire.js";

const FIRST_DELAY_MS = 500, LONGEST_DELAY_MS = 8000;

export const statusText = {
  connecting: "Connecting…", live: "Connected", lost: "Connection lost, reconnecting…",
  ended: "Session ended", denied: "This session isn't yours to see",
};

// A WebSocket to `path` on this server, signed in as the page is (how, is this function's
// business alone). The ingest stream (beat-stream.js) handles its own reconnections.
export function open(path) {
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  return new WebSocket(scheme + location.host + path);
}

// `onStatus` hears one of statusText's keys whenever the connection changes.
export function live(path, onMessage, onStatus) {
  let socket = null, closed = false, delayMs = FIRST_DELAY_MS;
  const waiting = [];  // messages written while (re)connecting, sent once connected
  socketOpened();
  const connect = () => {
    socket = open(path);
    onStatus("connecting");
    socket.onopen = () => {
      delayMs = FIRST_DELAY_MS;
      onStatus("live");
      while (waiting.length) socket.send(waiting.shift());
    };
    socket.onmessage = (e) => onMessage(JSON.parse(e.data));
    socket.onclose = (e) => {
      const final = closed || [Close.NOT_LIVE, Close.NOT_ALLOWED, Close.SIGNED_OUT].includes(e.code);
      if (final) socketClosed();
      if (closed || e.code === Close.NOT_LIVE) { onStatus("ended"); return; }
      if (e.code === Close.SIGNED_OUT) { toSignIn("signed-out"); return; }
      if (e.code === Close.NOT_ALLOWED) { onStatus("denied"); return; }
      onStatus("lost");
      setTimeout(connect, delayMs);
      delayMs = Math.min(delayMs * 2, LONGEST_DELAY_MS);
    };
  };
  connect();
  return {
    send(message) {
      const text = JSON.stringify(message);
      if (socket && socket.readyState === WebSocket.OPEN) socket.send(text); else waiting.push(text);
    },
    close() { closed = true; if (socket) socket.close(); },
  };
}
