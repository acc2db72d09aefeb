"""A session's record is the same whether made from its events as they happen or from the
dicts the store kept of them."""

from __future__ import annotations

import asyncio
import json

from heartsease.coaching.loop import replay_session
from heartsease.coaching.protocols import load_protocol
from heartsease.coaching.session import CoachingSession
from heartsease.coaching.summary import session_record
from heartsease.simulator.scenarios import beats_as_source, simulate_following


def test_a_record_from_stored_events_is_the_record_from_live_ones() -> None:
    protocol = load_protocol("resonance")
    beats = simulate_following("paced-6", [*protocol.schedule(), (30.0, None)], 3)
    events = asyncio.run(replay_session(beats_as_source(beats), CoachingSession(protocol)))
    stored = [json.loads(json.dumps(e.as_dict())) for e in events
              if e.kind not in ("beat", "pacer-phase")]
    live = session_record(events)
    kept = session_record(stored, n_beats=live.n_beats)
    assert kept.resonance is not None and kept.baseline is not None and kept.steps
    assert json.dumps(kept.as_dict()) == json.dumps(live.as_dict())
