"""Nonlinear HRV as Kubios HRV reports it: Poincaré SD1/SD2, ApEn, SampEn and DFA.

Entropies come from :mod:`heartsease.signal.entropy`. DFA uses non-overlapping boxes; for
5-minute segments every box size is done at once from prefix sums.

References: Brennan, Palaniswami & Kamen 2001 (Poincaré); Peng et al. 1995 (DFA);
Tarvainen et al. 2014 and the Kubios HRV user's guide (DFA boxes of 4-12 and 13-64 beats).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from heartsease.signal.entropy import ENTROPY_DIMENSION, entropies, entropy_tolerance
from heartsease.signal.interpolation import FloatArray

DFA_SHORT_BEATS = (4, 12)
DFA_LONG_BEATS = (13, 64)
DFA_PREFIX_MAX_BEATS = 5_000  # 5-minute segments; a day goes box by box


@dataclass(frozen=True, slots=True)
class Poincare:
    """SD1 (short-term), SD2 (long-term) in ms and their ratio SD2/SD1."""

    sd1_ms: float
    sd2_ms: float
    sd2_sd1: float | None

    def as_dict(self) -> dict[str, float | None]:
        return asdict(self)


def poincare(rr_ms: ArrayLike) -> Poincare:
    """SD1 and SD2 of the Poincaré plot (Brennan et al. 2001; Kubios' definition).

    ``SD1 = std(RR[n+1] - RR[n]) / sqrt(2)``, ``SD2 = std(RR[n+1] + RR[n]) / sqrt(2)``, sample
    standard deviations; the ratio is ``None`` when SD1 is 0.

    Examples
    --------
    >>> p = poincare([800, 820, 800, 820, 800])
    >>> round(p.sd1_ms, 2), round(p.sd2_ms, 2)
    (16.33, 0.0)
    """
    rr = np.asarray(rr_ms, dtype=np.float64)
    sd1 = float(np.diff(rr).std(ddof=1) / math.sqrt(2.0))
    sd2 = float((rr[:-1] + rr[1:]).std(ddof=1) / math.sqrt(2.0))
    return Poincare(sd1_ms=sd1, sd2_ms=sd2, sd2_sd1=sd2 / sd1 if sd1 > 0 else None)


def _fluctuation(profile: FloatArray, box: int) -> float:
    """RMS of the linear-fit residuals over non-overlapping boxes from the start."""
    n_boxes = profile.size // box
    segments = profile[: n_boxes * box].reshape(n_boxes, box)
    t = np.arange(box, dtype=np.float64) - (box - 1) / 2.0
    t_sq = float(t @ t)
    centred = segments - (segments.sum(axis=1) / box)[:, None]
    slope = centred @ t / t_sq
    residual_var = np.einsum("ij,ij->i", centred, centred) / box - slope**2 * t_sq / box
    residual_var = np.maximum(residual_var, 0.0)
    # Boxes without variance are left out, as neurokit2 does (a flat stretch has no scale).
    kept = residual_var[residual_var > 1e-8 * residual_var.max()] if residual_var.max() > 0 else []
    return float(np.sqrt(np.mean(kept))) if len(kept) else float("nan")


def _fluctuations_by_prefix(
    profile: FloatArray, sizes: NDArray[np.int64]
) -> FloatArray | None:
    """:func:`_fluctuation` for every box size at once, from prefix sums of ``y``, ``y^2`` and
    ``i y``: each box's least-squares residual variance in O(1).

    A box's sums are differences of prefix sums that grow with the series, so their rounding
    error (about eps times the largest prefix sum) is bounded; ``None`` when it could matter
    (a wandering, random-walk-like profile), and the caller takes the box-by-box path.
    """
    y = profile - profile.mean()
    i = np.arange(y.size, dtype=np.float64)
    p0, p1, p2 = (np.concatenate([[0.0], np.cumsum(v)]) for v in (y, y * y, i * y))
    counts = y.size // sizes
    first_of_size = np.cumsum(counts) - counts
    box = np.repeat(sizes, counts)
    start = (np.arange(counts.sum()) - np.repeat(first_of_size, counts)) * box
    stop = start + box
    s_y, s_yy = p0[stop] - p0[start], p1[stop] - p1[start]
    s_ty = p2[stop] - p2[start] - (start + (box - 1) / 2.0) * s_y  # t centred in its box
    t_sq = box * (box * box - 1) / 12.0
    residual_var = np.maximum((s_yy - s_y * s_y / box) / box - s_ty * s_ty / (t_sq * box), 0.0)
    # Rounding of one box's variance: about eps times the prefix sums' size, over the box.
    rounding = 16 * np.finfo(np.float64).eps * (p1[-1] + np.abs(p0).max() ** 2 / y.size) / box
    largest = np.repeat(np.maximum.reduceat(residual_var, first_of_size), counts)
    mean_var = np.add.reduceat(residual_var, first_of_size) / counts
    cut = 1e-8 * largest  # boxes without variance are left out, as in _fluctuation
    # Valid when rounding can neither move a mean by 1e-7 (F by 5e-8; the bound is ~100x
    # pessimistic: measured 1e-11) nor move a box across the cut (a box of equal intervals,
    # zero exactly, must stay below it).
    if (np.any(rounding[first_of_size] > 1e-7 * mean_var) or np.any(rounding >= cut)
            or np.any(np.abs(residual_var - cut) < rounding)):
        return None
    kept = residual_var > cut
    n_kept = np.add.reduceat(kept.astype(np.float64), first_of_size)
    total = np.add.reduceat(np.where(kept, residual_var, 0.0), first_of_size)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sqrt(total / n_kept)


def dfa_alpha(rr_ms: ArrayLike, boxes: tuple[int, int]) -> float | None:
    """DFA scaling exponent over box sizes ``boxes[0]..boxes[1]`` beats (Peng et al. 1995).

    The profile is the cumulative sum of the mean-removed series; each box size's
    fluctuation is the RMS of the residuals of a least-squares line in each non-overlapping
    box; alpha is the slope of log F against log box size. ``None`` when the series holds
    fewer than two of the largest boxes.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> round(dfa_alpha(rng.standard_normal(4000), (4, 64)), 1)  # white noise: 0.5
    0.5
    """
    x = np.asarray(rr_ms, dtype=np.float64)
    sizes = np.arange(boxes[0], boxes[1] + 1)
    if x.size < 2 * boxes[1]:
        return None
    profile = np.cumsum(x - x.mean())
    f = _fluctuations_by_prefix(profile, sizes) if x.size <= DFA_PREFIX_MAX_BEATS else None
    if f is None:
        f = np.array([_fluctuation(profile, int(s)) for s in sizes])
    if not np.all(np.isfinite(f)) or np.any(f <= 0):
        return None
    return float(np.polyfit(np.log(sizes), np.log(f), 1)[0])


@dataclass(frozen=True, slots=True)
class NonlinearReport:
    """The nonlinear block of a Kubios report."""

    sd1_ms: float
    sd2_ms: float
    sd2_sd1: float | None
    apen: float | None
    sampen: float | None
    dfa_alpha1: float | None
    dfa_alpha2: float | None

    def as_dict(self) -> dict[str, float | None]:
        return asdict(self)


def nonlinear_report(rr_ms: ArrayLike) -> NonlinearReport:
    """Every nonlinear figure of a Kubios report with its default settings.

    Examples
    --------
    >>> rng = np.random.default_rng(2)
    >>> r = nonlinear_report(800 + 40 * rng.standard_normal(500))
    >>> 0.3 < r.dfa_alpha1 < 0.7 and r.sampen > 1.5
    True
    """
    rr = np.asarray(rr_ms, dtype=np.float64)
    p = poincare(rr)
    apen, sampen = entropies(rr, ENTROPY_DIMENSION, entropy_tolerance(rr))
    return NonlinearReport(
        sd1_ms=p.sd1_ms,
        sd2_ms=p.sd2_ms,
        sd2_sd1=p.sd2_sd1,
        apen=apen,
        sampen=sampen,
        dfa_alpha1=dfa_alpha(rr, DFA_SHORT_BEATS),
        dfa_alpha2=dfa_alpha(rr, DFA_LONG_BEATS),
    )
