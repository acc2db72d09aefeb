"""Eyes closed (issue 25): soft tones on the in- and out-breath and the cues spoken, each
optional. Headless Chromium has no voices and no sound: the speech and audio objects are
stood in for, and the test checks the texts spoken and the tones' times against the
pacer's phases."""

from __future__ import annotations

from tests.e2e.test_pages import sign_in

SPEED = 20  # the quiet start in 6 s, then a breath a half-second
# Stand-ins that record what would be spoken and when each tone would start (the audio
# clock is the page's performance clock, in seconds), and every live message as the page
# gets it.
STAND_INS = """
window.__tones = []; window.__spoken = []; window.__messages = [];
const param = { setValueAtTime() {}, linearRampToValueAtTime() {} };
window.AudioContext = class {
  get currentTime() { return performance.now() / 1000; }
  get destination() { return {}; }
  createGain() { return { gain: param, connect: (next) => next }; }
  createOscillator() {
    const osc = { frequency: { value: 0 }, connect: (next) => next, stop() {},
                  start: (when) => window.__tones.push(
                    { hz: osc.frequency.value, at_ms: when * 1000 }) };
    return osc;
  }
};
Object.defineProperty(window, "speechSynthesis", { configurable: true,
  value: { speak: (u) => { window.__spoken.push(u.text); setTimeout(() => u.onend(), 0); },
           cancel() {} } });
window.SpeechSynthesisUtterance = function (text) { this.text = text; };
// A busy phone's network: each message handed to the page up to 150 ms late, in order (a
// late one holds back those behind it, as a WebSocket does: timers set for the same moment
// may fire out of order, so each waits for the one before), and recorded when the page
// gets it.
const Native = window.WebSocket;
window.WebSocket = class extends Native {
  constructor(...args) {
    super(...args);
    let handler = null, freeAt = 0, delivered = Promise.resolve();
    super.onmessage = (e) => {
      freeAt = Math.max(freeAt, performance.now() + 150 * Math.random());
      const due = freeAt;
      delivered = delivered
        .then(() => new Promise((wait) => setTimeout(wait, due - performance.now())))
        .then(() => {
          window.__messages.push({ at_ms: performance.now(), m: JSON.parse(e.data) });
          if (handler) handler(e);
        });
    };
    Object.defineProperty(this, "onmessage", { set: (f) => { handler = f; }, get: () => handler });
  }
};
"""
TONE_HZ = {"inhale": 392, "exhale": 294}
# A tone within 50 ms of its part of the breath (issue 25): the page sets each tone ahead from
# its own pacer, on its session clock, which is anchored on the least-delayed message.
TOLERANCE_MS = 50.0


def test_tones_mark_the_breath_and_the_cues_are_spoken(server: str, browser: object) -> None:
    context = browser.new_context()  # type: ignore[attr-defined]
    context.add_init_script(STAND_INS)
    try:
        page = sign_in(context, server, "client@example.org")
        page.wait_for_url("**/breathe")
        page.goto(f"{server}/breathe?speed={SPEED}&practice=1")
        page.check("input[name=source][value=demo]")
        page.click("#critic-before .skip")
        page.click("#begin")
        page.check("text=Soft tones for the in- and out-breath")
        page.check("text=Speak the cues aloud")
        # The settling pacer starts near the person's own rate, up to 12 a minute: at 20x a
        # part of the breath every 0.1-0.15 s, so the first parts can pass before the
        # message that starts the page's pacer comes (up to 150 ms late) and have no tone.
        # Eleven phases leave nine after those.
        page.wait_for_function("() => window.__tones.length >= 9", timeout=60_000)
        page.wait_for_function("""() => window.__messages.filter((x) => x.m.kind ===
            "pacer-phase" && (x.m.part === "inhale" || x.m.part === "exhale")).length >= 11""",
                               timeout=60_000)
        page.click("#end")
        # Read at one moment: a cue that comes between two reads would be spoken unsent.
        tones, messages, spoken = page.evaluate(
            "[window.__tones, window.__messages, window.__spoken]")
    finally:
        context.close()
    timed = [x for x in messages if isinstance(x["m"].get("t_s"), (int, float))]
    offset_ms = min(x["at_ms"] - x["m"]["t_s"] * 1000 / SPEED for x in timed)
    phases = [x["m"] for x in timed if x["m"]["kind"] == "pacer-phase"
              and x["m"]["part"] in TONE_HZ]
    # Tones are set a moment ahead: the last may be for a part the session never reached.
    last_ms = max(p["t_s"] * 1000 / SPEED + offset_ms for p in phases)
    tones = [tone for tone in tones if tone["at_ms"] <= last_ms + TOLERANCE_MS]
    assert len(tones) >= 8
    for tone in tones:
        nearest = min(phases, key=lambda p: abs(p["t_s"] * 1000 / SPEED + offset_ms
                                                - tone["at_ms"]))
        timeline = [(p["part"], round(p["t_s"] * 1000 / SPEED + offset_ms)) for p in phases]
        assert tone["hz"] == TONE_HZ[nearest["part"]], (tone, timeline, tones)
        assert abs(nearest["t_s"] * 1000 / SPEED + offset_ms - tone["at_ms"]) < TOLERANCE_MS, \
            (tone, timeline, tones)
    # The cues the session sent: live, or in a join's story so far (the welcome can be said
    # before the page's link is up).
    sent = [x["m"] for x in timed] + [m for x in messages if x["m"]["kind"] == "hello"
                                      for m in x["m"].get("recent") or []]
    cues = [m["text"] for m in sent if m["kind"] == "cue"]
    assert spoken and set(spoken) <= set(cues)
    assert "If you like, let the shape guide your breath" in " ".join(spoken)
