// Practising with the eyes closed: soft tones marking the in- and out-breath (Web Audio) and
// the cues spoken, each optional and off by default. A cue the client's clinician recorded
// in their own voice is played from that recording; any other is read by the browser's
// speech synthesis. Cues are said one after another, never over each other. A tone is
// scheduled on the audio clock for the moment its part of the breath begins on the session
// clock (`sessionNow`, seconds; `speed` for a simulation run faster), so a message that
// arrives early or late still sounds on the breath.

import { api } from "./common.js";

const SPEECH_RATE = 0.85;  // unhurried
// Some browsers never tell when an utterance ends: the next cue waits at most as long as
// the words take at a slow speaking pace (2 words a second), and a second more.
const WORDS_PER_S = 2;
const TONE_HZ = { inhale: 392, exhale: 294 };  // G4 rising in, D4 settling out
const TONE_S = 0.6, TONE_GAIN = 0.06;

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

export function eyesClosed(container, sessionNow, speed = 1) {
  let audio = null, tones = false, speech = false, playing = null;
  let said = Promise.resolve(), voiced = new Map();
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
  return {
    phase(part, atS) {
      if (!tones || !(part in TONE_HZ)) return;
      const now = audio.currentTime + Math.max((atS - sessionNow()) / speed, 0);
      const osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = TONE_HZ[part];
      gain.gain.setValueAtTime(0, now);
      gain.gain.linearRampToValueAtTime(TONE_GAIN, now + 0.08);
      gain.gain.linearRampToValueAtTime(0, now + TONE_S);
      osc.connect(gain).connect(audio.destination);
      osc.start(now);
      osc.stop(now + TONE_S);
    },
    say(text) {
      if (!speech) return;
      const url = voiced.get(text);
      said = said.then(() => (speech ? (url ? played(url) : spoken(text)) : null));
    },
  };
}
