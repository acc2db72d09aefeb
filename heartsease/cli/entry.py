"""The ``heartsease`` entry point: ``analyze`` with plain arguments runs without typer.

Importing typer (which builds a pydantic adapter for every parameter), click and rich takes
about six times as long as starting Python, and longer than analysing a 10-minute recording
(issue 27: a strap recording within 10x of ``python -c pass``). So ``heartsease analyze``
reads its own arguments when they are plain -- known options, valid numbers within their
ranges, one path -- and calls :func:`heartsease.cli.analyze_core.run_analyze`, as the typer
command does. Anything else (``--help``, a typo, a value out of range, ``--opt=value``,
``--``) goes to the typer application, whose messages and exit codes are then the same as
ever. ``tests/test_cli.py`` pins this parser's options to the typer command's.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

# The analyze command's flags and options: destination, type, and the range typer checks.
ANALYZE_FLAGS = {"--json": "as_json", "--no-correction": "no_correction"}
ANALYZE_OPTIONS: dict[str, tuple[str, type, float | None, float | None]] = {
    "--correction": ("correction", str, None, None),
    "--detrend": ("detrend", str, None, None),
    "--lambda": ("lambda_", float, 1.0, None),
    "--window-s": ("window_s", float, 10.0, None),
    "--overlap": ("overlap", float, 0.0, 95.0),
    "--ar-order": ("ar_order", int, 1, 64),
    "--beats": ("beats", Path, None, None),
}
# What OpenBLAS reads its thread count from, first found first.
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")
# Only numbers written plainly; anything else (1_000, nan, 0x10) is left to typer to judge.
_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_INT = re.compile(r"[+-]?\d+")
# glibc's mallopt parameters (malloc.h): M_TRIM_THRESHOLD, M_MMAP_MAX.
_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4


def parse_analyze(args: list[str]) -> dict[str, object] | None:
    """``run_analyze``'s keyword arguments from the words after ``analyze``, or ``None``
    when they are anything but plain (typer then reads them and says what is wrong).

    Examples
    --------
    >>> parse_analyze(["--json", "day.csv", "--ar-order", "8"])
    {'as_json': True, 'path': PosixPath('day.csv'), 'ar_order': 8}
    >>> parse_analyze(["--overlap", "99", "day.csv"]) is None  # out of range: typer says so
    True
    """
    parsed: dict[str, object] = {}
    i = 0
    while i < len(args):
        word = args[i]
        if word in ANALYZE_FLAGS:
            dest = ANALYZE_FLAGS[word]
            value: object = True
        elif word in ANALYZE_OPTIONS:
            if i + 1 == len(args):
                return None
            dest, kind, low, high = ANALYZE_OPTIONS[word]
            value = _value(args[i + 1], kind, low, high)
            if value is None:
                return None
            i += 1
        elif word.startswith("-") or "path" in parsed:
            return None
        else:
            dest, value = "path", Path(word)
        if dest in parsed:  # given twice: typer's rule (the last wins) is not repeated here
            return None
        parsed[dest] = value
        i += 1
    return parsed if "path" in parsed else None


def _value(word: str, kind: type, low: float | None, high: float | None) -> object | None:
    if word.startswith("-") and kind in (str, Path):
        return None
    if kind is str:
        return word
    if kind is Path:
        return Path(word)
    if not (_INT if kind is int else _FLOAT).fullmatch(word):
        return None
    number = kind(word)
    if (low is not None and number < low) or (high is not None and number > high):
        return None
    return number


def keep_freed_memory() -> bool:
    """Have glibc's malloc keep the memory the process frees for its next allocations, rather
    than return it to the system and fault it back in page by page; whether it could.

    An analysis allocates and frees arrays of a day's 100,000 beats or 345,000 samples many
    times over. By default glibc gives each large one its own mapping (unmapped when freed)
    and trims the heap's top: each new array's pages are then faulted in anew, and after the
    fork of :func:`heartsease.cli.analyze_core.run_analyze` reused heap pages are copied on
    write. Measured on the 2-core test machine (``/usr/bin/time``, three runs each): a day
    (nsr001) took 0.70 s wall with 0.22 s of it in the kernel, and 0.58-0.60 s with 0.07-0.12
    s with these settings; peak memory 134 and 130 MiB. A short-lived command that only
    analyses one recording loses nothing by keeping its memory until it exits. Memory and
    its reuse change no figure. Elsewhere than glibc nothing is changed.
    """
    if not sys.platform.startswith("linux"):
        return False
    import ctypes  # numpy imports it anyway

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, 2**31 - 1))


def main() -> None:
    """Run ``heartsease`` with the process's arguments."""
    args = sys.argv[1:]
    parsed = parse_analyze(args[1:]) if args[:1] == ["analyze"] else None
    if parsed is None:
        from heartsease.cli.commands import app

        app()
        return
    # OpenBLAS starts a thread a core as numpy loads it: on a busy 2-core machine that is 50
    # to 60 ms of CPU, more than a strap recording's analysis, for threads run_analyze never
    # uses (it analyses on one: the same bits everywhere). numpy is loaded with one, unless
    # the user set a count.
    if not any(name in os.environ for name in BLAS_THREAD_VARIABLES):
        os.environ["OPENBLAS_NUM_THREADS"] = "1"
        import numpy  # noqa: F401  (OpenBLAS reads the variable once, as numpy loads it)

        del os.environ["OPENBLAS_NUM_THREADS"]
    keep_freed_memory()
    from heartsease.cli.analyze_core import RefusalError, run_analyze

    try:
        run_analyze(**parsed)  # type: ignore[arg-type]
    except RefusalError as refusal:
        from rich.console import Console

        Console(stderr=True).print(str(refusal), soft_wrap=True)
        sys.exit(2)
    except BrokenPipeError:
        # The reader stopped early (`| head`): what it took is all it wanted, not a fault.
        # Python's own advice: point stdout at nothing so that closing it does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
    except KeyboardInterrupt:
        print("\nAborted!", file=sys.stderr)  # as click says it
        sys.exit(1)
