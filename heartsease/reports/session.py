"""What every report and file names a stored session by, and the beats it is made from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class SessionHeader:
    """A stored session's identity: whose, which protocol at which pace, how it ended."""

    id: str
    client_id: str
    protocol: str
    pace_bpm: float
    status: str
    started_at: datetime
    demo: bool = False  # practised with the demo heart: the simulator's, not the client's

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "client_id": self.client_id, "protocol": self.protocol,
                "pace_bpm": self.pace_bpm, "status": self.status,
                "started_at": self.started_at, "demo": self.demo}


class StoredBeat(Protocol):
    """A beat as the store keeps it: raw RR, its time in the session, when it arrived, and
    its artifact label once the session is finished."""

    seq: int
    t_s: float
    rr_ms: float
    arrival_s: float
    label: str | None


def beat_dict(beat: StoredBeat) -> dict[str, Any]:
    return {"seq": beat.seq, "t_s": beat.t_s, "rr_ms": beat.rr_ms,
            "arrival_s": beat.arrival_s, "label": beat.label}
