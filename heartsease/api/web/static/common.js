// Shared by every page: the signed-in person, API calls, and a WebSocket that reconnects.
"use strict";

const Heartsease = {
  token() { return sessionStorage.getItem("heartsease.token"); },
  // Signing out by choice ends the token on the server too (keepalive: the request outlives
  // the page); an expired one has nothing left to end.
  signOut(reason) {
    const token = this.token();
    if (token && !reason) {
      fetch("/api/auth/sign-out", { method: "POST", keepalive: true,
        headers: { Authorization: "Bearer " + token } }).catch(() => {});
    }
    sessionStorage.removeItem("heartsease.token");
    location.href = "/login" + (reason ? "?reason=" + encodeURIComponent(reason) : "");
  },
  // A signed-in request, its response as it is (a report, a file); an expired sign-in
  // sends the person to sign in again.
  async request(path, options = {}) {
    const headers = Object.assign({}, options.headers || {});
    if (this.token()) headers.Authorization = "Bearer " + this.token();
    if (options.json !== undefined) {
      headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(options.json);
    }
    const response = await fetch(path, Object.assign({}, options, { headers }));
    if (response.status === 401 && path !== "/api/auth/token") {
      this.signOut("expired");
      throw new Error("Your sign-in has expired.");
    }
    return response;
  },
  async api(path, options = {}) {
    const response = await this.request(path, options);
    if (!response.ok) {
      let detail = response.statusText;
      try { detail = (await response.json()).detail || detail; } catch (e) { /* not JSON */ }
      throw new Error(typeof detail === "string" ? detail : "Something went wrong.");
    }
    return response.status === 204 ? null : response.json();
  },
  async me() {
    if (!this.token()) { this.signOut(); return null; }
    return this.api("/api/me");
  },
  // A live connection that comes back by itself, telling the page how it is doing.
  live(path, onMessage, onStatus) {
    let socket = null, closed = false, delay = 500;
    const waiting = [];  // messages written while (re)connecting, sent once connected
    const connect = () => {
      const scheme = location.protocol === "https:" ? "wss://" : "ws://";
      socket = new WebSocket(scheme + location.host + path + "?token=" + this.token());
      onStatus("connecting");
      socket.onopen = () => {
        delay = 500;
        onStatus("live");
        while (waiting.length) socket.send(waiting.shift());
      };
      socket.onmessage = (e) => onMessage(JSON.parse(e.data));
      socket.onclose = (e) => {
        if (closed || e.code === 4404) { onStatus("ended"); return; }
        if (e.code === 4403) { onStatus("denied"); return; }
        onStatus("lost");
        setTimeout(connect, delay);
        delay = Math.min(delay * 2, 8000);
      };
    };
    connect();
    return {
      send(message) {
        const text = JSON.stringify(message);
        if (socket && socket.readyState === 1) socket.send(text); else waiting.push(text);
      },
      close() { closed = true; if (socket) socket.close(); },
    };
  },
  // The pages this person may use, in the header, and a way to sign out.
  nav(me, current) {
    const pages = me.role === "clinician" ? [["observe", "Observation room"], ["trends", "Trends"]]
      : me.role === "client" ? [["breathe", "Breathe"], ["trends", "Trends"]] : [];
    const nav = document.getElementById("nav");
    nav.innerHTML = "";
    for (const [page, title] of pages) {
      const a = Object.assign(document.createElement("a"), { href: "/" + page, textContent: title });
      if (page === current) a.setAttribute("aria-current", "page");
      nav.append(a);
    }
    const out = Object.assign(document.createElement("button"), { type: "button", className: "quiet", textContent: "Sign out" });
    out.addEventListener("click", () => this.signOut());
    nav.append(out);
  },
  statusText: {
    connecting: "Connecting…", live: "Connected", lost: "Connection lost, reconnecting…",
    ended: "Session ended", denied: "This session isn't yours to see",
  },
  stateWords: { threat: "on alert", neutral: "steady", soothing: "soothed", unknown: "listening…" },
};
