"""The breathing page's pacer (``static/pacer.js``) is the same function as
``coaching/pacer.py``: built from a session's messages as the page gets them, it gives the
phase the server's pacer gives at every instant of a whole protocol, holds included, through
glides, a pause inside a glide, a backdraft hold and a late join.

Tolerance: both sides do the same double-precision arithmetic in the same order, except
that the page adds the runner's no-op "same rate" ramp (the runner glides to a rate it is
already at; the page cannot tell that ramp from a real one) and JavaScript's ``Math.cos``
may differ from libm's in the last bit. Both move a position of at most a few hundred
breaths by a few units in the last place (about 1e-13 breaths), so positions, shapes and
progress agree within 1e-9, and the part of the breath agrees wherever the instant is not
within 1e-6 s of a part's start.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

from heartsease.coaching import events as ev
from heartsease.coaching.pacer import BreathPattern
from heartsease.coaching.protocols import load_protocol
from heartsease.coaching.runner import ProtocolRunner
from heartsease.coaching.shifts import ShiftLog

PACER_JS = Path(__file__).parents[2] / "heartsease/api/web/static/pacer.js"
TOLERANCE = 1e-9
EDGE_S = 1e-6

FOLLOW = """async ([source, samples, late, first]) => {
  const url = "data:text/javascript;base64," + btoa(source);
  const { PacerFollower } = await import(url);
  const page = new PacerFollower(), joined = new PacerFollower();
  page.hello(first);  // the page's first message: where the session is, its pattern
  const out = [];
  for (const [t, messages, hello] of samples) {
    for (const m of messages) page.message(m);
    if (t >= late && hello !== null) joined.hello(hello);
    if (t >= late) for (const m of messages) if (hello === null) joined.message(m);
    out.push([page.phase(t), t >= late && joined.pacer !== null ? joined.phase(t) : null]);
  }
  return out;
}"""


def _run_protocol() -> tuple[list[list[object]], list[object], float, dict[str, object]]:
    """A whole soothing rhythm breathing with a stage, in 4 : 1 : 6 : 2 at 5.5 a minute,
    sampled every 0.37 s: the messages due by each instant, the server's phase there, and
    at one instant the hello a late joiner gets."""
    protocol = load_protocol("srb").with_stages(["safe-place"]).with_practice_minutes(2)
    protocol = replace(protocol, pattern=BreathPattern(4.0, 6.0, hold_in=1.0, hold_out=2.0))
    out: list[ev.Event] = []
    runner = ProtocolRunner(protocol, 5.5, out, ShiftLog(),
                            on_step_begun=lambda *_: None, on_step_ending=lambda *_: None,
                            on_session_ending=lambda *_: None)
    runner.own_breathing_bpm = 13.0
    runner.start(0.0)
    late = 400.0  # a page that joins here, inside practice
    samples: list[list[object]] = []
    truth: list[object] = []
    sent = 0
    t = 0.0
    end = protocol.duration_s() + 120.0
    while t < end and not runner.ended:
        if 150.0 <= t < 150.37:  # a pause inside the settling glide, and carrying on
            runner.pause(t)
        if 170.0 <= t < 170.37:
            runner.resume(t)
        if 300.0 <= t < 300.37:  # a backdraft holds the pacer; it eases
            runner.hold(t)
        if 330.0 <= t < 330.37:
            runner.release(t)
        runner.advance(t)
        messages = [e.as_dict() for e in out[sent:]]
        sent = len(out)
        hello = None
        if late <= t < late + 0.37:
            pacer = runner.pacer
            hello = {"pattern": list(protocol.pattern.shares()),
                     "pacer": None if pacer is None else {"anchors": pacer.anchors()}}
        samples.append([t, messages, hello])
        phase = None if runner.pacer is None else runner.pacer.phase(t)
        truth.append(phase)
        t = round(t + 0.37, 9)
    return samples, truth, late, {"pattern": list(protocol.pattern.shares()), "pacer": None}


def test_the_pages_pacer_is_the_servers_over_a_whole_protocol(browser: object) -> None:
    samples, truth, late, first = _run_protocol()
    page = browser.new_page()  # type: ignore[attr-defined]
    try:
        got = page.evaluate(FOLLOW, [PACER_JS.read_text(), json.loads(json.dumps(samples)),
                                     late, first])
    finally:
        page.close()
    compared = holds = 0
    for (t, _messages, _), expected, (theirs, joined) in zip(samples, truth, got, strict=True):
        if expected is None:
            assert theirs is None, (t, theirs)
            continue
        for js in (theirs, joined) if t >= late else (theirs,):
            assert js is not None, t
            for key in ("lungs", "progress", "rate_bpm", "part_s"):
                assert math.isclose(js[key], getattr(expected, key), abs_tol=TOLERANCE), \
                    (t, key, js[key], getattr(expected, key))
            near_edge = min(expected.progress, 1 - expected.progress) * expected.part_s < EDGE_S
            if not near_edge:
                assert js["part"] == expected.part.value and js["breath"] == expected.breath, \
                    (t, js, expected)
        compared += 1
        holds += expected.part.value.startswith("hold")
    # the whole protocol was compared, its holds included
    assert compared > 1000 and holds > 200, (compared, holds)
    assert sum(m["kind"] == "pacer-phase" and m["part"] == "hold-out"
               for _, messages, _ in samples for m in messages) > 40
