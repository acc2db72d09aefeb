// The clinician's observation room: assigned clients, who is in a session now, and one or
// several live sessions side by side with the tachogram and pacer, the state timeline with
// shifts, unmissable backdraft alerts, and one-click notes.
"use strict";

const watching = new Map();
const colours = { threat: "#e8b49c", neutral: "#dfe4e2", soothing: "#a9d3d1", unknown: "#f2f2f2" };

async function refresh() {
  const [clients, sessions, health] = await Promise.all([Heartsease.api("/api/clients"), Heartsease.api("/api/sessions"),
                                                         Heartsease.api("/api/health")]);
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
    const live = sessions.find((s) => s.client_id === c.id && s.live);
    const li = document.createElement("li");
    li.innerHTML = "<span></span><span></span>";
    li.firstChild.textContent = c.name + " ";
    const trends = Object.assign(document.createElement("a"), { href: "/trends?client=" + c.id, textContent: "trends" });
    trends.setAttribute("aria-label", "Trends of " + c.name);
    li.firstChild.append(trends);
    if (live) {
      const b = document.createElement("button");
      b.type = "button"; b.className = "quiet";
      b.textContent = watching.has(live.id) ? "Watching" : "Watch the live session";
      b.disabled = watching.has(live.id);
      b.addEventListener("click", () => watch(live.id, c.name));
      li.lastChild.append(Object.assign(document.createElement("span"), { className: "live-dot", textContent: "● in a session  " }), b);
    } else {
      li.lastChild.textContent = "not in a session";
    }
    list.append(li);
  }
}

function watch(sessionId, name) {
  const room = document.getElementById("room").content.firstElementChild.cloneNode(true);
  room.dataset.session = sessionId;
  room.querySelector(".name").textContent = name;
  document.getElementById("rooms").append(room);
  const q = (s) => room.querySelector(s);
  const beats = [], pace = [], states = [], shifts = [], notes = [];
  let lastPlot = 0;
  const plot = () => {
    if (performance.now() - lastPlot < 700) return;
    lastPlot = performance.now();
    const recent = beats.slice(-400);
    const last = beats.length ? beats[beats.length - 1].t : 0;
    const paced = pace.length ? [...pace, { t: last, rate: pace[pace.length - 1].rate }] : [];
    Plotly.react(q(".tacho"), [
      { x: recent.map((b) => b.t / 60), y: recent.map((b) => b.hr), name: "heart rate", line: { color: "#2f7f86", width: 1.5 } },
      { x: paced.map((p) => p.t / 60), y: paced.map((p) => p.rate), name: "pacer (breaths/min)", yaxis: "y2",
        line: { color: "#7b5ea7", shape: "hv", width: 1.5 } },
    ], { margin: { l: 40, r: 40, t: 6, b: 28 }, showlegend: true, legend: { orientation: "h", y: 1.15 },
         xaxis: { ticksuffix: " min" }, yaxis: { title: { text: "bpm" } },
         yaxis2: { overlaying: "y", side: "right", range: [0, 14], showgrid: false },
         shapes: notes.map((n) => ({ type: "line", x0: n.t / 60, x1: n.t / 60, yref: "paper", y0: 0, y1: 1,
                                     line: { dash: "dot", color: "#555", width: 1 } })),
         paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)" },
      { displayModeBar: false, responsive: true });
    const end = beats.length ? beats[beats.length - 1].t : 0;
    Plotly.react(q(".timeline"), states.map((s, i) => ({
      x: [(s.t / 60), ((states[i + 1] ? states[i + 1].t : end) / 60)], y: [0, 0], mode: "lines",
      line: { color: colours[s.state], width: 22 }, name: s.state, hoverinfo: "name", showlegend: false })),
      { margin: { l: 40, r: 40, t: 4, b: 20 }, yaxis: { visible: false }, xaxis: { ticksuffix: " min" },
        shapes: shifts.map((s) => ({ type: "line", x0: s.onset_s / 60, x1: s.onset_s / 60, yref: "paper", y0: 0, y1: 1,
                                     line: { color: s.direction.endsWith("soothing") ? "#2f7f86" : "#a2542f", width: 2 } })),
        paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)" },
      { displayModeBar: false, responsive: true, staticPlot: true });
  };
  const link = Heartsease.live("/api/sessions/" + sessionId + "/live", function onMessage(m) {
    switch (m.kind) {
      case "hello":
        if (m.step) q(".step").textContent = m.step.title;
        if (!beats.length) {  // what happened before we came
          (m.recent || []).forEach(onMessage);
          if (m.metrics) onMessage(m.metrics);
          lastPlot = 0;
          plot();
        }
        break;
      case "step": q(".step").textContent = m.title; break;
      case "beat": beats.push({ t: m.t_s, hr: 60000 / m.rr_ms }); q(".hr").textContent = Math.round(60000 / m.rr_ms); plot(); break;
      case "pacer": pace.push({ t: m.t_s, rate: m.rate_bpm === null ? NaN : m.rate_bpm }); break;
      case "metrics":
        q(".rmssd").textContent = m.rmssd_ms === null ? "–" : Math.round(m.rmssd_ms);
        q(".coh").textContent = m.coherence_ratio === null ? "–" : m.coherence_ratio.toFixed(1);
        q(".br").textContent = m.breathing_rate_bpm === null ? "–" : m.breathing_rate_bpm.toFixed(1);
        break;
      case "state":
        states.push({ t: m.t_s, state: m.state });
        q(".state").dataset.state = m.state;
        q(".state").innerHTML = "<strong>" + Heartsease.stateWords[m.state] + "</strong> (" + m.reason + ")";
        break;
      case "shift": shifts.push(m); break;
      case "backdraft":
        q(".alert").textContent = "Possible backdraft at " + (m.t_s / 60).toFixed(1) +
          " min: a return to threat during practice. The pacer has slowed and a pause was offered.";
        q(".alert").classList.remove("hidden");
        break;
      case "backdraft-eased": q(".alert").textContent += " It has eased."; break;
      case "annotation": {
        notes.push({ t: m.t_s });
        const li = document.createElement("li");
        li.textContent = (m.t_s / 60).toFixed(1) + " min · " + m.author + ": " + m.text;
        q(".notes").append(li);
        break;
      }
      case "session-ended": case "closed": q(".step").textContent = "session ended"; break;
    }
  }, (s) => { q(".conn").textContent = Heartsease.statusText[s]; });
  watching.set(sessionId, link);
  room.querySelectorAll("[data-note]").forEach((b) => b.addEventListener("click",
    () => link.send({ type: "annotation", text: b.dataset.note })));
  q(".note").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = q(".note-text").value.trim();
    if (text) { link.send({ type: "annotation", text }); q(".note-text").value = ""; }
  });
  refresh();
}

Heartsease.me().then((me) => {
  if (me && me.role !== "clinician") { location.href = "/breathe"; return; }
  Heartsease.nav(me, "observe");
  refresh();
  setInterval(refresh, 5000);
});
