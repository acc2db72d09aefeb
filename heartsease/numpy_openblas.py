"""Where numpy's wheels keep the OpenBLAS they load, found without importing numpy: the
command's entry point (:mod:`heartsease.cli.entry`) must know it before numpy loads, and
:mod:`heartsease.signal.lapack` calls into that library."""

from __future__ import annotations

import glob
import os

LIBRARY_PATTERN = "libscipy_openblas64_*"


def numpy_openblas_paths(numpy_package: str) -> list[str]:
    """The OpenBLAS libraries of the numpy installed at ``numpy_package`` (its folder):
    beside it in ``numpy.libs`` (Linux and Windows wheels) or inside it in ``.dylibs``
    (macOS wheels); none for a numpy built against another BLAS."""
    return [path for where in (os.path.join(os.path.dirname(numpy_package), "numpy.libs"),
                               os.path.join(numpy_package, ".dylibs"))
            for path in sorted(glob.glob(os.path.join(where, LIBRARY_PATTERN)))]
