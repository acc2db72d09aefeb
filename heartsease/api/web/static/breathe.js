// The client's breathing page: whose heartbeat to follow (their own strap, the clinic's, or a
// demo heart), the session itself (a shape that grows on the in-breath, drawn every frame
// from the pacer's phase on the server's session clock: pacer.js, the same function as the
// server's pacer, holds included; the cues, the heart's rhythm), and the closing words once
// the session's record is written. What is practised is the client's plan, which the server
// applies: the page names no protocol. A session that is still running when the page opens
// (a reload, Back, another tab) is offered back.

import { api, me, nav, stateWords } from "./common.js";
import { axis, chart, cssColour, paths } from "./charts.js";
import { live, statusText } from "./socket.js";
import { Command, Kind } from "./wire.js";
import { ownStrap } from "./strap.js";
import { PacerFollower } from "./pacer.js";
import * as practice from "./practice.js";  // issue 25's in-practice parts: the hook

const $ = (id) => document.getElementById(id);
const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
const params = new URLSearchParams(location.search);
const SCREENS = ["loading", "resume", "before", "during", "after"];
// A demo heart may run faster than real time (a demonstration, a test); the session clock
// then runs faster too, and so must the drawing. Kept per session, for the tab that comes back.
const SPEED_KEY = "heartsease.speed.";
const DEMO_SCENARIO = "threat-then-soothe";  // the demo heart's first offer: a change to see
const ASSESSMENT_SCENARIO = "resonance-sweep";
const RECORD_WAIT_MS = 500, RECORD_TRIES = 60;  // the record is written moments after the end

let session = null, link = null, paused = false, finished = false, resumeOnJoin = false;
let speed = 1, person = null, backdraft = false;

// One screen at a time, from its top (Begin sits low on a phone: practice starts at the top).
function show(screen) {
  for (const id of SCREENS) $(id).classList.toggle("hidden", id !== screen);
  window.scrollTo(0, 0);
}

// -- the breathing guide ---------------------------------------------------------------------

const pacer = new PacerFollower();
let offsetS = null;  // local clock minus session clock: the smallest seen (least delayed)

function sessionNow() { return speed * performance.now() / 1000 - (offsetS || 0); }

// Without a pacer the shape is never still: a slight, slow swell, too small to be followed.
function freeBreath() { return 0.35 + 0.04 * Math.sin(2 * Math.PI * performance.now() / 9000); }

const partWords = { inhale: "Breathe in", "hold-in": "Hold gently", exhale: "Breathe out", "hold-out": "Rest" };
const FREE_WORDS = "Breathe however feels natural.";
let shownPart = null;

// The shape, and the words of the part of the breath, from the pacer's phase now.
function lungs() {
  const phase = backdraft ? null : pacer.phase(sessionNow());
  const words = phase === null ? FREE_WORDS : partWords[phase.part];
  if (!backdraft && words !== shownPart) { $("part").textContent = words; shownPart = words; }
  setData($("shape"), "part", phase === null ? "" : phase.part);
  setData($("shape"), "rate", phase === null ? "" : phase.rate_bpm.toFixed(2));
  return phase === null ? freeBreath() : phase.lungs;
}

// Only what changed is written: an attribute written every frame restyles the page every frame.
function setData(element, key, value) {
  if (element.dataset[key] !== value) element.dataset[key] = value;
}

// A slow breath moves the shape's edge less than a pixel a frame: it is painted when it has
// moved half a pixel, at most 30 times a second. Painting all 60 frames a second kept
// a phone's processor (and a test machine's) a quarter busy for a change no eye can see.
const PAINT_EVERY_MS = 1000 / 30, PAINT_STEP = 0.5 / (0.52 * 220);  // of the lungs' 0..1
let painted = { lungs: -1, style: "", atMs: -Infinity };

function draw(nowMs) {
  if (!finished) requestAnimationFrame(draw);
  const canvas = $("shape"), value = lungs();
  const style = reducedMotion ? "bar" : "shape";
  if (style === painted.style && (nowMs - painted.atMs < PAINT_EVERY_MS ||
                                  Math.abs(value - painted.lungs) < PAINT_STEP)) return;
  painted = { lungs: value, style, atMs: nowMs };
  setData(canvas, "lungs", value.toFixed(3));
  setData(canvas, "style", style);
  const g = canvas.getContext("2d");
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
}

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

// -- what the session says -------------------------------------------------------------------

function hello(m) {
  if (m.step) $("step").textContent = m.step.title;
  pacer.hello(m);
  // The story so far: the steps, cues and notes before this page came (a reload, a new tab).
  $("timeline").replaceChildren();
  for (const earlier of m.recent || []) onMessage(earlier);
  if (m.metrics) onMessage(m.metrics);
  setPaused(m.paused);
  if (resumeOnJoin && m.paused) link.send({ type: Command.RESUME });
  resumeOnJoin = false;
}

function onMessage(m) {
  if (typeof m.t_s === "number" && m.kind !== Kind.HELLO) {
    const candidate = speed * performance.now() / 1000 - m.t_s;
    if (offsetS === null || candidate < offsetS) offsetS = candidate;
  }
  switch (m.kind) {
    case Kind.HELLO: hello(m); break;
    case Kind.STEP: $("step").textContent = m.title; addToTimeline(m.t_s, m.title); break;
    case Kind.ANNOTATION: addToTimeline(m.t_s, m.author + " noted: " + m.text); break;
    case Kind.PACER: case Kind.PACER_PHASE: pacer.message(m); break;
    case Kind.BACKDRAFT: backdraft = true; break;  // practice.js says the guide has stopped
    case Kind.BACKDRAFT_EASED: backdraft = false; shownPart = null; break;
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
    case Kind.PAUSED: setPaused(m.paused); break;
    case Kind.SESSION_ENDED: case Kind.CLOSED: finish(); break;
    case Kind.SOURCE_ERROR: $("cue").textContent = "The heart source stopped: " + m.detail; break;
  }
  practice.message(m);
}

function setPaused(value) {
  paused = Boolean(value);
  $("pause").textContent = paused ? "Carry on" : "Pause";
  $("paused-note").classList.toggle("hidden", !paused);
}

function addToTimeline(tS, text) {
  const li = document.createElement("li");
  li.textContent = Math.floor(tS / 60) + ":" + String(Math.floor(tS % 60)).padStart(2, "0") + " · " + text;
  $("timeline").append(li);
}

function setState(state) {
  const el = $("state");
  el.dataset.state = state;
  el.textContent = state === "unknown" ? "Listening to your heart…" : "Your body seems " + stateWords[state];
}

// -- beginning, carrying on, ending ------------------------------------------------------------

const chosenSource = () => (document.querySelector("input[name=source]:checked") || {}).value;

// The plan decides what is practised; a demonstration's address may shorten the practice
// or name stages (?practice=1&stage=safe-place).
function startBody(choice) {
  const practice = params.get("practice") ? Number(params.get("practice")) : null;
  const stages = params.getAll("stage");
  const common = { practice_minutes: practice, stages: stages.length ? stages : null };
  if (choice === "own") return { ...common, source: "remote" };
  if (choice === "clinic") return { ...common, source: "strap", device: $("device").value.trim() };
  return { ...common, source: "simulated", scenario: $("scenario").value,
           speed: Number(params.get("speed") || 1) };
}


async function begin() {
  const choice = chosenSource();
  if (!practice.ratedBefore()) {
    $("error").textContent = "Choose how harsh your inner critic is, or skip the question.";
    return;
  }
  if (choice === "clinic" && !$("device").value.trim()) {
    $("error").textContent = "Write the name of the clinic's strap (it is on the strap or its box).";
    return;
  }
  $("begin").disabled = true;
  $("error").textContent = "";
  try {
    // "My strap": Chrome shows its strap chooser only inside a click, so it comes first.
    const strap = choice === "own" ? await ownStrap.pair() : null;
    const body = startBody(choice);
    session = await api("/api/sessions", { method: "POST", json: body });
    if (strap) await ownStrap.stream(strap, session.id, person.id);
    localStorage.setItem(SPEED_KEY + session.id, String(body.speed || 1));
    await join(false);
  } catch (e) {
    $("error").textContent = e.message;
    $("begin").disabled = false;
  }
}

async function join(carryOn) {
  speed = Number(localStorage.getItem(SPEED_KEY + session.id) || 1);
  resumeOnJoin = carryOn;
  show("during");
  $("demo-note").textContent = session.demo
    ? "A demo heart, not yours: this practice stays out of your trends." : "";
  await practice.started(session.id, (m) => link.send(m), speed, sessionNow, pacer);
  link = live("/api/sessions/" + session.id + "/live", onMessage,
              (s) => { $("status").textContent = statusText[s]; $("status").dataset.state = s; });
  requestAnimationFrame(draw);
}

function offerBack(running) {
  session = running;
  const at = new Date(running.started_at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  $("resume-words").textContent = "You began it at " + at +
    (running.demo ? ", with a demo heart" : "") + ". You can carry on where it is, or end it now.";
  show("resume");
}

async function endIt() {
  $("end-it").disabled = true;
  try {
    await api("/api/sessions/" + session.id + "/stop", { method: "POST" });
    finish();
  } catch (e) {
    $("resume-error").textContent = e.message;
    $("end-it").disabled = false;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// The session as stored once its record is written (it is "active" until then).
async function storedRecord(id) {
  for (let i = 0; i < RECORD_TRIES; i += 1) {
    const stored = await api("/api/sessions/" + id);
    if (stored.status !== "active") return stored;
    await sleep(RECORD_WAIT_MS);
  }
  return null;
}

// The closing words: the same for everyone, nothing here a score.
function closingWords(stored) {
  if (stored && stored.status === "left") {
    return ["This session ended while you were away, so it is not counted as practice.",
            "You can begin again whenever you like."];
  }
  const words = ["You gave yourself this time. What did you notice?"];
  if (!stored) return [...words, "Your session is still being written down; it will be with your practice soon."];
  if (stored.protocol === "resonance") words.push("What it found goes to your clinician, who will look at it with you.");
  if (stored.demo) words.push("This was a demo heart, not yours, so it stays out of your trends.");
  return words;
}

async function finish() {
  if (finished) return;
  finished = true;
  if (link) link.close();
  ownStrap.ended();
  show("after");
  await practice.closing($("after"), session.id, closingWords(await storedRecord(session.id)));
}

// -- the page as it opens --------------------------------------------------------------------

function offerSources(sources) {
  for (const name of sources.scenarios) {
    $("scenario").append(Object.assign(document.createElement("option"),
      { value: name, textContent: name.replaceAll("-", " "), selected: name === DEMO_SCENARIO }));
  }
  $("clinic-choice").classList.toggle("hidden", !sources.clinic_strap);
  const first = "bluetooth" in navigator ? "own" : sources.clinic_strap ? "clinic" : "demo";
  document.querySelector("input[name=source][value=" + first + "]").checked = true;
  const choose = () => {
    $("clinic-detail").classList.toggle("hidden", chosenSource() !== "clinic");
    $("demo-detail").classList.toggle("hidden", chosenSource() !== "demo");
  };
  document.querySelectorAll("input[name=source]").forEach((r) => r.addEventListener("change", choose));
  choose();
}

$("begin").addEventListener("click", begin);
$("carry-on").addEventListener("click", () => join(true));
$("end-it").addEventListener("click", endIt);
$("pause").addEventListener("click", () => link.send({ type: paused ? Command.RESUME : Command.PAUSE }));
$("end").addEventListener("click", () => link.send({ type: Command.STOP }));
// Back to this page from another keeps the old page in memory: ask the server again.
window.addEventListener("pageshow", (e) => { if (e.persisted) location.reload(); });

// A session on this browser's strap whose page went away: its strap is reconnected inside a
// click (strap.js offers the button), then the session is followed again.
async function followAfterReconnect(id) {
  session = await api("/api/sessions/" + id);
  await join(true);
}

me().then(async (signedIn) => {
  person = signedIn;
  if (!person) return;
  if (person.role !== "client") { location.href = person.role === "clinician" ? "/observe" : "/admin"; return; }
  nav(person, "breathe");
  const [sources, running] = await Promise.all([api("/api/sources"), api("/api/sessions/running")]);
  offerSources(sources);
  await practice.prepare();
  // The assessment's demo heart: a steady person whose resonance the simulator knows (the
  // first offer's change of state over the session would favour its later, slower rates).
  if (practice.planned().protocol === "resonance") $("scenario").value = ASSESSMENT_SCENARIO;
  if (running) offerBack(running); else show("before");
  ownStrap.offer(person, followAfterReconnect, sources.clinic_strap);
});
