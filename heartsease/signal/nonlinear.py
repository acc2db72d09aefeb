"""Nonlinear HRV as Kubios HRV reports it: Poincaré SD1/SD2, ApEn, SampEn and DFA.

Exact over the whole series and fast enough for a 24-hour day. Entropy needs, for every
template of ``m`` consecutive RR intervals, the number of templates within Chebyshev
distance ``r``: enumerated pair by pair that is quadratic (neurokit2 takes 30 s on 100,000
beats). RR series take few distinct values (a Holter's 1/128 s clock gives ~140 over a whole
day), so here the templates are counted in a histogram over the distinct values and every
template's count is read from its cumulative sums by inclusion-exclusion over the box
``[x - r, x + r]^m``: O(n + V^m) for V distinct values. Series with too many distinct values
for that table fall back to a k-d tree (exact too, slower).

References: Brennan, Palaniswami & Kamen 2001 (Poincaré); Pincus 1991 (ApEn); Richman &
Moorman 2000 (SampEn); Peng et al. 1995 (DFA); Tarvainen et al. 2014 and the Kubios HRV
user's guide (m = 2, r = 0.2 SD, DFA boxes of 4-12 and 13-64 beats).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from heartsease.signal.interpolation import FloatArray

ENTROPY_DIMENSION = 2
ENTROPY_TOLERANCE_SD = 0.2
DFA_SHORT_BEATS = (4, 12)
DFA_LONG_BEATS = (13, 64)
MAX_TABLE_CELLS = 8_000_000  # 32 MB of int32 cumulative counts; a Holter day needs ~2.6 M
DFA_PREFIX_MAX_BEATS = 5_000  # 5-minute segments; a day goes box by box
MAX_PAIRWISE_TEMPLATES = 1500  # below this, comparing every pair outright is cheapest


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


def _templates(x: FloatArray, m: int, count: int) -> NDArray[np.float64]:
    return np.lib.stride_tricks.sliding_window_view(x, m)[:count]


def _counts_by_table(x: FloatArray, m: int, count: int, r: float) -> NDArray[np.int64]:
    values, index = np.unique(x, return_inverse=True)
    v = values.size
    lo = np.searchsorted(values, values - r, side="left")  # first value >= x - r
    hi = np.searchsorted(values, values + r, side="right")  # one past the last <= x + r
    cells = _templates(index.astype(np.int64), m, count)
    flat = np.ravel_multi_index(tuple(cells.T), (v,) * m)
    table = np.zeros((v + 1,) * m, dtype=np.int32)
    table[(slice(1, None),) * m] = np.bincount(flat, minlength=v**m).reshape((v,) * m)
    for axis in range(m):
        np.cumsum(table, axis=axis, out=table)
    total = np.zeros(count, dtype=np.int64)
    for corner in itertools.product((0, 1), repeat=m):
        at = tuple(hi[cells[:, k]] if c else lo[cells[:, k]] for k, c in enumerate(corner))
        sign = -1 if (m - sum(corner)) % 2 else 1
        total += sign * table[at]
    return total


def _counts_pairwise(x: FloatArray, m: int, count: int, r: float) -> NDArray[np.int64]:
    points = _templates(x, m, count)
    close = np.ones((count, count), dtype=bool)
    for k in range(m):
        close &= np.abs(points[:, k, None] - points[None, :, k]) <= r
    return close.sum(axis=1).astype(np.int64)


def _counts_by_tree(x: FloatArray, m: int, count: int, r: float) -> NDArray[np.int64]:
    from scipy.spatial import cKDTree  # only for long series with very many distinct values

    points = _templates(x, m, count)
    tree = cKDTree(points)
    return np.asarray(tree.query_ball_point(points, r, p=np.inf, return_length=True), np.int64)


CountMethod = Literal["auto", "table", "pairwise", "tree"]
_COUNTERS = {"table": _counts_by_table, "pairwise": _counts_pairwise, "tree": _counts_by_tree}


def _cheapest(x: FloatArray, m: int, count: int) -> str:
    table_cells = (np.unique(x).size + 1) ** m
    pair_cells = count * count * m
    if table_cells <= min(pair_cells, MAX_TABLE_CELLS):
        return "table"
    if count <= MAX_PAIRWISE_TEMPLATES:
        return "pairwise"
    return "table" if table_cells <= MAX_TABLE_CELLS else "tree"


def template_matches(
    x: ArrayLike, m: int, r: float, method: CountMethod = "auto"
) -> NDArray[np.int64]:
    """For every template of ``m`` consecutive values, how many templates lie within
    Chebyshev distance ``r`` (``<= r``), itself included.

    ``method``: ``"table"`` (cumulative counts over the distinct values), ``"pairwise"``
    (every pair compared), ``"tree"`` (k-d tree); all exact. ``"auto"`` picks the cheapest.

    Examples
    --------
    >>> template_matches([1.0, 2.0, 1.0, 2.0, 5.0], 2, 0.5).tolist()
    [2, 1, 2, 1]
    """
    series = np.asarray(x, dtype=np.float64)
    count = series.size - m + 1
    chosen = _cheapest(series, m, count) if method == "auto" else method
    return _COUNTERS[chosen](series, m, count, r)


def _entropies(x: FloatArray, m: int, r: float) -> tuple[float | None, float | None]:
    """ApEn and SampEn from one count of matches per template length."""
    if x.size < m + 2:
        return None, None
    b_counts = template_matches(x, m, r)  # the N - m + 1 templates of length m
    a_counts = template_matches(x, m + 1, r)  # the N - m templates of length m + 1
    apen = float(np.mean(np.log(b_counts / b_counts.size))
                 - np.mean(np.log(a_counts / a_counts.size)))
    b_pairs = (b_counts.sum() - b_counts.size) / 2
    a_pairs = (a_counts.sum() - a_counts.size) / 2
    if a_pairs <= 0 or b_pairs <= 0:
        return apen, None
    b_rate = b_pairs / (b_counts.size * (b_counts.size - 1) / 2)
    a_rate = a_pairs / (a_counts.size * (a_counts.size - 1) / 2)
    return apen, float(-math.log(a_rate / b_rate))


def entropy_tolerance(rr_ms: ArrayLike) -> float:
    """Kubios' tolerance: 0.2 times the sample standard deviation of the series.

    Examples
    --------
    >>> round(entropy_tolerance([790.0, 800.0, 810.0]), 6)
    2.0
    """
    return ENTROPY_TOLERANCE_SD * float(np.std(np.asarray(rr_ms, dtype=np.float64), ddof=1))


def sample_entropy(
    rr_ms: ArrayLike, m: int = ENTROPY_DIMENSION, r: float | None = None
) -> float | None:
    """Sample entropy (Richman & Moorman 2000) as Kubios HRV computes it.

    ``SampEn = -ln(A / B)`` where B is the fraction of pairs of distinct length-``m``
    templates (all ``N - m + 1``) within ``r`` and A the same for the ``N - m`` templates of
    length ``m + 1``: each count is divided by its own number of pairs. (neurokit2 uses
    ``N - m`` templates for both and no normalisation, which gives 0.7370 on the Kubios
    sample series where Kubios and this function give 0.7436.) ``None`` when no template
    pair matches.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> round(sample_entropy(rng.standard_normal(2000)), 1)  # white noise: about 2.2
    2.2
    """
    x = np.asarray(rr_ms, dtype=np.float64)
    return _entropies(x, m, entropy_tolerance(x) if r is None else r)[1]


def approximate_entropy(
    rr_ms: ArrayLike, m: int = ENTROPY_DIMENSION, r: float | None = None
) -> float | None:
    """Approximate entropy (Pincus 1991): ``Phi_m - Phi_(m+1)``, self-matches counted.

    ``Phi_m`` is the mean over all ``N - m + 1`` templates of the log of the fraction of
    templates within ``r``. Matches Kubios (0.8479 on its sample series) and neurokit2.

    Examples
    --------
    >>> round(approximate_entropy(np.tile([800.0, 850.0], 100)), 3)  # a strict alternation
    0.0
    """
    x = np.asarray(rr_ms, dtype=np.float64)
    return _entropies(x, m, entropy_tolerance(x) if r is None else r)[0]


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
    apen, sampen = _entropies(rr, ENTROPY_DIMENSION, entropy_tolerance(rr))
    return NonlinearReport(
        sd1_ms=p.sd1_ms,
        sd2_ms=p.sd2_ms,
        sd2_sd1=p.sd2_sd1,
        apen=apen,
        sampen=sampen,
        dfa_alpha1=dfa_alpha(rr, DFA_SHORT_BEATS),
        dfa_alpha2=dfa_alpha(rr, DFA_LONG_BEATS),
    )
