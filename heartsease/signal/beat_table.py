"""Every raw interval of a recording with its label and what correction made of it.

This is the table ``heartsease analyze --beats FILE.csv`` writes (DESIGN.md "Contracts"): one
row per interval as recorded, gaps included, so a reader can check each decision against
the raw series. Labels are the :class:`ArtifactKind` names in lower case. A gap
(:mod:`heartsease.signal.gaps`) is labelled ``long`` and has no corrected value: it is left
out of the analysis, not replaced.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from heartsease.signal.artifact_classifier import ArtifactKind
from heartsease.signal.artifacts import ArtifactCorrection
from heartsease.signal.gaps import RRGap

BEAT_COLUMNS = ("t_s", "rr_ms", "label", "corrected_rr_ms", "corrected_parts", "gap")
LABEL_NAMES = tuple(kind.name.lower() for kind in ArtifactKind)


@dataclass(frozen=True, slots=True)
class BeatTable:
    """Column arrays, one entry per raw interval.

    ``t_s`` is the time of the beat that ends the interval; ``corrected_rr_ms`` is NaN where
    the interval became nothing (an extra beat merged into the one before, or a gap), and
    for a missed beat it is the mean of its ``corrected_parts`` parts (which step from the
    interval before to the one after: :func:`~heartsease.signal.artifacts.correct_artifacts`),
    so that the parts times that mean is the interval's time.
    """

    t_s: NDArray[np.float64]
    rr_ms: NDArray[np.float64]
    labels: NDArray[np.int8]
    corrected_rr_ms: NDArray[np.float64]
    corrected_parts: NDArray[np.int8]
    gap: NDArray[np.bool_]

    def rows(self) -> list[tuple[float, float, str, float | None, int, bool]]:
        """The table as rows in :data:`BEAT_COLUMNS` order (``None`` for no value)."""
        corrected = [None if np.isnan(v) else float(v) for v in self.corrected_rr_ms]
        return list(zip(self.t_s.tolist(), self.rr_ms.tolist(),
                        [LABEL_NAMES[k] for k in self.labels], corrected,
                        self.corrected_parts.tolist(), self.gap.tolist(), strict=True))


def beat_table(raw_rr_ms: ArrayLike, gaps: list[RRGap],
               correction: ArtifactCorrection) -> BeatTable:
    """Line the correction (made on ``raw_rr_ms`` without its ``gaps``) up with every raw
    interval.

    Examples
    --------
    >>> from heartsease.signal.gaps import correct_around_gaps, find_gaps
    >>> rr = np.r_[np.full(40, 800.0), 1600.0, np.full(20, 800.0), 6000.0, np.full(30, 800.0)]
    >>> gaps = find_gaps(rr)
    >>> table = beat_table(rr, gaps, correct_around_gaps(rr, gaps))
    >>> table.rows()[40], table.rows()[61]
    ((33.6, 1600.0, 'missed', 800.0, 2, False), (55.6, 6000.0, 'long', None, 0, True))
    """
    raw = np.asarray(raw_rr_ms, dtype=np.float64)
    gap = np.zeros(raw.size, dtype=bool)
    gap[[g.index for g in gaps]] = True
    labels = np.full(raw.size, ArtifactKind.LONG, dtype=np.int8)
    labels[~gap] = correction.labels
    parts = np.zeros(raw.size, dtype=np.int8)
    parts[~gap] = correction.parts
    first = np.cumsum(parts) - parts  # the first corrected interval each raw one became
    corrected = np.full(raw.size, np.nan)
    has = parts > 0
    corrected[has] = correction.rr_ms[first[has]]
    for i in np.flatnonzero(parts > 1):  # a missed beat split
        corrected[i] = correction.rr_ms[first[i] : first[i] + parts[i]].mean()
    return BeatTable(np.cumsum(raw) / 1000.0, raw, labels, corrected, parts, gap)
