"""The two LAPACK solvers a 24-hour day needs, without importing ``scipy.linalg``.

A day's 100,000-knot spline and its 345,000-sample smoothness-priors detrending are solved by
LAPACK (``dgtsv``, ``dpbsv``: :mod:`heartsease.signal.banded`). Importing ``scipy.linalg``
for them costs about 0.2 s of CPU, a third of what neurokit2's ``hrv_time`` takes on the
whole day (issue 27 asks the whole analysis, process start included, to take less). numpy's
wheels carry their own OpenBLAS, LAPACK included and already loaded with numpy, so the two
routines are called there through ``ctypes``: the same reference LAPACK code, and on the
machines tested the same bits as scipy's (``tests/signal/test_numerics.py`` pins them equal
to the last bit). Where numpy has no such library (a numpy built against MKL or Accelerate),
scipy's routines are used as before. :func:`one_blas_thread` sets that OpenBLAS's threads.
"""

from __future__ import annotations

import ctypes
import glob
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
# numpy's OpenBLAS uses 64-bit integers and prefixes and suffixes its symbols: LAPACK's
# Fortran ones (arguments by reference) as scipy_dgtsv_64_, its C ones as
# scipy_openblas_set_num_threads64_ (the ..._64_ twin of that is Fortran's, by reference).
_FORTRAN, _C = "scipy_{}_64_", "scipy_{}64_"
_Int = ctypes.c_int64
_DOUBLES = ctypes.POINTER(ctypes.c_double)


def _numpy_openblas_paths(numpy_package: str) -> list[str]:
    """The OpenBLAS libraries of the numpy installed at ``numpy_package`` (its folder):
    beside it in ``numpy.libs`` (Linux and Windows wheels) or inside it in ``.dylibs``
    (macOS wheels); none for a numpy built against another BLAS."""
    return [path for where in (os.path.join(os.path.dirname(numpy_package), "numpy.libs"),
                               os.path.join(numpy_package, ".dylibs"))
            for path in sorted(glob.glob(os.path.join(where, "libscipy_openblas64_*")))]


@cache
def _numpy_openblas() -> dict[str, Callable[..., object]] | None:
    """The routines used here from the OpenBLAS numpy loaded, or ``None`` without one."""
    candidates = _numpy_openblas_paths(os.path.dirname(np.__file__))
    names = {"dgtsv": _FORTRAN, "dpbsv": _FORTRAN, "openblas_get_num_threads": _C,
             "openblas_set_num_threads": _C}
    for path in candidates:
        try:
            library = ctypes.CDLL(path)
            routines = {name: getattr(library, form.format(name)) for name, form in names.items()}
        except (OSError, AttributeError):
            continue
        routines["openblas_get_num_threads"].restype = ctypes.c_int
        return routines
    return None


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """numpy's OpenBLAS on one thread within, on as many as before after.

    OpenBLAS splits long dot products and large matrix products between its threads, and
    their last bits depend on how many it has (a 5-minute recording's coherence windows
    differed in the 16th digit between one thread and two): on one, the figures are the same
    bits on every machine and from every caller. Beside the forked part of a long
    recording's analysis a second thread only competes for the other core."""
    routines = _numpy_openblas()
    if routines is None:
        yield
        return
    before = int(routines["openblas_get_num_threads"]())
    routines["openblas_set_num_threads"](ctypes.c_int(1))
    try:
        yield
    finally:
        routines["openblas_set_num_threads"](ctypes.c_int(before))


def _pointer(array: FloatArray) -> ctypes._Pointer[ctypes.c_double]:
    return array.ctypes.data_as(_DOUBLES)


def gtsv(lower: FloatArray, diag: FloatArray, upper: FloatArray,
         rhs: FloatArray) -> tuple[FloatArray, int]:
    """LAPACK ``dgtsv`` (Gaussian elimination with partial pivoting) on copies of the bands:
    the solution and LAPACK's ``info`` (``> 0``: singular)."""
    routines = _numpy_openblas()
    if routines is None:
        from scipy.linalg import lapack

        *_, x, info = lapack.dgtsv(lower, diag, upper, rhs, False, False, False, False)
        return np.asarray(x), int(info)
    dl, d, du, b = (np.array(a, dtype=np.float64) for a in (lower, diag, upper, rhs))
    n, info = _Int(d.size), _Int(0)
    routines["dgtsv"](ctypes.byref(n), ctypes.byref(_Int(1)), _pointer(dl), _pointer(d),
                      _pointer(du), _pointer(b), ctypes.byref(_Int(max(1, d.size))),
                      ctypes.byref(info))
    return b, int(info.value)


def has_numpy_lapack() -> bool:
    """Whether numpy carries its own OpenBLAS, whose LAPACK is then called without scipy."""
    return _numpy_openblas() is not None


def pbsv(bands: FloatArray, rhs: FloatArray) -> tuple[FloatArray, int]:
    """LAPACK ``dpbsv`` (banded Cholesky) for the symmetric positive definite matrix whose
    upper bands are the rows of ``bands`` (``scipy.linalg.solveh_banded``'s form): the
    solution and LAPACK's ``info`` (``> 0``: not positive definite). ``rhs`` may hold one
    right-hand side or one a column; LAPACK solves each column alone, so each is what it
    would be on its own."""
    routines = _numpy_openblas()
    if routines is None:
        from scipy.linalg import lapack

        _, x, info = lapack.dpbsv(bands, rhs, lower=0)
        return np.asarray(x), int(info)
    ab = np.array(bands, dtype=np.float64, order="F")
    b = np.array(rhs, dtype=np.float64, order="F")
    kd, n = ab.shape[0] - 1, ab.shape[1]
    info = _Int(0)
    # Fortran's hidden length of the one-character UPLO argument comes last.
    routines["dpbsv"](ctypes.c_char_p(b"U"), ctypes.byref(_Int(n)), ctypes.byref(_Int(kd)),
                      ctypes.byref(_Int(b.shape[1] if b.ndim == 2 else 1)), _pointer(ab),
                      ctypes.byref(_Int(kd + 1)),
                      _pointer(b), ctypes.byref(_Int(max(1, n))), ctypes.byref(info),
                      ctypes.c_size_t(1))
    return b, int(info.value)


def blas_threads() -> int | None:
    """How many threads numpy's OpenBLAS has now; ``None`` without one."""
    routines = _numpy_openblas()
    return None if routines is None else int(routines["openblas_get_num_threads"]())
