// Practising with the eyes closed: soft tones marking the in- and out-breath (Web Audio) and
// the cues spoken (the browser's speech synthesis), each optional and off by default. A tone
// is scheduled on the audio clock for the moment its part of the breath begins on the
// session clock (`sessionNow`, seconds; `speed` for a simulation run faster), so a message
// that arrives early or late still sounds on the breath.

const TONE_HZ = { inhale: 392, exhale: 294 };  // G4 rising in, D4 settling out
const TONE_S = 0.6, TONE_GAIN = 0.06;

export function eyesClosed(container, sessionNow, speed = 1) {
  let audio = null, tones = false, speech = false;
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
  toggle("Speak the cues aloud", (on) => { speech = on; if (!on) speechSynthesis.cancel(); });
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
      const utterance = new SpeechSynthesisUtterance(text);
      utterance.rate = 0.85;  // unhurried
      speechSynthesis.speak(utterance);
    },
  };
}
