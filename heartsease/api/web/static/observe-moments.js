// The observation room's moments to review: every assigned client's moments that were a lot
// (the body's sudden return to alarm, or the client's own "This is a lot"), as they happen
// and after the session, each with what preceded it, the body's change and the words the
// client chose to send at the check-in; the tab's title counts those waiting, and a soft
// sound (off unless chosen) marks a new one.
//
// Live by asking every few seconds with the last answer's ETag: while nothing changed the
// server answers 304 without reading anyone's data (nor logging a read).

import { api, request, signed } from "./common.js";

const ASK_EVERY_MS = 3000;
const TITLE = document.title;
const SOUND_KEY = "heartsease.moment-sound";
const $ = (id) => document.getElementById(id);

let tag = null, seen = null, audio = null, asking = null;

const minutes = (s) => (s / 60).toFixed(1) + " min";
// A session with the demo heart is the simulator's heart, not the client's: said wherever
// a clinician might read it as theirs.
export const DEMO_WORDS = "A demo heart, not theirs.";
const at = (iso) => new Date(iso).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });

function what(m) {
  return m.raised_by === "client" ? "said \u201cThis is a lot\u201d"
    : "had a possible backdraft: a sudden rise in arousal";
}

function before(m) {
  const items = (m.preceded_by || []).map((p) => (p.kind === "step" ? "the step " : p.kind === "cue" ? "the cue " : "a note ") +
    "\u201c" + p.label + "\u201d (" + minutes(p.at_s) + ")");
  return items.length ? "Before it: " + items.join("; ") + "." : "Before it: nothing marked in the minute before.";
}

function body(m) {
  const parts = [];
  if (m.delta_hr_bpm !== null && m.delta_hr_bpm !== undefined) parts.push("heart rate " + signed(m.delta_hr_bpm, 0) + " beats/min");
  if (m.delta_ln_rmssd !== null && m.delta_ln_rmssd !== undefined) parts.push("ln RMSSD " + signed(m.delta_ln_rmssd, 2));
  return parts.length ? "The body, from just before: " + parts.join(", ") + "." : "The body's change could not be measured.";
}

function item(m, onReviewed) {
  const li = document.createElement("li");
  li.dataset.moment = m.id;
  li.className = m.reviewed_at ? "reviewed" : "";
  const head = document.createElement("p");
  head.append(Object.assign(document.createElement("strong"), { textContent: m.client_name }),
    " " + what(m) + ", " + minutes(m.t_s) + " into the session of " + at(m.session_started_at) +
    (m.step ? " (during " + m.step.replace(/-/g, " ") + ")" : "") + "." +
    (m.session_demo ? " " + DEMO_WORDS : ""));
  const words = Object.assign(document.createElement("p"), {
    className: m.check_in ? "words" : "",
    textContent: m.check_in ? "Their words at the check-in: \u201c" + m.check_in + "\u201d"
      : "No words from the check-in (yet).",
  });
  const actions = document.createElement("p");
  actions.className = "actions";
  const report = Object.assign(document.createElement("a"), { href: "/report?session=" + m.session_id, textContent: "The session's report" });
  report.setAttribute("aria-label", "The report of " + m.client_name + "'s session of " + at(m.session_started_at));
  actions.append(report);
  if (m.reviewed_at) {
    actions.append("Reviewed " + at(m.reviewed_at) + ".");
  } else {
    const button = Object.assign(document.createElement("button"), { type: "button", className: "quiet", textContent: "Mark reviewed" });
    button.setAttribute("aria-label", "Mark " + m.client_name + "'s moment at " + minutes(m.t_s) + " reviewed");
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        await api("/api/clinician/backdrafts/" + m.id + "/reviewed", { method: "POST" });
        onReviewed();
      } catch (e) {
        button.disabled = false;
        button.textContent = "Mark reviewed (" + e.message + ")";
      }
    });
    actions.append(button);
  }
  li.append(head, Object.assign(document.createElement("p"), { textContent: before(m) }),
    Object.assign(document.createElement("p"), { textContent: body(m) }), words, actions);
  return li;
}

// A soft, short tone: low, quiet, rising in and fading out (no alarm bell in a therapy room).
function chime() {
  if (!audio) return;
  const now = audio.currentTime, tone = audio.createOscillator(), gain = audio.createGain();
  tone.type = "sine";
  tone.frequency.value = 523;
  gain.gain.setValueAtTime(0, now);
  gain.gain.linearRampToValueAtTime(0.06, now + 0.08);
  gain.gain.exponentialRampToValueAtTime(0.0001, now + 0.9);
  tone.connect(gain).connect(audio.destination);
  tone.start(now);
  tone.stop(now + 1);
}

function show(moments) {
  const waiting = moments.filter((m) => !m.reviewed_at), reviewed = moments.filter((m) => m.reviewed_at);
  const fresh = seen === null ? [] : waiting.filter((m) => !seen.has(m.id));
  seen = new Set(moments.map((m) => m.id));
  const again = () => ask(true);
  $("waiting").replaceChildren(...waiting.map((m) => item(m, again)));
  for (const m of fresh) $("waiting").querySelector("[data-moment='" + m.id + "']").classList.add("fresh");
  $("reviewed").replaceChildren(...reviewed.map((m) => item(m, again)));
  $("reviewed-count").textContent = reviewed.length;
  $("reviewed-box").classList.toggle("hidden", !reviewed.length);
  $("moments-none").classList.toggle("hidden", waiting.length > 0);
  document.title = (waiting.length ? "(" + waiting.length + ") " : "") + TITLE;
  if (fresh.length) chime();
}

// The queue, if it changed since the last answer (`now`: at once, and whatever the tag).
export async function ask(now = false) {
  if (asking && !now) return;
  const mine = (async () => {
    const response = await request("/api/clinician/backdrafts?show=all",
      { headers: tag && !now ? { "If-None-Match": tag } : {} });
    if (response.status === 304 || !response.ok) return;
    tag = response.headers.get("ETag");
    show(await response.json());
  })();
  asking = mine;
  try { await mine; } catch (e) { /* asked again in a few seconds */ } finally { if (asking === mine) asking = null; }
}

// The sound's choice is kept in this browser, and set up as the page loads (before the
// sign-in is checked), so that a click on it is never undone.
const sound = $("sound");
sound.checked = localStorage.getItem(SOUND_KEY) === "on";
const wake = () => { if (sound.checked && !audio) audio = new AudioContext(); };
sound.addEventListener("change", () => {
  localStorage.setItem(SOUND_KEY, sound.checked ? "on" : "off");
  wake();  // a click: the browser lets a page make sound from here on
  if (sound.checked) chime();  // so the clinician knows what it sounds like
});
// Browsers allow sound only after the person has touched the page.
document.addEventListener("pointerdown", wake, { once: true });

export function startMoments() {
  ask();
  setInterval(ask, ASK_EVERY_MS);
}
