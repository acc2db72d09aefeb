"""The live sessions' shared writer: many writers, few transactions, each told its own fate."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from heartsease.store.group_commit import GroupCommitter
from heartsease.store.models import Beat
from tests.store.stores import store_with_sessions

pytestmark = pytest.mark.both_databases  # each store's own transactions


def _sessions(db_url: str, n: int) -> tuple[GroupCommitter, list[str]]:
    _, factory, rows = store_with_sessions(db_url, ["remote"] * n)
    return GroupCommitter(factory), [r.id for r in rows]


def _beats(session_id: str, first: int, n: int) -> list[dict[str, object]]:
    return [{"session_id": session_id, "seq": seq, "t_s": 0.8 * seq, "rr_ms": 800.0,
             "arrival_s": 0.8 * seq} for seq in range(first, first + n)]


def test_many_sessions_share_transactions_and_every_beat_is_stored_once(db_url: str) -> None:
    committer, ids = _sessions(db_url, 50)

    async def strap(session_id: str) -> None:
        for message in range(10):
            # Every third message is sent twice (a resend after a lost acknowledgement).
            for _ in range(1 + (message % 3 == 0)):
                await committer.write(_beats(session_id, 1 + 2 * message, 2))

    async def run() -> None:
        await asyncio.gather(*(strap(s) for s in ids))
        await committer.close()

    asyncio.run(run())
    with committer.factory() as db:
        assert db.scalar(select(func.count()).select_from(Beat)) == 50 * 20
        for session_id in ids[:3]:
            assert list(db.scalars(select(Beat.seq).where(Beat.session_id == session_id)
                                   .order_by(Beat.seq))) == list(range(1, 21))
    # 50 straps x 14 messages, each strap waiting for the commit of its last: 14 rounds at
    # the least (measured: 14), against 700 transactions for one commit per message. The
    # slack is for a strap whose wake-up misses its round on a loaded machine.
    assert committer.commits <= 20
