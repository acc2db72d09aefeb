"""Nonlinear HRV as Kubios HRV reports it: Poincaré SD1/SD2, ApEn, SampEn and DFA.

Entropies come from :mod:`heartsease.signal.entropy`. DFA uses non-overlapping boxes; for
5-minute segments every box size is done at once from prefix sums.

References: Brennan, Palaniswami & Kamen 2001 (Poincaré); Peng et al. 1995 (DFA);
Tarvainen et al. 2014 and the Kubios HRV user's guide (DFA boxes of 4-12 and 13-64 beats).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

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
        return _plain_fields(self)


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


def _plain_fields(record: Poincare | NonlinearReport) -> dict[str, float | None]:
    """A record of plain numbers as ``dataclasses.asdict`` gives it, without its deep copy
    of every number (a day's 277 segments' reports)."""
    return {name: getattr(record, name) for name in record.__dataclass_fields__}


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


# A NamedTuple, not a dataclass: a dataclass takes ~0.8 ms to build at import,
# and analyze of a strap recording is held to 10x a bare interpreter's start (issue 27).
class _PrefixSums(NamedTuple):
    """Prefix sums of a mean-removed profile ``y``: of ``y``, ``y^2`` and ``i y``, with a
    leading 0, and the scale of their rounding."""

    n: int
    p0: FloatArray
    p1: FloatArray
    p2: FloatArray
    scale: float


def _prefix_sums(profile: FloatArray) -> _PrefixSums:
    """The sums every box size's fluctuation is read from (the same for DFA's short and long
    boxes: computed once for both)."""
    y = profile - profile.mean()
    i = np.arange(y.size, dtype=np.float64)
    p0, p1, p2 = (np.concatenate([[0.0], np.cumsum(v)]) for v in (y, y * y, i * y))
    return _PrefixSums(y.size, p0, p1, p2, float(p1[-1] + np.abs(p0).max() ** 2 / y.size))


@lru_cache(maxsize=8)
def _log_size_design(smallest: int, largest: int) -> tuple[FloatArray, FloatArray, float]:
    """``np.polyfit(log(sizes), y, 1)``'s scaled Vandermonde matrix, its column scales and
    ``rcond``: they depend on the box sizes alone."""
    x = np.log(np.arange(smallest, largest + 1)) + 0.0
    lhs = np.vander(x, 2)
    scale = np.sqrt((lhs * lhs).sum(axis=0))
    lhs /= scale
    lhs.flags.writeable = False
    return lhs, scale, len(x) * np.finfo(x.dtype).eps


def _log_slope(boxes: tuple[int, int], f: FloatArray) -> float:
    """``np.polyfit(np.log(sizes), np.log(f), 1)[0]``, the same operations with the design
    worked out once (polyfit rebuilt it for each of a day's 554 fits)."""
    lhs, scale, rcond = _log_size_design(*boxes)
    c = np.linalg.lstsq(lhs, np.log(f) + 0.0, rcond)[0]
    return float((c.T / scale).T[0])


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
    return dfa_alphas(rr_ms, [boxes])[0]


def dfa_alphas(rr_ms: ArrayLike, box_ranges: list[tuple[int, int]]) -> list[float | None]:
    """:func:`dfa_alpha` for each range of box sizes, the profile and its prefix sums
    computed once for all.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> x = rng.standard_normal(500)
    >>> dfa_alphas(x, [(4, 12), (13, 64)]) == [dfa_alpha(x, (4, 12)), dfa_alpha(x, (13, 64))]
    True
    """
    return dfa_alphas_many([np.asarray(rr_ms, dtype=np.float64)], box_ranges)[0]


def dfa_alphas_many(
    series: list[FloatArray], box_ranges: list[tuple[int, int]]
) -> list[list[float | None]]:
    """:func:`dfa_alpha` of every series in ``series`` for each range of box sizes, each
    series' profile and prefix sums computed once for all its ranges.

    Every box of every series is read from its prefix sums in one pass of array operations
    (a day's 277 segments: each alone paid numpy's per-call cost some 30 times a range).
    The boxes' values are the same elementwise operations on the same numbers, and every
    sum over one box size is over the same contiguous values as alone, so the same sums; a
    series whose prefix sums could round too coarsely goes box by box, as alone.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> xs = [rng.standard_normal(300), rng.standard_normal(420), rng.standard_normal(90)]
    >>> ranges = [(4, 12), (13, 64)]
    >>> dfa_alphas_many(xs, ranges) == [dfa_alphas(x, ranges) for x in xs]
    True
    """
    xs = [np.asarray(x, dtype=np.float64) for x in series]
    profiles = [np.cumsum(x - x.mean()) for x in xs]
    sums = [_prefix_sums(p) if 2 <= p.size <= DFA_PREFIX_MAX_BEATS else None for p in profiles]
    out: list[list[float | None]] = [[] for _ in xs]
    for boxes in box_ranges:
        sizes = np.arange(boxes[0], boxes[1] + 1)
        eligible = [j for j, x in enumerate(xs) if x.size >= 2 * boxes[1] and sums[j] is not None]
        fluctuations = dict(zip(eligible, _fluctuations_of_many([sums[j] for j in eligible],
                                                                 boxes), strict=True))
        for j, x in enumerate(xs):
            if x.size < 2 * boxes[1]:
                out[j].append(None)
                continue
            f = fluctuations.get(j)
            if f is None:
                f = np.array([_fluctuation(profiles[j], int(s)) for s in sizes])
            if not np.all(np.isfinite(f)) or np.any(f <= 0):
                out[j].append(None)
                continue
            out[j].append(_log_slope(boxes, f))
    return out


def _fluctuations_of_many(sums: list[_PrefixSums],
                          boxes: tuple[int, int]) -> list[FloatArray | None]:
    """:func:`_fluctuation` of each series for every box size ``boxes[0]..boxes[1]``, from
    its ``sums`` (prefix sums of ``y``, ``y^2`` and ``i y``: each box's least-squares
    residual variance in O(1)), all series' boxes side by side: every box's sums are read
    from its series' prefix sums, elementwise, and each box size's mean is over its own
    contiguous boxes, so a series gets the same numbers alone or among others.

    A box's sums are differences of prefix sums that grow with the series, so their rounding
    error (about eps times the largest prefix sum) is bounded; a series' entry is ``None``
    when it could matter (a wandering, random-walk-like profile), and the caller takes the
    box-by-box path."""
    if not sums:
        return []
    sizes = np.arange(boxes[0], boxes[1] + 1)
    n = np.array([s.n for s in sums])
    # Every non-overlapping box of every size: series by series, size by size, box by box.
    counts = (n[:, None] // sizes).ravel()
    first_of_size = np.cumsum(counts) - counts
    box = np.repeat(np.tile(sizes, n.size), counts)
    start = (np.arange(counts.sum()) - np.repeat(first_of_size, counts)) * box
    stop = start + box
    centre = start + (box - 1) / 2.0
    t_sq_box = box * (box * box - 1) / 12.0 * box
    boxes_per_series = counts.reshape(n.size, sizes.size).sum(axis=1)
    # Each series' prefix sums one after the other; its boxes' ends moved by its offset.
    offset = np.repeat(np.cumsum(n + 1) - (n + 1), boxes_per_series)
    p0, p1, p2 = (np.concatenate([getattr(s, name) for s in sums]) for name in ("p0", "p1",
                                                                                  "p2"))
    scale = np.repeat([s.scale for s in sums], boxes_per_series)
    start, stop = start + offset, stop + offset
    s_y, s_yy = p0[stop] - p0[start], p1[stop] - p1[start]
    s_ty = p2[stop] - p2[start] - centre * s_y
    residual_var = np.maximum((s_yy - s_y * s_y / box) / box - s_ty * s_ty / t_sq_box, 0.0)
    # Rounding of one box's variance: about eps times the prefix sums' size, over the box.
    rounding = 16 * np.finfo(np.float64).eps * scale / box
    largest = np.repeat(np.maximum.reduceat(residual_var, first_of_size), counts)
    mean_var = np.add.reduceat(residual_var, first_of_size) / counts
    cut = 1e-8 * largest  # boxes without variance are left out, as in _fluctuation
    # A series is read box by box when rounding could move a mean by 1e-7 (F by 5e-8; the
    # bound is ~100x pessimistic: measured 1e-11) or move a box across the cut (a box of
    # equal intervals, zero exactly, must stay below it).
    coarse_size = rounding[first_of_size] > 1e-7 * mean_var
    coarse_box = (rounding >= cut) | (np.abs(residual_var - cut) < rounding)
    coarse = (np.logical_or.reduceat(coarse_size, np.arange(0, counts.size, sizes.size))
              | np.logical_or.reduceat(coarse_box, np.cumsum(boxes_per_series)
                                       - boxes_per_series))
    kept = residual_var > cut
    n_kept = np.add.reduceat(kept.astype(np.float64), first_of_size)
    total = np.add.reduceat(np.where(kept, residual_var, 0.0), first_of_size)
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.sqrt(total / n_kept).reshape(n.size, sizes.size)
    return [None if coarse[j] else f[j].copy() for j in range(n.size)]


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
        return _plain_fields(self)


def nonlinear_report(rr_ms: ArrayLike,
                     dfa: tuple[float | None, float | None] | None = None) -> NonlinearReport:
    """Every nonlinear figure of a Kubios report with its default settings (``dfa``: the
    short- and long-term DFA alphas, if computed already).

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
    alpha1, alpha2 = dfa if dfa is not None else dfa_alphas(rr, [DFA_SHORT_BEATS,
                                                                  DFA_LONG_BEATS])
    return NonlinearReport(
        sd1_ms=p.sd1_ms,
        sd2_ms=p.sd2_ms,
        sd2_sd1=p.sd2_sd1,
        apen=apen,
        sampen=sampen,
        dfa_alpha1=alpha1,
        dfa_alpha2=alpha2,
    )
