// Practising with the eyes closed: soft tones marking the in- and out-breath (Web Audio) and
// the cues spoken, each optional and off by default. A cue the client's clinician recorded
// in their own voice is played from that recording; any other is read by the browser's
// speech synthesis. Cues are said one after another, never over each other. A tone is
// scheduled on the audio clock, a moment ahead, for when its part of the breath begins on the
// session clock (`sessionNow`, seconds; `speed` for a simulation run faster) as the page's
// own pacer (`pacer`) tells it: a message that comes late (a busy phone, Wi-Fi) cannot make
// the tone late. The session's own phase messages only start a fresh pacer's first tone.

import { api } from "./common.js";

const SPEECH_RATE = 0.85;  // unhurried
// Some browsers never tell when an utterance ends: the next cue waits at most as long as
// the words take at a slow speaking pace (2 words a second), and a second more.
const WORDS_PER_S = 2;
const TONE_HZ = { inhale: 392, exhale: 294 };  // G4 rising in, D4 settling out
const TONE_S = 0.6, TONE_GAIN = 0.06;
// Tones are set this far ahead (real seconds), looked for this often; one part's tone is
// set once, whether the page's pacer or a message asks first.
const AHEAD_S = 0.3, LOOK_EVERY_MS = 50, SAME_TONE_S = 0.15;
// A tone that could only sound this late (a fresh pacer's first in-breath, told by a message
// that came late) is left out: a tone off the breath misleads more than one missing, and the
// next is set ahead, on time.
const TOO_LATE_S = 0.04;
// A cue is said only while it is fresh (real seconds since its session time) and only once:
// a rejoin's story so far (a dropped link, the first join after Begin) repeats cues, and an
// old one read out again would be off the moment, or said twice.
const FRESH_CUE_S = 5;

// A cue read by the browser, done when it has been said.
function spoken(text) {
  return new Promise((resolve) => {
    const utterance = new SpeechSynthesisUtterance(text);
    utterance.rate = SPEECH_RATE;
    utterance.onend = utterance.onerror = resolve;
    setTimeout(resolve, (text.split(/\s+/).length / WORDS_PER_S + 1) * 1000);
    speechSynthesis.speak(utterance);
  });
}

export function eyesClosed(container, sessionNow, speed = 1, pacer = null) {
  let audio = null, tones = false, speech = false, playing = null, recentTones = [];
  let said = Promise.resolve(), voiced = new Map(), saidCues = new Set();
  // A recording in the clinician's voice, done when it has played (or could not play).
  const played = (url) => new Promise((resolve) => {
    playing = new Audio(url);
    playing.addEventListener("ended", resolve);
    playing.addEventListener("error", resolve);
    playing.play().catch(resolve);
  });
  const toggle = (text, onChange) => {
    const label = document.createElement("label");
    const box = Object.assign(document.createElement("input"), { type: "checkbox" });
    box.addEventListener("change", () => onChange(box.checked));
    label.append(box, " " + text);
    container.append(label);
  };
  toggle("Soft tones for the in- and out-breath", (on) => {
    tones = on;
    if (on && audio === null) audio = new AudioContext();
  });
  toggle("Speak the cues aloud", async (on) => {
    speech = on;
    if (on) {
      voiced = new Map((await api("/api/me/voice")).map((r) => [r.text, r.url]));
    } else {
      speechSynthesis.cancel();
      if (playing) playing.pause();
      said = Promise.resolve();
    }
  });
  // A tone for `part` beginning at session time `atS`, once.
  const tone = (part, atS) => {
    if (!tones || !(part in TONE_HZ) || (sessionNow() - atS) / speed > TOO_LATE_S) return;
    // The last few, not the last one: at 20x the page sets the next part's tone before the
    // message of the part before it, late on a busy machine, has come.
    if (recentTones.some((t) => t.part === part && Math.abs(t.atS - atS) / speed < SAME_TONE_S)) return;
    recentTones = recentTones.slice(-3).concat([{ part, atS }]);
    const now = audio.currentTime + Math.max((atS - sessionNow()) / speed, 0);
    const osc = audio.createOscillator(), gain = audio.createGain();
    osc.frequency.value = TONE_HZ[part];
    gain.gain.setValueAtTime(0, now);
    gain.gain.linearRampToValueAtTime(TONE_GAIN, now + 0.08);
    gain.gain.linearRampToValueAtTime(0, now + TONE_S);
    osc.connect(gain).connect(audio.destination);
    osc.start(now);
    osc.stop(now + TONE_S);
  };
  let looking = null;
  if (pacer !== null) {
    looking = setInterval(() => {
      const next = tones ? pacer.nextPart(sessionNow()) : null;
      if (next !== null && (next.t_s - sessionNow()) / speed <= AHEAD_S) tone(next.part, next.t_s);
    }, LOOK_EVERY_MS);
  }
  return {
    phase(part, atS) { tone(part, atS); },
    // The session is over: no more tones (a cue being said is let finish).
    stop() { clearInterval(looking); tones = false; },
    say(text, atS) {
      const key = atS + " " + text;
      if (!speech || saidCues.has(key) || (sessionNow() - atS) / speed > FRESH_CUE_S) return;
      saidCues.add(key);
      const url = voiced.get(text);
      said = said.then(() => (speech ? (url ? played(url) : spoken(text)) : null));
    },
  };
}
