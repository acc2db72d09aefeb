"""Banded linear solves (the spline's tridiagonal system, smoothness priors' pentadiagonal one).

Importing ``scipy.linalg`` takes longer than analysing a 10-minute strap recording (0.8 s of
a 1.3 s run on the shared test machine; issue 27 asks for the whole run within 10x of a bare
``python -c pass``). Small tridiagonal systems -- a live 64-s window's 90 knots, a 10-minute
tachogram's 2,400 -- are solved here in plain Python, in well under a millisecond to a few
milliseconds; from :data:`LAPACK_FROM_ROWS` rows on (a 24-hour day's spline) LAPACK is used,
found in numpy's own OpenBLAS (:mod:`heartsease.signal.lapack`). The smoothness-priors
systems go to that LAPACK at every size where numpy carries it (it takes a day's 270
segment trends in one call), and are solved in plain Python below LAPACK_FROM_ROWS where it
does not. Both paths are pinned against each other in ``tests/signal/test_numerics.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from heartsease.signal.lapack import gtsv, has_numpy_lapack, pbsv

FloatArray = NDArray[np.float64]
LAPACK_FROM_ROWS = 20_000


def solve_tridiagonal(lower: FloatArray, diag: FloatArray, upper: FloatArray,
                      rhs: FloatArray) -> FloatArray:
    """``x`` with ``lower[i-1] x[i-1] + diag[i] x[i] + upper[i] x[i+1] = rhs[i]``.

    Gaussian elimination without pivoting (the Thomas algorithm) below
    :data:`LAPACK_FROM_ROWS` rows: the not-a-knot spline's system has non-zero pivots for
    strictly increasing knots. Raises ``ValueError`` on a zero pivot.

    Examples
    --------
    >>> solve_tridiagonal(np.array([1.0]), np.array([2.0, 2.0]), np.array([1.0]),
    ...                   np.array([3.0, 3.0])).tolist()
    [1.0, 1.0]
    """
    n = diag.size
    if n >= LAPACK_FROM_ROWS:
        x, info = gtsv(lower, diag, upper, rhs)
        if info != 0:
            raise ValueError("singular tridiagonal system")
        return x
    # Row by row with the previous row's values in locals: the same operations in the same
    # order as indexing the lists, at half the interpreter's cost.
    c = upper.tolist()
    b_prev, d_prev = float(diag[0]), float(rhs[0])
    b, d = [b_prev], [d_prev]
    for a_i, b_i, d_i, c_prev in zip(lower.tolist(), diag[1:].tolist(), rhs[1:].tolist(), c,
                                     strict=True):
        if b_prev == 0.0:
            raise ValueError("singular tridiagonal system")
        w = a_i / b_prev
        b_prev = b_i - w * c_prev
        d_prev = d_i - w * d_prev
        b.append(b_prev)
        d.append(d_prev)
    if b_prev == 0.0:
        raise ValueError("singular tridiagonal system")
    x_next = d_prev / b_prev
    x = [x_next]
    for b_i, d_i, c_i in zip(reversed(b[:-1]), reversed(d[:-1]), reversed(c), strict=True):
        x_next = (d_i - c_i * x_next) / b_i
        x.append(x_next)
    x.reverse()
    return np.asarray(x)


@dataclass(frozen=True, slots=True)
class PentadiagonalFactor:
    """``A = L D L'`` of a symmetric positive definite pentadiagonal ``A`` (unit
    lower-triangular ``L``: ``l1[i] = L[i, i-1]``, ``l2[i] = L[i, i-2]``), or, from
    :data:`LAPACK_FROM_ROWS` rows on, ``A``'s bands for LAPACK."""

    d: list[float]
    l1: list[float]
    l2: list[float]
    bands: FloatArray | None = None


def factor_symmetric_pentadiagonal(bands: FloatArray) -> PentadiagonalFactor:
    """Factor ``A`` given in the upper form of ``scipy.linalg.solveh_banded``:
    ``bands[0, 2:]`` the second super-diagonal, ``bands[1, 1:]`` the first, ``bands[2]`` the
    diagonal. A factor depends on ``A`` alone, so one serves every series of a length (the
    5-minute segments of a day share theirs).

    Where numpy carries LAPACK (:func:`~heartsease.signal.lapack.has_numpy_lapack`) every
    size goes to it: LAPACK solves a day's 270 segment trends of one length in one call, in
    less than half the time the plain-Python solves took together."""
    n = bands.shape[1]
    if n >= LAPACK_FROM_ROWS or has_numpy_lapack():
        return PentadiagonalFactor([], [], [], bands)
    e2 = [0.0, 0.0, *bands[0, 2:].tolist()]  # A[i, i-2]
    e1 = [0.0, *bands[1, 1:].tolist()]  # A[i, i-1]
    diag = bands[2].tolist()
    dd, l1, l2 = [0.0] * n, [0.0] * n, [0.0] * n
    for i in range(n):
        l2_i = e2[i] / dd[i - 2] if i >= 2 else 0.0
        l1_i = (e1[i] - l2_i * dd[i - 2] * l1[i - 1]) / dd[i - 1] if i >= 1 else 0.0
        d_i = diag[i] - l1_i * l1_i * (dd[i - 1] if i >= 1 else 0.0) - (
            l2_i * l2_i * dd[i - 2] if i >= 2 else 0.0)
        if d_i <= 0.0:
            raise ValueError("matrix is not positive definite")
        dd[i], l1[i], l2[i] = d_i, l1_i, l2_i
    return PentadiagonalFactor(dd, l1, l2)


def solve_factored(factor: PentadiagonalFactor, rhs: FloatArray) -> FloatArray:
    """``x`` with ``A x = rhs`` for the ``A`` that ``factor`` came from."""
    if factor.bands is not None:
        x, info = pbsv(factor.bands, rhs)
        if info > 0:
            raise np.linalg.LinAlgError(f"{info}th leading minor not positive definite")
        return x
    n, l1, l2 = rhs.size, factor.l1, factor.l2
    if n < 3:
        y = rhs.tolist()
        for i in range(1, n):
            y[i] -= l1[i] * y[i - 1] + 0.0
        x = [yi / di for yi, di in zip(y, factor.d, strict=True)]
        for i in range(n - 2, -1, -1):
            x[i] -= l1[i + 1] * x[i + 1] + 0.0
        return np.asarray(x)
    # Forward then back substitution with the last two values in locals: the operations of
    # y[i] -= l1[i] y[i-1] + l2[i] y[i-2] (and back) in the same order, at half the cost.
    y2, y1 = float(rhs[0]), float(rhs[1]) - (l1[1] * float(rhs[0]) + 0.0)
    y = [y2, y1]
    for r, p, q in zip(rhs[2:].tolist(), l1[2:], l2[2:], strict=True):
        y2, y1 = y1, r - (p * y1 + q * y2)
        y.append(y1)
    x = [yi / di for yi, di in zip(y, factor.d, strict=True)]
    x2 = x[-1]
    x1 = x[-2] - (l1[-1] * x2 + 0.0)
    back = [x2, x1]
    for xi, p, q in zip(reversed(x[:-2]), reversed(l1[1:-1]), reversed(l2[2:]), strict=True):
        x2, x1 = x1, xi - (p * x1 + q * x2)
        back.append(x1)
    back.reverse()
    return np.asarray(back)


def solve_tridiagonal_many(
    systems: list[tuple[FloatArray, FloatArray, FloatArray, FloatArray]],
) -> list[FloatArray]:
    """:func:`solve_tridiagonal` of every ``(lower, diag, upper, rhs)`` in ``systems`` (of
    any sizes under :data:`LAPACK_FROM_ROWS`), row by row for all systems at once.

    Each system's operations are its own solve's, in the same order, so every solution is
    the same to the last bit; the interpreter's cost is paid once a row, not once a row a
    system (a day's 277 segment splines). Shorter systems are padded with rows that keep
    their numbers finite and are dropped. Raises ``ValueError`` on a zero pivot.

    Examples
    --------
    >>> one = (np.array([1.0]), np.array([2.0, 2.0]), np.array([1.0]), np.array([3.0, 3.0]))
    >>> [x.tolist() for x in solve_tridiagonal_many([one, one])]
    [[1.0, 1.0], [1.0, 1.0]]
    """
    sizes = [diag.size for _, diag, _, _ in systems]
    if not systems or max(sizes) >= LAPACK_FROM_ROWS or min(sizes) < 1:
        return [solve_tridiagonal(*system) for system in systems]
    rows, count = max(sizes), len(systems)
    # Row i of every system side by side (one contiguous row a step). Padding: a unit
    # diagonal, no coupling, a zero right-hand side.
    lower, upper = np.zeros((rows, count)), np.zeros((rows, count))
    diag, rhs = np.ones((rows, count)), np.zeros((rows, count))
    for k, (a, b, c, d) in enumerate(systems):
        lower[1 : b.size, k], diag[: b.size, k] = a, b
        upper[: b.size - 1, k], rhs[: b.size, k] = c, d
    for i in range(1, rows):
        if not diag[i - 1].all():
            raise ValueError("singular tridiagonal system")
        w = lower[i] / diag[i - 1]
        diag[i] -= w * upper[i - 1]
        rhs[i] -= w * rhs[i - 1]
    if not diag[rows - 1].all():
        raise ValueError("singular tridiagonal system")
    # A system's last row has no coupling to the padding: (d - 0 x) / b is d / b.
    x = np.empty((rows, count))
    x[rows - 1] = rhs[rows - 1] / diag[rows - 1]
    for i in range(rows - 2, -1, -1):
        x[i] = (rhs[i] - upper[i] * x[i + 1]) / diag[i]
    return [x[:size, k].copy() for k, size in enumerate(sizes)]


def solve_factored_many(factors: list[PentadiagonalFactor],
                        rhs: list[FloatArray]) -> list[FloatArray]:
    """:func:`solve_factored` of each ``rhs`` with its factor, row by row for all at once.

    The same operations in the same order as each solve alone (its ``+ 0.0`` where a
    neighbour is missing is the padding's ``0 * y``), so the same numbers to the last bit;
    systems under 3 rows are solved one by one. Factors for LAPACK (:func:`factor_symmetric_
    pentadiagonal`) take all their right-hand sides in one call, each solved as alone.

    Examples
    --------
    >>> bands = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 1.0], [4.0, 4.0, 4.0]])
    >>> f = factor_symmetric_pentadiagonal(bands)
    >>> [x.round(9).tolist() for x in solve_factored_many([f], [np.array([6.0, 6.0, 6.0])])]
    [[1.0, 1.0, 1.0]]
    """
    sizes = [b.size for b in rhs]
    if rhs and all(f.bands is not None for f in factors):
        return _solve_banded_together(factors, rhs)
    if not rhs or any(f.bands is not None for f in factors) or min(sizes) < 3:
        return [solve_factored(f, b) for f, b in zip(factors, rhs, strict=True)]
    rows, count = max(sizes), len(rhs)
    # Two zero rows before the first (y[-1], y[-2]) and after the last (x[n], x[n+1]) of
    # every system, with zero multipliers: 0 * 0 added where a solve alone adds 0.0.
    l1, l2 = np.zeros((rows + 2, count)), np.zeros((rows + 2, count))
    d, y = np.ones((rows, count)), np.zeros((rows + 2, count))
    for k, (f, b) in enumerate(zip(factors, rhs, strict=True)):
        l1[: b.size, k], l2[: b.size, k], d[: b.size, k] = f.l1, f.l2, f.d
        y[2 : b.size + 2, k] = b
    # y[i] -= l1 y[i-1] + l2 y[i-2], the products and their sum in two scratch rows (a
    # day's 1,200 rows a pass: new arrays each step took half the time).
    first, second = np.empty(count), np.empty(count)
    for i in range(2, rows + 2):
        np.multiply(l1[i - 2], y[i - 1], out=first)
        np.multiply(l2[i - 2], y[i - 2], out=second)
        first += second
        y[i] -= first
    x = np.zeros((rows + 2, count))
    np.divide(y[2:], d, out=x[:rows])
    for i in range(rows - 1, -1, -1):
        np.multiply(l1[i + 1], x[i + 1], out=first)
        np.multiply(l2[i + 2], x[i + 2], out=second)
        first += second
        x[i] -= first
    return [x[:size, k].copy() for k, size in enumerate(sizes)]


def _solve_banded_together(factors: list[PentadiagonalFactor],
                           rhs: list[FloatArray]) -> list[FloatArray]:
    """:func:`solve_factored` of each ``rhs``, the right-hand sides of one factor in one
    LAPACK call."""
    out: list[FloatArray] = [np.empty(0)] * len(rhs)
    by_factor: dict[int, list[int]] = {}
    for k, f in enumerate(factors):
        by_factor.setdefault(id(f), []).append(k)
    for members in by_factor.values():
        bands = factors[members[0]].bands
        assert bands is not None
        x, info = pbsv(bands, np.column_stack([rhs[k] for k in members]))
        if info > 0:
            raise np.linalg.LinAlgError(f"{info}th leading minor not positive definite")
        for column, k in enumerate(members):
            out[k] = x[:, column].copy()
    return out


def solve_symmetric_pentadiagonal(bands: FloatArray, rhs: FloatArray) -> FloatArray:
    """``x`` with ``A x = rhs``, ``A`` as :func:`factor_symmetric_pentadiagonal` takes it.

    Examples
    --------
    >>> bands = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 1.0], [4.0, 4.0, 4.0]])
    >>> solve_symmetric_pentadiagonal(bands, np.array([6.0, 6.0, 6.0])).round(9).tolist()
    [1.0, 1.0, 1.0]
    """
    return solve_factored(factor_symmetric_pentadiagonal(bands), rhs)
