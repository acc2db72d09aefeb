"""A clinician records a cue in their own voice on their page, and their client, practising
with the eyes closed, hears that recording in place of the browser's speech (issue 25).
Headless Chromium has no microphone and no sound: MediaRecorder, the speech and the audio
element are stood in for, and the test checks what the clinician reads and what the client
hears."""

from __future__ import annotations

from tests.e2e.conftest import screenshot
from tests.e2e.test_pages import sign_in

SPEED = 50  # the quiet start in 2.4 s, then settling, whose first cue is the one recorded
SETTLING_CUE = "If you like, let the shape guide your breath"
# A microphone and a recorder that hands over a few bytes that begin as WebM does.
RECORDER = """
navigator.mediaDevices.getUserMedia = async () => ({ getTracks: () => [{ stop() {} }] });
window.MediaRecorder = class {
  constructor() { this.mimeType = "audio/webm;codecs=opus"; this.on = {}; }
  addEventListener(kind, f) { this.on[kind] = f; }
  start() {}
  stop() {
    const bytes = new Uint8Array([0x1a, 0x45, 0xdf, 0xa3, 1, 2, 3]);
    const data = new Blob([bytes], { type: this.mimeType });
    this.on.dataavailable({ data });
    this.on.stop();
  }
};
"""
# What the client would hear: recordings played, and words the browser would speak.
EARS = """
window.__played = []; window.__spoken = [];
window.Audio = class {
  constructor(src) { this.src = src; this.on = {}; }
  addEventListener(kind, f) { this.on[kind] = f; }
  play() {
    window.__played.push(this.src);
    setTimeout(() => this.on.ended(), 0);
    return Promise.resolve();
  }
  pause() {}
};
Object.defineProperty(window, "speechSynthesis", { configurable: true,
  value: { speak: (u) => { window.__spoken.push(u.text); setTimeout(() => u.onend(), 0); },
           cancel() {} } });
window.SpeechSynthesisUtterance = function (text) { this.text = text; };
"""


def test_a_cue_in_the_clinicians_voice_is_what_the_client_hears(server: str,
                                                               browser: object) -> None:
    clinician_ctx = browser.new_context(viewport={"width": 390, "height": 844})  # type: ignore[attr-defined]
    client_ctx = browser.new_context()  # type: ignore[attr-defined]
    clinician_ctx.add_init_script(RECORDER)
    client_ctx.add_init_script(EARS)
    clinician = sign_in(clinician_ctx, server, "clinician@example.org")
    clinician.wait_for_url("**/observe")
    clinician.click("nav >> text=Your voice")
    record = clinician.locator(f"button[aria-label^='Record: {SETTLING_CUE}']")
    try:
        assert "read by their browser's voice" in clinician.inner_text("main")
        record.click()
        clinician.wait_for_selector("#status:has-text('Recording…')")
        clinician.click("button:has-text('Stop recording')")
        clinician.wait_for_selector(f"#status:has-text('Recorded: {SETTLING_CUE[:40]}')")
        item = clinician.locator(f"li:has-text('{SETTLING_CUE}')")
        assert "In your voice" in item.inner_text()
        screenshot(clinician, "voice-recorded-phone")

        client = sign_in(client_ctx, server, "client@example.org")
        client.wait_for_url("**/breathe")
        client.goto(f"{server}/breathe?speed={SPEED}&practice=1")
        client.check("input[name=source][value=demo]")
        client.click("#critic-before .skip")
        client.click("#begin")
        client.check("text=Speak the cues aloud")
        client.wait_for_function("() => window.__played.length > 0", timeout=30_000)
        client.click("#end")
        played, spoken = client.evaluate("[window.__played, window.__spoken]")
        heard = clinician.evaluate("async () => (await (await fetch('/api/me/voice')).json())")
        assert played == [heard[0]["url"]]
        assert not any(SETTLING_CUE in text for text in spoken)
    finally:
        # The shared demo service's other tests hear the browser's voice again.
        erased = clinician.evaluate("""async () => { const csrf = document.cookie.split('; ')
            .find((c) => c.startsWith('heartsease_csrf=')).split('=')[1];
            return (await fetch('/api/clinician/recordings', { method: 'DELETE',
                    headers: { 'X-CSRF-Token': csrf } })).status; }""")
        assert erased == 204
        clinician_ctx.close()
        client_ctx.close()
