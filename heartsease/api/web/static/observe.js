// The clinician's observation room: every assigned client's moments to review
// (observe-moments.js), the clients with who is in a session now and their past sessions,
// and one or several live sessions side by side with the tachogram and pacer, the state
// timeline with shifts on the same time axis, unmissable backdraft alerts, and one-click
// notes.

import { api, me, nav, stateWords } from "./common.js";
import { axis, chart, cssColour, drawVerticals, keepFrom, paths, spacer, stateColour } from "./charts.js";
import { ask, DEMO_WORDS, startMoments } from "./observe-moments.js";
import { live, statusText } from "./socket.js";
import { Command, Kind } from "./wire.js";

const WINDOW_S = 15 * 60;  // a whole standard session; of a longer one, its last 15 minutes
const PLOT_EVERY_MS = 700;
const PAST_SHOWN = 5;  // a client's latest sessions; the rest are on their trends page
const watching = new Map();
// The rooms open in this tab, kept across a reload (a reload closed them all): reopened
// while their sessions are live.
const OPEN_ROOMS = "heartsease-open-rooms";
const openRooms = () => { try { return JSON.parse(sessionStorage.getItem(OPEN_ROOMS)) || []; } catch (e) { return []; } };
function keepOpen(sessionId, open) {
  const rooms = openRooms().filter((id) => id !== sessionId);
  sessionStorage.setItem(OPEN_ROOMS, JSON.stringify(open ? [...rooms, sessionId] : rooms));
}
const pastOpen = new Set();  // the clients whose past sessions are unfolded, kept on refresh

const protocolName = (p) => (p === "srb" ? "soothing rhythm breathing" : p === "resonance" ? "resonance assessment" : p);

// A client's latest finished sessions, each linked to its report.
function pastSessions(client, sessions) {
  const past = sessions.filter((s) => s.client_id === client.id && !s.live);
  const details = document.createElement("details");
  details.open = pastOpen.has(client.id);
  details.addEventListener("toggle", () => { if (details.open) pastOpen.add(client.id); else pastOpen.delete(client.id); });
  details.append(Object.assign(document.createElement("summary"), { textContent: "Past sessions" }));
  const list = document.createElement("ul");
  for (const s of past.slice(0, PAST_SHOWN)) {
    const when = new Date(s.started_at).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
    const minutes = s.summary && s.summary.duration_s ? ", " + Math.round(s.summary.duration_s / 60) + " min" : "";
    const li = document.createElement("li");
    const a = Object.assign(document.createElement("a"), { href: "/report?session=" + s.id, textContent: when });
    a.setAttribute("aria-label", "The report of " + client.name + "'s session of " + when);
    li.append(a, " · " + protocolName(s.protocol) + minutes + (s.status === "completed" ? "" : " · " + s.status) +
              (s.demo ? " · " + DEMO_WORDS : ""));
    list.append(li);
  }
  if (!past.length) list.append(Object.assign(document.createElement("li"), { textContent: "None yet." }));
  if (past.length > PAST_SHOWN) {
    const li = document.createElement("li");
    li.append(Object.assign(document.createElement("a"), { href: "/trends?client=" + client.id, textContent: "Their practice, on the trends page" }));
    list.append(li);
  }
  details.append(list);
  return details;
}

async function refresh() {
  const [clients, sessions, health] = await Promise.all([api("/api/clients"), api("/api/sessions?limit=300"),
                                                         api("/api/health")]);
  // Said plainly when part of the service is struggling; sessions and storage go on.
  const degraded = document.getElementById("degraded");
  degraded.classList.toggle("hidden", health.status === "ok");
  degraded.textContent = health.database !== "ok"
    ? "The database is not answering just now. Live sessions go on and their beats are kept; they are written as soon as it returns."
    : "Live views reach only the viewers on this server just now (" + health.live + "). Sessions and their records are not affected.";
  const list = document.getElementById("clients");
  list.innerHTML = "";
  if (!clients.length) list.innerHTML = "<li>No clients are assigned to you yet.</li>";
  for (const c of clients) {
    const session = sessions.find((s) => s.client_id === c.id && s.live);
    const li = document.createElement("li");
    li.innerHTML = "<span class='who'></span><span></span>";
    li.firstChild.textContent = c.name + " ";
    const trends = Object.assign(document.createElement("a"), { href: "/trends?client=" + c.id, textContent: "trends" });
    trends.setAttribute("aria-label", "Trends of " + c.name);
    const plan = Object.assign(document.createElement("a"), { href: "/plan?client=" + c.id, textContent: "plan" });
    plan.setAttribute("aria-label", "Practice plan of " + c.name);
    li.firstChild.append(trends, " · ", plan, pastSessions(c, sessions));
    if (session && !watching.has(session.id) && openRooms().includes(session.id)) {
      watch(session.id, c.name, session.demo);
    }
    if (session) {
      const b = document.createElement("button");
      b.type = "button"; b.className = "quiet";
      b.textContent = watching.has(session.id) ? "Watching" : "Watch the live session";
      b.disabled = watching.has(session.id);
      b.addEventListener("click", () => watch(session.id, c.name, session.demo));
      li.lastChild.append(Object.assign(document.createElement("span"), { className: "live-dot",
        textContent: "● in a session" + (session.demo ? " (" + DEMO_WORDS.replace(/\.$/, "").toLowerCase() + ")" : "") + "  " }), b);
    } else {
      li.lastChild.textContent = "not in a session";
    }
    list.append(li);
  }
}

// What one room keeps of its session: the last WINDOW_S seconds, which is what it draws.
class Recent {
  constructor() {
    this.beats = []; this.pace = []; this.states = []; this.shifts = []; this.notes = [];
  }

  get endT() { return this.beats.length ? this.beats[this.beats.length - 1].t : 0; }

  get startT() { return Math.max(0, this.endT - WINDOW_S); }

  forget() {
    const from = this.startT;
    keepFrom(this.beats, from);
    keepFrom(this.pace, from, { keepOneBefore: true });
    keepFrom(this.states, from, { keepOneBefore: true });
    keepFrom(this.shifts, from);
    keepFrom(this.notes, from);
  }

  // The pacer's rate at each beat (null while the breath is free), for a stepped line.
  paceAtBeats() {
    let i = -1;
    return this.beats.map((b) => {
      while (i + 1 < this.pace.length && this.pace[i + 1].t <= b.t) i += 1;
      return i < 0 ? null : this.pace[i].rate;
    });
  }
}

// In minutes, the same window for both charts of a room, so that they line up.
const windowMin = (recent) => () => [recent.startT / 60, Math.max(recent.endT, 1) / 60];

const TACHO_AXES = [axis("minutes", { size: 36 }), axis("beats/min", { space: 24 }),
                    axis("breaths/min", { scale: "pace", side: 1, space: 24, grid: { show: false } })];

function drawTacho(element, recent) {
  const data = [recent.beats.map((b) => b.t / 60), recent.beats.map((b) => b.hr), recent.paceAtBeats()];
  if (element.chart) { element.chart.setData(data); return; }
  chart(element, {
    heightPx: 200, scales: { x: { time: false, range: windowMin(recent) }, pace: { range: [0, 14] } },
    series: [
      { label: "minutes", value: (u, v) => v === null ? "–" : v.toFixed(1) },
      { label: "heart rate (bpm)", stroke: cssColour("soothing"), width: 1.5, points: { show: false },
        value: (u, v) => v === null ? "–" : v.toFixed(0) },
      { label: "pacer (breaths/min)", scale: "pace", stroke: "#7b5ea7", width: 1.5,
        paths: paths.stepped, points: { show: false }, value: (u, v) => v === null ? "–" : v.toFixed(1) },
    ],
    axes: TACHO_AXES,
    hooks: { draw: [(u) => drawVerticals(u, recent.notes.map((n) => n.t / 60), "#555", { dash: [2, 3] })] },
  }, data);
}

// The states as coloured bands, with a line at each shift (soothing's colour into soothing,
// threat's otherwise).
function drawStateBands(u, recent) {
  const g = u.ctx, { top, height } = u.bbox;
  recent.states.forEach((s, i) => {
    const next = recent.states[i + 1];
    const x0 = u.valToPos(Math.max(s.t, recent.startT) / 60, "x", true);
    const x1 = u.valToPos((next ? next.t : recent.endT) / 60, "x", true);
    g.save();
    g.globalAlpha = 0.4;
    g.fillStyle = stateColour(s.state);
    g.fillRect(x0, top, Math.max(x1 - x0, 0), height);
    g.restore();
  });
  for (const toward of ["soothing", "threat"]) {
    const xs = recent.shifts.filter((s) => s.direction.endsWith("soothing") === (toward === "soothing"))
      .map((s) => s.t / 60);
    drawVerticals(u, xs, stateColour(toward), { widthPx: 2 });
  }
}

function drawTimeline(element, recent) {
  const data = [[recent.startT / 60, recent.endT / 60]];
  if (element.chart) { element.chart.setData(data); return; }
  chart(element, {
    heightPx: 72, legend: false, cursor: { show: false },
    scales: { x: { time: false, range: windowMin(recent) }, y: { range: [0, 1] } },
    series: [{}],
    axes: [axis("minutes", { size: 30, labelSize: 0, label: null, space: 60,
                             values: (u, splits) => splits.map((v) => v + " min") }),
           spacer(TACHO_AXES[1]), spacer(TACHO_AXES[2], { side: 1 })],
    hooks: { draw: [(u) => drawStateBands(u, recent)] },
  }, data);
}

function watch(sessionId, name, demo = false) {
  const room = document.getElementById("room").content.firstElementChild.cloneNode(true);
  room.dataset.session = sessionId;
  room.querySelector(".name").textContent = name + (demo ? " · " + DEMO_WORDS : "");
  // Notes reach the client's own timeline as they are added: the clinician is told so.
  room.querySelector(".shared-notes").textContent =
    name + " sees each note on their breathing page as you add it.";
  document.getElementById("rooms").append(room);
  const q = (s) => room.querySelector(s);
  const recent = new Recent();
  let lastPlot = 0;
  const plot = () => {
    if (performance.now() - lastPlot < PLOT_EVERY_MS) return;
    lastPlot = performance.now();
    recent.forget();
    drawTacho(q(".tacho"), recent);
    drawTimeline(q(".timeline"), recent);
  };
  // The client's page (connected or away, once it has come) and whether the session is paused.
  const presence = { page: null, paused: false };
  let ended = false;
  // Said once, in the status line, however the end reached this room.
  const end = (words) => {
    ended = true;
    q(".conn").textContent = "";
    q(".step").textContent = words;
    q(".presence").textContent = "";
    // Notes go into a live session: once it is over, they belong in its report.
    for (const part of [q(".presets"), q(".note"), q(".shared-notes")]) part.classList.add("hidden");
    room.dataset.ended = "yes";
    refresh();  // the client is no longer in a session
  };
  const showPresence = () => {
    const words = [presence.page, presence.paused ? "paused" : null].filter(Boolean);
    q(".presence").textContent = words.length ? name + "'s page: " + words.join(" · ") : "";
    q(".presence").dataset.paused = presence.paused;
  };
  const link = live("/api/sessions/" + sessionId + "/live", function onMessage(m) {
    switch (m.kind) {
      case Kind.HELLO:
        if (m.step) q(".step").textContent = m.step.title;
        Object.assign(presence, { page: m.presence, paused: m.paused });
        showPresence();
        if (!recent.beats.length) {  // what happened before we came
          (m.recent || []).forEach(onMessage);
          if (m.metrics) onMessage(m.metrics);
          lastPlot = 0;
          plot();
        }
        break;
      case Kind.STEP: q(".step").textContent = m.title; break;
      case Kind.BEAT: recent.beats.push({ t: m.t_s, hr: 60000 / m.rr_ms }); q(".hr").textContent = Math.round(60000 / m.rr_ms); plot(); break;
      case Kind.PACER: recent.pace.push({ t: m.t_s, rate: m.rate_bpm }); break;
      case Kind.METRICS:
        q(".rmssd").textContent = m.rmssd_ms === null ? "–" : Math.round(m.rmssd_ms);
        q(".coh").textContent = m.coherence_ratio === null ? "–" : m.coherence_ratio.toFixed(1);
        q(".br").textContent = m.breathing_rate_bpm === null ? "–" : m.breathing_rate_bpm.toFixed(1);
        break;
      case Kind.STATE:
        recent.states.push({ t: m.t_s, state: m.state });
        q(".state").dataset.state = m.state;
        q(".state").innerHTML = "<strong>" + stateWords[m.state] + "</strong> (" + m.reason + ")";
        break;
      case Kind.SHIFT: recent.shifts.push({ t: m.onset_s, direction: m.direction }); break;
      case Kind.BACKDRAFT:
        q(".alert").textContent = (m.raised_by === "client"
          ? "At " + (m.t_s / 60).toFixed(1) + " min the client said this is a lot."
          : "Possible backdraft at " + (m.t_s / 60).toFixed(1) + " min: a rise in arousal during practice.") +
          " The pacer has stopped, grounding and a pause were offered; it waits in your queue.";
        q(".alert").classList.remove("hidden");
        ask(true);  // into the moments to review, with the rest
        break;
      case Kind.BACKDRAFT_EASED: q(".alert").textContent += " It has eased."; break;
      case Kind.ANNOTATION: {
        recent.notes.push({ t: m.t_s });
        const li = document.createElement("li");
        li.textContent = (m.t_s / 60).toFixed(1) + " min · " + m.author + ": " + m.text;
        q(".notes").append(li);
        break;
      }
      case Kind.PRESENCE: Object.assign(presence, { page: m.presence, paused: m.paused }); showPresence(); break;
      case Kind.PAUSED: presence.paused = m.paused; showPresence(); break;
      case Kind.SESSION_ENDED:
        end(m.reason === "left" ? "The session has ended: the client's page had gone." : "The session has ended.");
        break;
      case Kind.CLOSED:  // nothing more comes: no reconnecting
        if (!ended) end("The session has ended.");
        link.close();
        break;
    }
  }, (s) => {
    if (s === "ended" && !ended) end("The session has ended.");
    else if (!ended) q(".conn").textContent = statusText[s];
  });
  watching.set(sessionId, link);
  keepOpen(sessionId, true);
  q(".close").setAttribute("aria-label", "Close " + name + "'s room");
  q(".close").addEventListener("click", () => {
    link.close();
    watching.delete(sessionId);
    keepOpen(sessionId, false);
    room.remove();
    refresh();
  });
  room.querySelectorAll("[data-note]").forEach((b) => b.addEventListener("click",
    () => link.send({ type: Command.ANNOTATION, text: b.dataset.note })));
  q(".note").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = q(".note-text").value.trim();
    if (text) { link.send({ type: Command.ANNOTATION, text }); q(".note-text").value = ""; }
  });
  refresh();
}

me().then((person) => {
  if (person && person.role !== "clinician") { location.href = person.role === "admin" ? "/admin" : "/breathe"; return; }
  nav(person, "observe");
  startMoments();
  refresh();
  setInterval(refresh, 5000);
});
