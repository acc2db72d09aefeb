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

import importlib.util
import os
import re
import sys
from pathlib import Path

from heartsease.numpy_openblas import numpy_openblas_paths

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
# What OpenBLAS reads an idle thread's spin (log2 of cycles, 4 its least) from.
BLAS_TIMEOUT_VARIABLES = ("OPENBLAS_THREAD_TIMEOUT", "GOTO_THREAD_TIMEOUT")
BLAS_THREAD_TIMEOUT_LOG2_CYCLES = 4
# Only numbers written plainly; anything else (1_000, nan, 0x10) is left to typer to judge.
_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_INT = re.compile(r"[+-]?\d+")


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


def _numpy_has_its_own_openblas() -> bool:
    """Whether numpy carries the OpenBLAS whose threads :func:`heartsease.signal.lapack.
    use_all_cores` can give back (found where that looks, without importing numpy): a
    numpy on a system OpenBLAS would stay on one thread, and a long recording's last bits
    would not be the default's."""
    spec = importlib.util.find_spec("numpy")
    if spec is None or not spec.submodule_search_locations:
        return False
    return bool(numpy_openblas_paths(spec.submodule_search_locations[0]))


def main() -> None:
    """Run ``heartsease`` with the process's arguments."""
    args = sys.argv[1:]
    parsed = parse_analyze(args[1:]) if args[:1] == ["analyze"] else None
    if parsed is None:
        from heartsease.cli.commands import app

        app()
        return
    # OpenBLAS starts a thread a core as numpy loads it: on a busy 2-core machine that is 50
    # to 60 ms of CPU, more than a strap recording's analysis. numpy is loaded with one;
    # run_analyze gives OpenBLAS its usual threads back for recordings long enough for them
    # to change any sum (OpenBLAS splits dot products over 10,000 elements), so every figure
    # is what it is with the default threads. A thread count the user set stands.
    own_openblas = _numpy_has_its_own_openblas()
    lowered = own_openblas and not any(name in os.environ for name in BLAS_THREAD_VARIABLES)
    # An idle OpenBLAS thread spins for 2^28 cycles (a tenth of a second) before it sleeps:
    # given its threads back, a day's many small BLAS calls kept one spinning beside the
    # analysis, 0.3-0.5 s of CPU taken from the forked part's core and the rest of the
    # machine (issue 27). 2^4 cycles: it sleeps at once. How long a thread waits changes no
    # sum; a timeout the user set stands.
    timeout = own_openblas and not any(name in os.environ for name in BLAS_TIMEOUT_VARIABLES)
    if timeout:
        os.environ["OPENBLAS_THREAD_TIMEOUT"] = str(BLAS_THREAD_TIMEOUT_LOG2_CYCLES)
    if lowered:
        os.environ["OPENBLAS_NUM_THREADS"] = "1"
    if lowered or timeout:
        import numpy  # noqa: F401  (OpenBLAS reads the variables once, as numpy loads it)

        if lowered:
            del os.environ["OPENBLAS_NUM_THREADS"]
        if timeout:
            del os.environ["OPENBLAS_THREAD_TIMEOUT"]
    from heartsease.cli.analyze_core import RefusalError, run_analyze

    try:
        run_analyze(**parsed, blas_single_threaded=lowered)  # type: ignore[arg-type]
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
