// The in-practice parts of compassion-focused practice, as one hook for the breathing page
// (breathe.js calls prepare, planned, started, message and closing; nothing else of it changes):
// - what the clinician's plan says, before and during practice: its title and length; quiet
//   by default (the pacer, the cues and the heart as a gentle line); state words only when
//   the plan turns them on, and then described by what they do; numbers only when it turns
//   them on; no heart line when the plan is the pacer and cues only;
// - "This is a lot", always within reach: the guide stops and grounds at once; "When you're
//   ready" carries on; a gentle check-in at the end, whose words go to the clinician only
//   if sent;
// - the letter's workspace and read-back, the guide fading as the rhythm is kept inside;
// - ratings that need a touch or a skip; breathing safely, before and during practice;
// - one closing for everyone, with a reflection that is the client's own.

import { api } from "./common.js";
import { eyesClosed } from "./eyes-closed.js";
import { letterWorkspace, readBack, writing } from "./practice-letter.js";
import { ratingControl } from "./rating.js";
import { safetyNotes } from "./safety.js";
import { Command, Kind } from "./wire.js";

const $ = (id) => document.getElementById(id);
const STATE_BY_FUNCTION = {
  threat: "Your body seems to be working to protect you.",
  neutral: "Your body seems steady.",
  soothing: "Your body seems to be settling.",
  unknown: "Listening to your heart…",
};
const CLOSING_WORDS = "You gave yourself this time. What did you notice?";
const CRITIC = { question: "How harsh is your inner critic right now?", low: "gentle", high: "harsh" };

let plan = null, send = null, sessionId = null, speed = 1, letter = null, voice = null;
let before = null, hadALot = false, lastCue = { t_s: null, text: "" };

function element(tag, props = {}) { return Object.assign(document.createElement(tag), props); }

// Before the session: the plan, breathing safely (open before the first practice), and the
// inner-critic rating that needs a touch or a skip.
export async function prepare() {
  plan = await api("/api/me/plan");
  $("before-title").textContent = plan.title;
  const pace = plan.protocol === "resonance" ? ""
    : ", at " + number(plan.pace_bpm) + " breaths a minute (" + breathWords(plan.pattern) + ")";
  $("before-length").textContent = "About " + minutesWords(plan.minutes) + pace + ". There is nothing to get right, and you can pause or stop at any time.";
  const first = (await api("/api/sessions?limit=1")).length === 0;
  await safetyNotes($("before"), { open: first });
  $("critic-before").before(paceChoice());
  ratingControl($("critic-before"), Object.assign({ onGiven: (value) => { before = value; } }, CRITIC));
}

const number = (x) => String(Number(x.toFixed(2)));

// One breath as the plan shapes it: "in 4, hold 1, out 6, rest 2".
function breathWords(p) {
  return ["in " + number(p.inhale), p.hold_in > 0 ? "hold " + number(p.hold_in) : null,
    "out " + number(p.exhale), p.hold_out > 0 ? "rest " + number(p.hold_out) : null].filter(Boolean).join(", ");
}

function minutesWords(minutes) {
  const whole = Math.max(1, Math.round(minutes));
  return whole === 1 ? "a minute" : whole + " minutes";
}

// The client's plan, as the server gave it before the session.
export function planned() { return plan; }

// The client's own pace, nudged within the limits their clinician set with them (half a
// breath a minute at a time); "your usual pace" is their resonance rate, or 6 a minute.
function paceChoice() {
  const box = element("div", { className: "pace-choice" });
  const select = element("select", { id: "pace" });
  select.append(new Option("Your usual pace", ""));
  for (let bpm = plan.min_pace_bpm; bpm <= plan.max_pace_bpm + 1e-9; bpm += 0.5) {
    select.append(new Option(bpm.toFixed(1).replace(/\.0$/, "") + " breaths a minute", String(bpm)));
  }
  select.value = plan.chosen_pace_bpm === null ? "" : String(plan.chosen_pace_bpm);
  const note = element("p", { className: "status" });
  note.setAttribute("aria-live", "polite");
  select.addEventListener("change", async () => {
    try {
      plan = await api("/api/me/pace", { method: "PUT", json: { pace_bpm: select.value === "" ? null : Number(select.value) } });
      note.textContent = "The guide will breathe at this pace.";
    } catch (e) { note.textContent = e.message; }
  });
  box.append(element("label", { htmlFor: "pace", textContent: "Your breathing pace. If it feels too slow or too fast, you can change it a little, within the limits you agreed with your clinician." }),
             select, note);
  return box;
}

// Whether the inner-critic rating before the session was given (a value, or "skipped").
export function ratedBefore() { return before !== null; }

// The session has begun: `sendCommand` sends on its live connection, `sessionNow` tells the
// session's time as the page keeps it.
export async function started(id, sendCommand, simulatedSpeed, sessionNow, pacer = null) {
  sessionId = id; send = sendCommand; speed = simulatedSpeed;
  shownState = null; candidate = null;  // this session's words from its first estimate
  if (before !== null) {
    await api("/api/sessions/" + id + "/ratings", { method: "POST", json: { scale: "inner-critic", value: before } });
  }
  const during = $("during");
  // State words and numbers, each as the plan says; shown at once when it turns them on.
  const fold = $("state").closest("details");
  $("state").classList.toggle("hidden", !plan.states_shown);
  fold.querySelector(".numbers").classList.toggle("hidden", !plan.numbers_shown);
  fold.querySelector("#numbers-hint").classList.toggle("hidden", !plan.numbers_shown);
  fold.classList.toggle("hidden", !plan.states_shown && !plan.numbers_shown);
  fold.open = plan.states_shown || plan.numbers_shown;
  fold.querySelector("summary").textContent = "Your heart in " +
    (plan.states_shown && plan.numbers_shown ? "words and numbers" : plan.states_shown ? "words" : "numbers");
  if (!plan.heart_feedback) $("rhythm").closest(".card").classList.add("hidden");
  const care = element("div", { className: "card practice-care" });
  const lot = element("button", { type: "button", id: "this-is-a-lot", className: "quiet", textContent: "This is a lot" });
  lot.addEventListener("click", () => send({ type: Command.THIS_IS_A_LOT }));
  const ready = element("button", { type: "button", id: "ready", className: "hidden", textContent: "I'm ready to carry on" });
  ready.addEventListener("click", () => send({ type: Command.RESUME }));
  const safety = element("div");
  const ears = element("div", { className: "eyes-closed" });
  care.append(lot, ready, ears, safety);
  during.querySelector(".card").after(care);
  const workspace = element("section", { id: "workspace", className: "card hidden" });
  care.after(workspace);
  voice = eyesClosed(ears, sessionNow, speed, pacer);
  await safetyNotes(safety);
}

// The words about the body change only once a new estimate has held a while: a person
// reading them should not see them flip with every 5-s update (a demo's minutes 4-5 read
// "protect you", "steady", "listening" and "settling" within one minute). A moment of not
// knowing, under a minute, keeps the last words.
const WORDS_HOLD_S = 15, UNKNOWN_HOLD_S = 60;
let shownState = null, candidate = null, candidateSince = 0;
export function steadyState(state, tS) {
  if (shownState === null || state === shownState) {
    shownState = state; candidate = null;
    return shownState;
  }
  if (state !== candidate) { candidate = state; candidateSince = tS; }
  if (tS - candidateSince >= (state === "unknown" ? UNKNOWN_HOLD_S : WORDS_HOLD_S)) {
    shownState = state; candidate = null;
  }
  return shownState;
}

// Every message of the session, after the page has taken it.
export function message(m) {
  switch (m.kind) {
    case Kind.STEP: return step(m);
    case Kind.STATE: case Kind.METRICS:
      if (plan.states_shown) $("state").textContent = STATE_BY_FUNCTION[steadyState(m.state, m.t_s)] || STATE_BY_FUNCTION.unknown;
      return;
    case Kind.BACKDRAFT:
      hadALot = true;
      $("ready").classList.remove("hidden");
      $("this-is-a-lot").classList.add("hidden");
      $("part").textContent = "The guide has stopped. You can open your eyes.";
      return;
    case Kind.BACKDRAFT_EASED:
      $("ready").classList.add("hidden");
      $("this-is-a-lot").classList.remove("hidden");
      return;
    case Kind.PACER_PHASE: voice.phase(m.part, m.t_s); return;
    case Kind.CUE:
      // Cues said together (grounding, and an offer to pause) stay together on the screen.
      if (m.t_s === lastCue.t_s) $("cue").textContent = lastCue.text + " " + m.text;
      lastCue = { t_s: m.t_s, text: $("cue").textContent };
      voice.say(m.text, m.t_s);
      return;
  }
}

async function step(m) {
  const shape = $("shape"), workspace = $("workspace");
  shape.style.transition = "";
  shape.style.opacity = "1";
  if (m.pacer_fade) {  // the guide fades across the step: the rhythm is kept from inside
    requestAnimationFrame(() => {
      shape.style.transition = "opacity " + (m.seconds / speed) + "s linear";
      shape.style.opacity = "0";
    });
  }
  if (m.workspace === "letter") { letter = await letterWorkspace(workspace, sessionId, m.prompts); return; }
  if (letter !== null && m.name.endsWith("read-back")) { readBack(workspace, letter); return; }
  workspace.classList.add("hidden");
}

// The session `id` is over: one closing for everyone (`words`: its first line, then what the
// session's record says, such as its minutes), a reflection of their own, the inner-critic
// rating again, a check-in if something was a lot, and the gentle report. Its id is given
// again: a session ended from the page's "still running" offer was never started here.
export async function closing(container, id, words = [CLOSING_WORDS]) {
  sessionId = id;
  if (voice) voice.stop();
  container.innerHTML = "";
  container.append(element("h1", { id: "after-title", textContent: words[0] }));
  for (const line of words.slice(1)) container.append(element("p", { textContent: line }));
  const reflection = writing("reflection", sessionId);
  const label = element("label", { htmlFor: "reflection", textContent: "If you like, a few words for yourself. They are yours, and private unless you share them." });
  const area = element("textarea", { id: "reflection", rows: 4 });
  const saved = element("p", { className: "status" });
  saved.setAttribute("aria-live", "polite");
  area.addEventListener("input", async () => { saved.textContent = "Saving…"; await reflection.change("text", area.value); saved.textContent = "Saved."; });
  container.append(label, area, saved);
  ratingControl(container, Object.assign({}, CRITIC, {
    question: "How harsh is your inner critic now?",
    onGiven: (value) => api("/api/sessions/" + sessionId + "/ratings", { method: "POST", json: { scale: "inner-critic", value } }),
  }));
  if (hadALot) container.append(checkIn());
  const links = element("p", { id: "links" });
  links.append(element("a", { href: "/report?session=" + sessionId, textContent: "Your session, in your words" }), " · ",
               element("a", { href: "/trends", textContent: "Your practice over time" }), " · ",
               element("a", { href: "/systems", textContent: "The three systems" }), " · ",
               element("a", { href: "/safety", textContent: "Breathing safely" }));
  container.append(links);
}

function checkIn() {
  const box = element("div", { className: "check-in" });
  const label = element("label", { htmlFor: "check-in", textContent: "Earlier, things felt like a lot. How are you now? If you like, you can send a few words to your clinician." });
  const area = element("textarea", { id: "check-in", rows: 3 });
  const sendWords = element("button", { type: "button", className: "quiet", textContent: "Send to my clinician" });
  const note = element("p", { className: "status" });
  note.setAttribute("aria-live", "polite");
  sendWords.addEventListener("click", async () => {
    if (!area.value.trim()) return;
    await api("/api/sessions/" + sessionId + "/check-in", { method: "POST", json: { words: area.value } });
    note.textContent = "Sent. Your clinician will see it.";
  });
  box.append(label, area, sendWords, note);
  return box;
}
