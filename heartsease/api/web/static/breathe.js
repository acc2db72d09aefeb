// The client's breathing screen: a shape that grows on the in-breath, drawn every frame
// from the pacer's phase (anchored to the server's session clock, so a late message never
// makes it stutter), the heart's rhythm under it, and the cues as they come.

import { api, me, nav, stateWords } from "./common.js";
import { axis, chart, cssColour, paths } from "./charts.js";
import { live, statusText } from "./socket.js";
import { Command, Kind } from "./wire.js";
import * as practice from "./practice.js";  // issue 25's in-practice parts: the hook

const $ = (id) => document.getElementById(id);
const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
const params = new URLSearchParams(location.search);
let sessionId = null, link = null, paused = false;
// A simulated strap may run faster than real time (a demonstration, a test); the session
// clock then runs faster too, and so must the drawing.
const speed = Number(params.get("speed") || 1);

// The pacer, as the server describes it.
const pacer = { on: false, part: "inhale", startS: 0, partS: 4, rate: 6, inhale: 0.4, exhale: 0.6 };
let offsetS = null;  // local clock minus session clock: the smallest seen (least delayed)

function sessionNow() { return speed * performance.now() / 1000 - (offsetS || 0); }

function lungs() {
  if (!pacer.on) return 0.35;
  let part = pacer.part, start = pacer.startS, length = pacer.partS;
  const now = sessionNow();
  // No message yet for the next part: carry on with the pattern rather than stop.
  while (now > start + length && length > 0) {
    start += length;
    const cycle = 60 / pacer.rate;
    if (part === "inhale" || part === "hold-in") { part = "exhale"; length = cycle * pacer.exhale; }
    else { part = "inhale"; length = cycle * pacer.inhale; }
  }
  const p = Math.min(Math.max((now - start) / length, 0), 1);
  if (part === "inhale") return 0.5 - 0.5 * Math.cos(Math.PI * p);
  if (part === "exhale") return 0.5 + 0.5 * Math.cos(Math.PI * p);
  return part === "hold-in" ? 1 : 0;
}

function draw() {
  const canvas = $("shape"), g = canvas.getContext("2d");
  const value = lungs();
  canvas.dataset.lungs = value.toFixed(3);
  canvas.dataset.style = reducedMotion ? "bar" : "shape";
  g.clearRect(0, 0, canvas.width, canvas.height);
  const c = canvas.width / 2;
  if (reducedMotion) {  // a gentle filling bar instead of a moving shape
    g.fillStyle = "#e3ecea"; g.fillRect(40, c - 30, canvas.width - 80, 60);
    g.fillStyle = "#5f9ea0"; g.fillRect(40, c - 30, (canvas.width - 80) * value, 60);
  } else {
    const r = c * (0.38 + 0.52 * value);
    const gradient = g.createRadialGradient(c, c, r * 0.2, c, c, r);
    gradient.addColorStop(0, "rgba(143, 199, 196, 0.95)");
    gradient.addColorStop(1, "rgba(95, 158, 160, 0.55)");
    g.fillStyle = gradient;
    g.beginPath(); g.arc(c, c, r, 0, 2 * Math.PI); g.fill();
  }
  requestAnimationFrame(draw);
}

const partWords = { inhale: "Breathe in", "hold-in": "Hold gently", exhale: "Breathe out", "hold-out": "Rest" };
const RHYTHM_BEATS = 90;  // the last minute or so: all the rhythm chart shows, all that is kept
const beats = [];
let lastPlot = 0;

function plotRhythm() {
  const now = performance.now();
  if (now - lastPlot < 500) return;
  lastPlot = now;
  const data = [beats.map((b) => b.t), beats.map((b) => b.hr)];
  const element = $("rhythm");
  if (element.chart) { element.chart.setData(data); return; }
  chart(element, {
    heightPx: 144, legend: false, cursor: { show: false },
    series: [{}, { label: "heart rate", stroke: cssColour("soothing"), width: 2, paths: paths.spline,
                   points: { show: false } }],
    axes: [axis("seconds", { size: 30, labelSize: 0, label: null,
                             values: (u, splits) => splits.map((s) => s + " s") }),
           axis("bpm", { size: 40 })],
  }, data);
}

function onMessage(m) {
  if (typeof m.t_s === "number") {
    const candidate = speed * performance.now() / 1000 - m.t_s;
    if (offsetS === null || candidate < offsetS) offsetS = candidate;
  }
  switch (m.kind) {
    case Kind.HELLO:
      if (m.pacer) { pacer.on = true; pacer.rate = m.pacer.rate_bpm; }
      if (m.step) $("step").textContent = m.step.title;
      break;
    case Kind.STEP: $("step").textContent = m.title; addToTimeline(m.t_s, m.title); break;
    case Kind.ANNOTATION: addToTimeline(m.t_s, m.author + " noted: " + m.text); break;
    case Kind.PACER:
      pacer.on = m.rate_bpm !== null;
      if (pacer.on) { pacer.rate = m.rate_bpm; pacer.inhale = m.inhale_share; pacer.exhale = m.exhale_share; }
      else $("part").textContent = "Breathe however feels natural.";
      break;
    case Kind.PACER_PHASE:
      Object.assign(pacer, { on: true, part: m.part, startS: m.t_s, partS: m.part_s, rate: m.rate_bpm });
      $("part").textContent = partWords[m.part] || "";
      break;
    case Kind.CUE: $("cue").textContent = m.text; break;
    case Kind.BEAT:
      beats.push({ t: m.t_s, hr: 60000 / m.rr_ms });
      if (beats.length > RHYTHM_BEATS) beats.splice(0, beats.length - RHYTHM_BEATS);
      $("hr").textContent = Math.round(60000 / m.rr_ms);
      plotRhythm();
      break;
    case Kind.METRICS:
      $("coherence").textContent = m.coherence_ratio === null ? "–" : m.coherence_ratio.toFixed(1);
      $("breathing").textContent = m.breathing_rate_bpm === null ? "–" : m.breathing_rate_bpm.toFixed(1);
      setState(m.state);
      break;
    case Kind.STATE: setState(m.state); break;
    case Kind.PAUSED: paused = m.paused; $("pause").textContent = paused ? "Carry on" : "Pause"; break;
    case Kind.SESSION_ENDED: case Kind.CLOSED: finish(); break;
    case Kind.SOURCE_ERROR: $("cue").textContent = "The heart source stopped: " + m.detail; break;
  }
  practice.message(m);
}

function addToTimeline(tS, text) {
  const li = document.createElement("li");
  li.textContent = Math.floor(tS / 60) + ":" + String(Math.floor(tS % 60)).padStart(2, "0") + " · " + text;
  $("timeline").append(li);
}

function setState(state) {
  const el = $("state");
  el.dataset.state = state;
  el.innerHTML = state === "unknown" ? "Listening to your heart…"
    : "Your body seems <strong>" + stateWords[state] + "</strong>";
}

async function begin() {
  $("begin").disabled = true;
  try {
    const session = await api("/api/sessions", { method: "POST", json: {
      source: "simulated", scenario: "threat-then-soothe", protocol: "srb", stages: params.getAll("stage"),
      speed, practice_minutes: params.get("practice") ? Number(params.get("practice")) : null,
    } });
    sessionId = session.id;
    $("before").classList.add("hidden");
    $("during").classList.remove("hidden");
    await practice.started(sessionId, (m) => link.send(m), speed, sessionNow);
    link = live("/api/sessions/" + sessionId + "/live", onMessage,
                (s) => { $("status").textContent = statusText[s]; $("status").dataset.state = s; });
    requestAnimationFrame(draw);
  } catch (e) {
    $("error").textContent = e.message;
    $("begin").disabled = false;
  }
}

let finished = false;
async function finish() {
  if (finished) return;
  finished = true;
  if (link) link.close();
  $("during").classList.add("hidden");
  $("after").classList.remove("hidden");
  await practice.closing($("after"));
}

$("begin").addEventListener("click", begin);
$("pause").addEventListener("click", () => link.send({ type: paused ? Command.RESUME : Command.PAUSE }));
$("end").addEventListener("click", () => link.send({ type: Command.STOP }));
me().then((person) => {
  if (person && person.role === "clinician") { location.href = "/observe"; return; }
  if (person) { nav(person, "breathe"); practice.prepare(); }
});
