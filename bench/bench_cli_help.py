"""``heartsease --help`` against a minimal typer application's ``--help``.

Run: ``python bench/bench_cli_help.py [--runs 7]``. Each command runs in a fresh process,
the two alternating so that both see the same machine; prints each one's median wall time,
their ratio (the target: at most 1.5), and which heavy libraries printing help loaded (none
should be).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MINIMAL_APP = '''
import typer

app = typer.Typer(no_args_is_help=True, add_completion=False)


@app.command()
def hello(name: str = "world") -> None:
    """Say hello."""


@app.command()
def bye(name: str = "world") -> None:
    """Say goodbye."""


app()
'''
HEAVY = ("numpy", "scipy", "sqlalchemy", "alembic", "bleak", "pandas", "matplotlib",
         "heartsease.simulator.heart", "heartsease.signal")
# What ``heartsease --help`` leaves loaded, printed by the same process that printed it.
LOADED = ("import sys, runpy; sys.argv = ['heartsease', '--help']\n"
          "try:\n    runpy.run_module('heartsease.cli', run_name='__main__')\n"
          "except SystemExit:\n    pass\n"
          "print(' '.join(m for m in sys.modules if m.startswith({heavy!r})), "
          "file=sys.stderr)")


def wall_s(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    heartsease = [str(Path(sys.executable).with_name("heartsease")), "--help"]
    with tempfile.TemporaryDirectory() as tmp:
        minimal_app = Path(tmp) / "minimal.py"
        minimal_app.write_text(MINIMAL_APP)
        minimal = [sys.executable, str(minimal_app), "--help"]
        wall_s(heartsease), wall_s(minimal)  # warm the file cache for both
        ours, theirs = [], []
        for _ in range(runs):
            ours.append(wall_s(heartsease))
            theirs.append(wall_s(minimal))
    ours_s, theirs_s = statistics.median(ours), statistics.median(theirs)
    print(f"heartsease --help       median {ours_s * 1000:6.0f} ms over {runs} runs")
    print(f"minimal typer --help    median {theirs_s * 1000:6.0f} ms over {runs} runs")
    print(f"ratio                   {ours_s / theirs_s:6.2f} (target: at most 1.5)")
    loaded = subprocess.run([sys.executable, "-c", LOADED.format(heavy=HEAVY)], check=True,
                            capture_output=True, text=True).stderr.split()
    print(f"heavy modules loaded    {', '.join(loaded) or 'none'}")


if __name__ == "__main__":
    main()
