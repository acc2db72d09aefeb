"""What heartsease remembers about a person between sessions: their breathing pace (from a
resonance assessment) and their recent resting baselines, and the one rule that updates
them after a session (:func:`remember_session`).

The service keeps the profile with the client in the store; the command line keeps it in a
small JSON file, written atomically (a new file renamed over the old), so a crash while
saving never leaves half a profile.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from heartsease.coaching.classifier import RestingBaseline
from heartsease.coaching.events import ResonanceResult

KEEP_BASELINES = 7  # a week of daily sessions, as HRV4Training's 7-day baseline


@dataclass(slots=True)
class ClientProfile:
    """A person's pace and their last few resting baselines (newest last)."""

    pace_bpm: float | None = None
    pace_confidence: str | None = None
    baselines: list[dict[str, float]] = field(default_factory=list)

    def resting_baseline(self) -> RestingBaseline | None:
        """The typical of the stored baselines: medians of each value and of each spread.

        Examples
        --------
        >>> p = ClientProfile()
        >>> p.add_baseline(RestingBaseline(64.0, 3.6, 0.1, 2.0, 0.2, 0.4, 20))
        >>> p.add_baseline(RestingBaseline(68.0, 3.4, 0.3, 2.0, 0.2, 0.4, 20))
        >>> p.resting_baseline().hr_bpm
        66.0
        """
        if not self.baselines:
            return None
        values: dict[str, float | None] = {}
        for key in RestingBaseline.__slots__:
            known = [b[key] for b in self.baselines if b.get(key) is not None]
            values[key] = float(np.median(known)) if known else None
        values["n_epochs"] = int(sum(b.get("n_epochs", 0) for b in self.baselines))
        if any(v is None for k, v in values.items() if k != "breathing_bpm"):
            return None  # a damaged profile: better no baseline than a wrong one
        return RestingBaseline(**values)  # type: ignore[arg-type]

    def add_baseline(self, baseline: RestingBaseline) -> None:
        self.baselines = [*self.baselines, baseline.as_dict()][-KEEP_BASELINES:]


class HoldsProfile(Protocol):
    """Anything that keeps a profile's three values: a :class:`ClientProfile`, or a client
    as the store holds them."""

    pace_bpm: float | None
    pace_confidence: str | None
    baselines: list[dict[str, float]] | None


def profile_of(holder: HoldsProfile) -> ClientProfile:
    """The profile ``holder`` keeps (a copy: changing it leaves ``holder`` as it was)."""
    return ClientProfile(holder.pace_bpm, holder.pace_confidence, list(holder.baselines or []))


def remember_session(holder: HoldsProfile, learned_baseline: RestingBaseline | None,
                     resonance: ResonanceResult | None) -> None:
    """After a session: the resting baseline it learned joins the person's recent ones, and
    a resonance assessment that found a pace makes it theirs.

    Examples
    --------
    >>> p = ClientProfile(5.5, "moderate")
    >>> remember_session(p, RestingBaseline(64.0, 3.6, 0.1, 2.0, 0.2, 0.4, 20), None)
    >>> p.pace_bpm, len(p.baselines)
    (5.5, 1)
    """
    profile = profile_of(holder)
    if learned_baseline is not None:
        profile.add_baseline(learned_baseline)
    if resonance is not None and resonance.resonance_bpm is not None:
        profile.pace_bpm, profile.pace_confidence = resonance.resonance_bpm, resonance.confidence
    holder.pace_bpm, holder.pace_confidence = profile.pace_bpm, profile.pace_confidence
    holder.baselines = profile.baselines


def load_profile(path: Path) -> ClientProfile:
    """The profile at ``path``; an empty one when there is none or it cannot be read."""
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return ClientProfile(pace_bpm=data.get("pace_bpm"),
                             pace_confidence=data.get("pace_confidence"),
                             baselines=list(data.get("baselines", [])))
    except (OSError, ValueError, TypeError, AttributeError):
        return ClientProfile()


def save_profile(profile: ClientProfile, path: Path) -> None:
    """Write ``profile`` to ``path`` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".profile-")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(asdict(profile), f, indent=2)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
