"""Real hearts at rest, replayed through a soothing rhythm breathing session.

These people were resting, not following our pacer, and nothing in the recordings was
threatening or soothing: the session should learn their baseline, call them steady, and
log no shift and no backdraft. (The classifier is built on the simulator; these check it
does not cry wolf on real beats, with real ectopics in MIT-BIH record 100.)
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from heartsease.coaching.loop import replay_session
from heartsease.coaching.protocols import load_protocol
from heartsease.coaching.session import CoachingSession
from heartsease.coaching.summary import session_record
from heartsease.sensors.replay import replay

RESTING = [
    "ecg_resp/neurokit/bio_resting_8min_100hz_rest_rpeaks_rr.csv",
    "ecg_resp/neurokit/bio_resting_5min_100hz_rpeaks_rr.csv",
    "annotated/mitdb_100/100_rr_from_atr.csv",
    "rr_strap/polar_h10/sample_data_ibi.csv",
]


@pytest.mark.parametrize("name", RESTING)
def test_resting_hearts_are_steady_with_no_false_alarms(refdata: Path, name: str) -> None:
    protocol = load_protocol("srb").with_practice_minutes(30)
    events = asyncio.run(replay_session(replay(refdata / name), CoachingSession(protocol)))
    record = session_record(events)
    minutes = record.summary.minutes_by_state
    assert record.baseline is not None
    assert not record.shifts and not record.backdrafts
    assert minutes["soothing"] == 0.0
    # The Polar H10 wearer's heart rate rose by ~6 beats/min over the ten minutes; about 40 s
    # of that was read as alert (measured 0.7 min). Everything else is steady, or unknown
    # while the baseline is learned and around ectopic beats.
    assert minutes["threat"] <= 1.0
