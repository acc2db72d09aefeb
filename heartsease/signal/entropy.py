"""Approximate and sample entropy as Kubios HRV computes them, exact and fast.

Entropy needs, for every template of ``m`` consecutive RR intervals, the number of templates
within Chebyshev distance ``r``: enumerated pair by pair that is quadratic (neurokit2 takes
30 s on 100,000 beats). RR series take few distinct values (a Holter's 1/128 s clock gives
~140 over a whole day), so here the templates are counted in a histogram over the distinct
values and every template's count is read from its cumulative sums by inclusion-exclusion
over the box ``[x - r, x + r]^m``: O(n + V^m) for V distinct values (0.04 s for both
entropies of a 128-Hz Holter day on a 2-core test machine). The table is 16-bit when no
box can hold 2^16 templates (a template of m + 1 values matches no more often than its
first m do), so a 250-Hz day's 250^3 cells fit in 31 MB. With too many values for that
table (a day of 1-ms strap intervals, V ~ 900) a sweep over the first value with
(m-1)-dimensional tables takes O(n V) (1.9 s); short series compare every pair; a k-d
tree is the last resort. All exact.

References: Pincus 1991 (ApEn); Richman & Moorman 2000 (SampEn); the Kubios HRV user's
guide (m = 2, r = 0.2 SD).
"""

from __future__ import annotations

import itertools
import math
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from heartsease.signal.interpolation import FloatArray
from heartsease.signal.rolling import sorted_distinct

ENTROPY_DIMENSION = 2
ENTROPY_TOLERANCE_SD = 0.2
# Cumulative count tables up to this size (a 128-Hz Holter day's 180^3 cells take 12 MB in
# 16 bits, a 250-Hz day's 250^3 cells 31 MB).
MAX_TABLE_BYTES = 64 * 2**20
MAX_PAIRWISE_TEMPLATES = 1500  # below this, comparing every pair outright is cheapest


def _templates(x: FloatArray, m: int, count: int) -> NDArray[np.float64]:
    return np.lib.stride_tricks.sliding_window_view(x, m)[:count]


Distinct = tuple[FloatArray, NDArray[np.intp]]  # np.unique(x, return_inverse=True)


def _table_dtype(count: int, bound: int | None = None) -> type[np.integer]:
    """The cumulative table's type when no box holds more than ``bound`` (or ``count``)
    templates: 16 bits when that is under 2^16. Its sums then wrap round, but each box's
    count, read by inclusion-exclusion in the same modular arithmetic, is exact: it is
    under the modulus."""
    most = count if bound is None else min(count, bound)
    return np.uint16 if most < 2**16 else np.int32


def _max_table_cells(count: int, bound: int | None = None) -> int:
    return MAX_TABLE_BYTES // np.dtype(_table_dtype(count, bound)).itemsize


def _counts_by_table(x: FloatArray, m: int, count: int, r: float,
                     distinct: Distinct | None = None,
                     bound: int | None = None) -> NDArray[np.int64]:
    """``bound``: no template matches more than this many (:func:`_table_dtype`)."""
    values, index = np.unique(x, return_inverse=True) if distinct is None else distinct
    v = values.size
    lo = np.searchsorted(values, values - r, side="left")  # first value >= x - r
    hi = np.searchsorted(values, values + r, side="right")  # one past the last <= x + r
    cells = _templates(index.astype(np.int64), m, count)
    # The templates counted cell by cell into a table with a leading zero row, from the
    # cells they occupy (a day's are 50,000 of its 5.8 M): a bincount over every cell
    # allocated 46 MB, whose first touch alone took 55 ms on a 2-core machine.
    occupied, counts = np.unique(np.ravel_multi_index(tuple((cells + 1).T), (v + 1,) * m),
                                 return_counts=True)
    table = np.zeros((v + 1,) * m, dtype=_table_dtype(count, bound))
    table.ravel()[occupied] = counts
    _cumulate(table)
    return _corner_sum(table, [lo[cells[:, k]] for k in range(m)],
                       [hi[cells[:, k]] for k in range(m)])


def _cumulate(table: NDArray[np.integer]) -> None:
    """Cumulative sums of ``table`` along every axis, in place.

    Along every axis but the last, each slice is added to the next: whole contiguous rows
    at a time. ``np.cumsum`` along a leading axis of a day's 180^3 table took four times as
    long (it runs along the axis, a short stride at a time). The sums are of integers: the
    same whichever way."""
    for axis in range(table.ndim - 1):
        before = (slice(None),) * axis
        for k in range(1, table.shape[axis]):
            np.add(table[(*before, k)], table[(*before, k - 1)], out=table[(*before, k)])
    np.cumsum(table, axis=table.ndim - 1, dtype=table.dtype, out=table)


def _corner_sum(table: NDArray[np.integer], lo: list[NDArray[np.int64]],
                hi: list[NDArray[np.int64]]) -> NDArray[np.int64]:
    """Box sums by inclusion-exclusion over a cumulative table with a leading zero row (in
    its own modular arithmetic when it is 16-bit: :func:`_table_dtype`)."""
    total = np.zeros(lo[0].size, dtype=np.uint16 if table.dtype == np.uint16 else np.int64)
    for corner in itertools.product((0, 1), repeat=len(lo)):
        at = tuple(hi[k] if c else lo[k] for k, c in enumerate(corner))
        add = np.subtract if (len(lo) - sum(corner)) % 2 else np.add
        add(total, table[at], out=total, casting="unsafe")
    return total.astype(np.int64)


def _counts_by_sweep(x: FloatArray, m: int, count: int, r: float) -> NDArray[np.int64]:
    """Counting for series with too many distinct values for an m-dimensional table.

    Templates are sorted by their first value; those within ``r`` of template i in it form
    a run ``[start_i, stop_i)`` of that order, so i's count is G(stop_i) - G(start_i), with
    G(k) the templates among the first k whose other m - 1 values lie in i's box. The order
    is cut into blocks of B; at each block's start an (m-1)-dimensional cumulative table
    answers G for every query landing in the block, and the few templates of the block
    before k are compared directly: O(n V^(m-1) / B + n B) for V distinct values.
    """
    values, index = np.unique(x, return_inverse=True)
    v = values.size
    lo_of = np.searchsorted(values, values - r, side="left")
    hi_of = np.searchsorted(values, values + r, side="right")
    cells = _templates(index.astype(np.int64), m, count)
    order = np.argsort(cells[:, 0], kind="stable")
    ranked = cells[order]
    first = ranked[:, 0]
    others_lo = [lo_of[cells[:, k]] for k in range(1, m)]
    others_hi = [hi_of[cells[:, k]] for k in range(1, m)]
    starts = np.searchsorted(first, lo_of[cells[:, 0]], side="left")
    stops = np.searchsorted(first, hi_of[cells[:, 0]], side="left")
    block = max(64, int(math.sqrt(v ** (m - 1))))  # measured best against V/2 .. 4V
    queries = np.concatenate([stops, starts])
    owner = np.tile(np.arange(count), 2)
    sign = np.concatenate([np.ones(count, np.int64), -np.ones(count, np.int64)])
    by_block = np.argsort(queries // block, kind="stable")
    edges = np.searchsorted(queries[by_block] // block, np.arange(count // block + 2))
    table = np.zeros((v + 1,) * (m - 1), dtype=np.int32)
    totals = np.zeros(count, dtype=np.int64)
    for b in range(count // block + 1):
        picked = by_block[edges[b]:edges[b + 1]]
        if picked.size:
            q, who = queries[picked], owner[picked]
            found = _corner_sum(table, [lo[who] for lo in others_lo],
                                [hi[who] for hi in others_hi])
            part = ranked[b * block:(b + 1) * block, 1:]
            inside = np.arange(part.shape[0])[None, :] < (q - b * block)[:, None]
            for k in range(m - 1):
                col = part[:, k][None, :]
                inside &= (col >= others_lo[k][who][:, None]) & (col < others_hi[k][who][:, None])
            totals += np.bincount(who, weights=sign[picked] * (found + inside.sum(axis=1)),
                                  minlength=count).astype(np.int64)
        new = ranked[b * block:(b + 1) * block, 1:]
        if new.size:
            flat = np.ravel_multi_index(tuple(new.T), (v,) * (m - 1))
            added = np.zeros((v + 1,) * (m - 1), dtype=np.int32)
            added[(slice(1, None),) * (m - 1)] = np.bincount(
                flat, minlength=v ** (m - 1)).reshape((v,) * (m - 1))
            _cumulate(added)
            table += added
    return totals


def _fenwick_box_nodes(lo: NDArray[np.intp], hi: NDArray[np.intp]) -> tuple[
        NDArray[np.int64], NDArray[np.int64]]:
    """For each range ``[lo, hi)`` of value numbers, the nodes of a Fenwick tree over
    1..V whose signed sum counts it: ``prefix(hi) - prefix(lo)``, the nodes both prefixes
    share left out (about half of them, as a box spans few values). Padded with node 0,
    sign 0."""
    rows = []
    for start, stop in zip(lo.tolist(), hi.tolist(), strict=True):
        plus, minus = _fenwick_prefix(stop), _fenwick_prefix(start)
        shared = set(plus) & set(minus)
        rows.append([(n, 1) for n in plus if n not in shared]
                    + [(n, -1) for n in minus if n not in shared])
    width = max(1, *(len(row) for row in rows))
    nodes, signs = np.zeros((len(rows), width), np.int64), np.zeros((len(rows), width), np.int64)
    for k, row in enumerate(rows):
        for j, (node, sign) in enumerate(row):
            nodes[k, j], signs[k, j] = node, sign
    return nodes, signs


def _fenwick_prefix(k: int) -> list[int]:
    """The Fenwick nodes summing values 1..k."""
    nodes = []
    while k > 0:
        nodes.append(k)
        k -= k & -k
    return nodes


def _fenwick_update_nodes(v: int) -> NDArray[np.int64]:
    """For each value number 0..v-1, the Fenwick nodes a count there adds to (padded with
    v + 1, a node no prefix reads)."""
    rows = []
    for k in range(1, v + 1):
        row = []
        while k <= v:
            row.append(k)
            k += k & -k
        rows.append(row)
    out = np.full((v, max(len(row) for row in rows)), v + 1, dtype=np.int64)
    for k, row in enumerate(rows):
        out[k, : len(row)] = row
    return out


def _counts_by_fenwick(x: FloatArray, m: int, count: int, r: float) -> NDArray[np.int64]:
    """Counting for templates of 3 values with too many distinct values for a 3-dimensional
    table (a day of 1-ms intervals: 900^3 cells).

    Template i's count is G(hi_i) - G(lo_i), G(k) the templates whose first value is among
    the first k distinct values and whose other two lie in i's box, and ``[lo_i, hi_i)`` the
    values within ``r`` of its first. The values are swept in order: at each, the queries
    G(k) due there read a 2-dimensional Fenwick tree of the templates inserted so far (each
    box by the nodes of its rows and columns that do not cancel, about 8 x 8), then the
    templates whose first value it is are inserted. O(n log^2 V): a 1-ms day's 100,000
    templates in 0.3 s where the sweep takes 1.8 s. Integer counts: exact, with the table's
    test of closeness (values within ``r``, each bound rounded).
    """
    if m != 3:
        raise ValueError("the Fenwick count is for templates of 3 values")
    values, index = np.unique(x, return_inverse=True)
    v = values.size
    lo_of = np.searchsorted(values, values - r, side="left")
    hi_of = np.searchsorted(values, values + r, side="right")
    cells = _templates(index.astype(np.int64), m, count)
    first, second, third = cells[:, 0], cells[:, 1], cells[:, 2]
    box_nodes, box_signs = _fenwick_box_nodes(lo_of, hi_of)
    update = _fenwick_update_nodes(v)
    side = v + 2  # node numbers 0 (read as nothing), 1..v, and v + 1 (written, never read)
    tree = np.zeros(side * side, dtype=np.int64)
    # The queries: G(lo_i) subtracted, G(hi_i) added, grouped by the value they are due at.
    due = np.concatenate([lo_of[first], hi_of[first]])
    owner = np.tile(np.arange(count), 2)
    sign = np.repeat(np.array([-1, 1], dtype=np.int64), count)
    by_due = np.argsort(due, kind="stable")
    due_edges = np.searchsorted(due[by_due], np.arange(v + 2))
    by_first = np.argsort(first, kind="stable")
    first_edges = np.searchsorted(first[by_first], np.arange(v + 1))
    totals = np.zeros(count, dtype=np.int64)
    for k in range(v + 1):
        queries = by_due[due_edges[k] : due_edges[k + 1]]
        if queries.size:
            who = owner[queries]
            rows, row_signs = box_nodes[second[who]], box_signs[second[who]]
            cols, col_signs = box_nodes[third[who]], box_signs[third[who]]
            found = tree[rows[:, :, None] * side + cols[:, None, :]]
            box = ((found @ col_signs[:, :, None])[:, :, 0] * row_signs).sum(axis=1)
            totals[who] += sign[queries] * box  # a template is due once at each value
        if k < v:
            new = by_first[first_edges[k] : first_edges[k + 1]]
            if new.size:
                at = update[second[new]][:, :, None] * side + update[third[new]][:, None, :]
                np.add.at(tree, at.ravel(), 1)
    return totals


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


CountMethod = Literal["auto", "table", "fenwick", "sweep", "pairwise", "tree"]
_COUNTERS = {"table": _counts_by_table, "fenwick": _counts_by_fenwick,
             "sweep": _counts_by_sweep, "pairwise": _counts_pairwise, "tree": _counts_by_tree}


def _cheapest(x: FloatArray, m: int, count: int, distinct: int | None = None,
              bound: int | None = None) -> str:
    """The cheapest exact method for ``x``, ``distinct`` its number of distinct values
    (counted here if not given: sorting a day's beats takes a tenth of its entropies);
    ``bound``: no template matches more than this many, if known."""
    v = sorted_distinct(x).size if distinct is None else distinct
    table_cells = (v + 1) ** m
    pair_cells = count * count * m
    max_cells = _max_table_cells(count, bound)
    if table_cells <= min(pair_cells, max_cells):
        return "table"
    if count <= MAX_PAIRWISE_TEMPLATES:
        return "pairwise"
    if table_cells <= max_cells:
        return "table"
    if m == 3 and (v + 2) ** 2 <= MAX_TABLE_BYTES // 8:  # its tree: 64-bit counts
        return "fenwick"
    # The sweep holds two int32 tables of m - 1 dimensions at a time.
    return "sweep" if (v + 1) ** (m - 1) <= MAX_TABLE_BYTES // 8 else "tree"


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


def _close(x: FloatArray, r: float, method: str) -> NDArray[np.bool_]:
    """Which values lie within ``r`` of which, as ``method`` tells it: the table's test
    (``x[j]`` between ``x[i] - r`` and ``x[i] + r``, each rounded) or the pairwise one
    (``|x[i] - x[j]| <= r``), which can differ by a rounding at the edge."""
    if method == "table":
        # x[j] >= x[i] - r exactly when fewer values lie below x[j] than below x[i] - r, and
        # x[j] <= x[i] + r when fewer lie below x[j] than at or below x[i] + r: so the test
        # is one of ranks, start[i] <= rank[j] < stop[i], one unsigned 16-bit comparison a
        # pair (n <= MAX_PAIRWISE_TEMPLATES) in place of two of 64-bit floats: a fifth of
        # the time.
        ordered = np.sort(x)
        rank = np.searchsorted(ordered, x, side="left").astype(np.int16)
        start = np.searchsorted(ordered, x - r, side="left")
        width = (np.searchsorted(ordered, x + r, side="right") - start).astype(np.uint16)
        return (rank[None, :] - start.astype(np.int16)[:, None]).view(np.uint16) < width[:, None]
    return np.abs(x[:, None] - x[None, :]) <= r


def _matches_of_both_lengths(x: FloatArray, m: int, r: float,
                             methods: tuple[str, str]) -> list[NDArray[np.int64]]:
    """:func:`template_matches` for lengths ``m`` and ``m + 1`` from one comparison of every
    value with every other: templates ``i`` and ``j`` of length ``m`` match when values
    ``i + k`` and ``j + k`` are close for every ``k < m``, and those of length ``m + 1``
    when, besides, values ``i + m`` and ``j + m`` are. The counts are those the methods
    ``methods`` give, to the match (a 5-minute segment's both counts in a third of the
    time the table takes for them)."""
    n = x.size
    close = {method: _close(x, r, method) for method in set(methods)}
    counts = []
    for length, method in zip((m, m + 1), methods, strict=True):
        count = n - length + 1
        matched = close[method][:count, :count].copy()
        for k in range(1, length):
            matched &= close[method][k : k + count, k : k + count]
        # Row sums of bytes in 16 bits (a count is at most n): three times as quick as
        # count_nonzero along an axis.
        counts.append(np.add.reduce(matched.view(np.uint8), axis=1, dtype=np.uint16)
                      .astype(np.int64))
    return counts


def _counts(x: FloatArray, length: int, method: str, r: float, distinct: Distinct,
            bound: int | None = None) -> NDArray[np.int64]:
    """:func:`template_matches` by ``method`` (a table's from the ``distinct`` values)."""
    count = x.size - length + 1
    if method == "table":
        return _counts_by_table(x, length, count, r, distinct, bound)
    return _COUNTERS[method](x, length, count, r)


def entropies(x: FloatArray, m: int, r: float) -> tuple[float | None, float | None]:
    """ApEn and SampEn from one count of matches per template length.

    Examples
    --------
    >>> apen, sampen = entropies(np.tile([800.0, 850.0], 100), 2, 10.0)
    >>> round(apen, 3), round(sampen, 3)  # a strict alternation holds no surprise
    (0.0, 0.0)
    """
    if x.size < m + 2:
        return None, None
    # The distinct values, once for both lengths (sorting a day's beats is a third of its
    # entropies' time); the inverse only where a table will use it.
    short = x.size <= MAX_PAIRWISE_TEMPLATES
    distinct = None if short else np.unique(x, return_inverse=True)
    v = sorted_distinct(x).size if distinct is None else distinct[0].size
    methods = (_cheapest(x, m, x.size - m + 1, v), _cheapest(x, m + 1, x.size - m, v))
    if short and set(methods) <= {"table", "pairwise"}:
        # One closeness test for both lengths: comparing every value with every other is
        # the cost whichever test it is, and two tests doubled it (a 1-ms day's segments).
        test = "table" if "table" in methods else "pairwise"
        b_counts, a_counts = _matches_of_both_lengths(x, m, r, (test, test))
    else:  # b: the N - m + 1 templates of length m; a: the N - m of length m + 1
        if distinct is None:
            distinct = np.unique(x, return_inverse=True)
        b_counts = _counts(x, m, methods[0], r, distinct)
        # A template of m + 1 values matches no more templates than its first m do: a
        # bound that lets the longer templates' table be 16-bit, so twice as large.
        bound = int(b_counts.max())
        a_counts = _counts(x, m + 1, _cheapest(x, m + 1, x.size - m, v, bound), r, distinct,
                           bound)
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
    return entropies(x, m, entropy_tolerance(x) if r is None else r)[1]


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
    return entropies(x, m, entropy_tolerance(x) if r is None else r)[0]
