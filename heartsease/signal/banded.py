"""Banded linear solves (the spline's tridiagonal system, smoothness priors' pentadiagonal one).

Importing ``scipy.linalg`` takes longer than analysing a 10-minute strap recording (0.8 s of
a 1.3 s run on the shared test machine; issue 27 asks for the whole run within 10x of a bare
``python -c pass``). Small systems -- a live 64-s window's 90 knots, a 10-minute tachogram's
2,400 samples -- are solved here in plain Python, in well under a millisecond to a few
milliseconds; from :data:`LAPACK_FROM_ROWS` rows on (a 24-hour day's spline, its whole-day
detrending) LAPACK is imported and used, as its import is then a small part of the work.
Both paths are pinned against each other in ``tests/signal/test_numerics.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

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
        from scipy.linalg import lapack

        *_, x, info = lapack.dgtsv(lower, diag, upper, rhs, True, True, True, True)
        if info != 0:
            raise ValueError("singular tridiagonal system")
        return np.asarray(x)
    a, b, c, d = lower.tolist(), diag.tolist(), upper.tolist(), rhs.tolist()
    for i in range(1, n):
        if b[i - 1] == 0.0:
            raise ValueError("singular tridiagonal system")
        w = a[i - 1] / b[i - 1]
        b[i] -= w * c[i - 1]
        d[i] -= w * d[i - 1]
    if b[-1] == 0.0:
        raise ValueError("singular tridiagonal system")
    x = [0.0] * n
    x[-1] = d[-1] / b[-1]
    for i in range(n - 2, -1, -1):
        x[i] = (d[i] - c[i] * x[i + 1]) / b[i]
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
    5-minute segments of a day share theirs)."""
    n = bands.shape[1]
    if n >= LAPACK_FROM_ROWS:
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
        from scipy.linalg import solveh_banded

        return np.asarray(solveh_banded(factor.bands, rhs, check_finite=False))
    n, l1, l2 = rhs.size, factor.l1, factor.l2
    y = rhs.tolist()
    for i in range(1, n):
        y[i] -= l1[i] * y[i - 1] + (l2[i] * y[i - 2] if i >= 2 else 0.0)
    x = [yi / di for yi, di in zip(y, factor.d, strict=True)]
    for i in range(n - 2, -1, -1):
        x[i] -= l1[i + 1] * x[i + 1] + (l2[i + 2] * x[i + 2] if i + 2 < n else 0.0)
    return np.asarray(x)


def solve_symmetric_pentadiagonal(bands: FloatArray, rhs: FloatArray) -> FloatArray:
    """``x`` with ``A x = rhs``, ``A`` as :func:`factor_symmetric_pentadiagonal` takes it.

    Examples
    --------
    >>> bands = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 1.0], [4.0, 4.0, 4.0]])
    >>> solve_symmetric_pentadiagonal(bands, np.array([6.0, 6.0, 6.0])).round(9).tolist()
    [1.0, 1.0, 1.0]
    """
    return solve_factored(factor_symmetric_pentadiagonal(bands), rhs)
