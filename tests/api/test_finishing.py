"""What happens to a session's stored beats once it is complete."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from heartsease.api.closing import finish_session
from heartsease.coaching.summary import session_record
from heartsease.sensors.source import Gap, Measurement
from heartsease.simulator.virtual_strap import LinkDrop
from heartsease.store.models import Beat, BreathingSession, SessionEvent, SessionStatus
from heartsease.store.repository import beat_row
from tests.sensors.test_ble import run_virtual, session
from tests.store.stores import store_with_sessions

pytestmark = pytest.mark.both_databases  # what each store keeps of a finished session


def test_a_finished_session_places_its_beats_from_each_whole_stretch(db_url: str) -> None:
    """Ten minutes through the bleak reader from the virtual strap, two link drops. Stored
    live, the beats carry the reader's times (up to 19.9 ms late in the first seconds of
    the first connection here); finished, each of the three stretches between the gaps
    (200, 213 and 161 s) is fitted whole. Measured: every beat within 0.72 ms of the
    model's."""
    strap, _, items = run_virtual(lambda: session(
        600, seed=5, drops=[LinkDrop(200.0, 10.0), LinkDrop(430.0, 5.0)]))
    _, factory, (row,) = store_with_sessions(db_url, ["simulated"])
    measurements = [i for i in items if isinstance(i, Measurement)]
    gaps = [i for i in items if isinstance(i, Gap)]
    assert len(gaps) == 2
    beats = [beat_row(row.id, seq, t, rr, m.arrival_s)
             for seq, (m, rr, t) in enumerate(((m, rr, t) for m in measurements
                                               for rr, t in zip(m.rr_ms, m.beat_times_s,
                                                                strict=True)), start=1)]
    truth = np.array([t for d in strap.delivered for t in d.beat_times_s])
    live_ms = np.abs(np.array([b["t_s"] for b in beats]) - truth) * 1000
    with factory() as db, db.begin():
        db.add_all(Beat(**b) for b in beats)
        db.add_all(SessionEvent(session_id=row.id, t_s=g.start_s, kind="gap",
                                data={"kind": "gap", "t_s": g.start_s, "end_s": g.end_s,
                                      "reason": g.reason}) for g in gaps)
        finish_session(db, db.get(BreathingSession, row.id), SessionStatus.COMPLETED,
                       session_record([]))
    with factory() as db:
        stored = np.array(db.scalars(select(Beat.t_s).where(Beat.session_id == row.id)
                                     .order_by(Beat.seq)).all())
    placed_ms = np.abs(stored - truth) * 1000
    assert live_ms.max() > 10  # what there was to correct
    assert placed_ms.max() < 1.0


def test_a_finished_sessions_summary_says_whether_its_hrv_can_be_read(db_url: str) -> None:
    """Issue 26: the API's session summary carries the verdict ``heartsease analyze`` gives
    the same beats. Five minutes of sinus rhythm can be read; the same length in bigeminy
    (every other beat premature: half the beats corrected, far over Kubios' 5 %) cannot."""
    _, factory, rows = store_with_sessions(db_url, ["simulated", "simulated"])
    sinus = 850 + 40 * np.sin(np.arange(360) / 2)
    bigeminy = np.tile([600.0, 1100.0], 180)
    for row, rr in zip(rows, (sinus, bigeminy), strict=True):
        t = np.cumsum(rr) / 1000
        with factory() as db, db.begin():
            db.add_all(Beat(**beat_row(row.id, seq, float(t[seq]), float(rr[seq]),
                                       float(t[seq]))) for seq in range(rr.size))
            finish_session(db, db.get(BreathingSession, row.id), SessionStatus.COMPLETED,
                           session_record([]))
    with factory() as db:
        kept = [db.get(BreathingSession, row.id).summary for row in rows]
    assert kept[0]["hrv_interpretable"] is True
    assert kept[1]["hrv_interpretable"] is False
    assert "of beats corrected" in kept[1]["quality_notes"][0]
