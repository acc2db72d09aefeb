"""``heartsease analyze`` end to end, process start included, against baselines in the same run.

Run: ``python bench/bench_analyze.py [--repeats N]``. Issue 27's two targets:

- a 24-hour day (each NSR2DB day in refdata, about 100,000 beats): the wall time of
  ``heartsease analyze --json DAY.csv`` as a new process, and its peak resident memory,
  against the seconds neurokit2's ``hrv_time`` alone takes on the same beats in this process
  (target: less; memory under 200 MiB);
- a 10-minute strap recording (the Polar H10 file in refdata): the median wall time of
  ``heartsease analyze --json`` against a bare ``python -c pass`` (target: within 10x).

Both sides of each ratio run on this machine in this run, so the ratios hold across machines
(the absolute seconds do not: the shared test machine runs several jobs at once). CPU seconds
are printed beside wall seconds for that reason.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

REFDATA = Path(__file__).resolve().parents[1].parent / "shared/refdata"
HOLTER = REFDATA / "rr_holter/nsr2db"
STRAP = REFDATA / "rr_strap/polar_h10/sample_data_ibi.csv"


# Peak memory is read by a bare interpreter that starts the command: a child's ru_maxrss
# counts the memory of the parent it was forked from, which here holds pandas and neurokit2.
LAUNCHER = """
import os, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(time.perf_counter() - start, usage.ru_utime + usage.ru_stime, usage.ru_maxrss,
      os.waitstatus_to_exitcode(status))
"""


def run(args: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak resident MiB of one process running ``args``."""
    out = subprocess.run([sys.executable, "-c", LAUNCHER, *args], capture_output=True,
                         text=True, check=True).stdout.split()
    wall, cpu, rss_kib, code = out[-4:]
    if code != "0":
        raise RuntimeError(f"{args} exited {code}")
    return float(wall), float(cpu), float(rss_kib) / 1024.0


# What any typer command costs before it does anything (typer imports click and pydantic).
BARE_TYPER_APP = """
import typer
app = typer.Typer()
@app.command()
def main(path: str, as_json: bool = typer.Option(False, "--json")) -> None:
    print(path)
app(["x", "--json"])
"""


def analyze_args(path: Path) -> list[str]:
    return [sys.executable, "-m", "heartsease.cli", "analyze", "--json", str(path)]


def neurokit_hrv_time_s(rr_ms: np.ndarray) -> tuple[float, float]:
    """Wall and CPU seconds of neurokit2's ``hrv_time`` on ``rr_ms`` (imported already)."""
    import neurokit2 as nk

    peaks = nk.intervals_to_peaks(rr_ms, sampling_rate=1000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wall, cpu = time.perf_counter(), time.process_time()
        nk.hrv_time(peaks, sampling_rate=1000)
        return time.perf_counter() - wall, time.process_time() - cpu


def day(record: str) -> None:
    path = HOLTER / f"{record}_rr_from_ecg.csv"
    rr = pd.read_csv(path)["rr_ms"].dropna().to_numpy(float)
    wall, cpu, rss = run(analyze_args(path))
    # neurokit2 is given the plausible intervals only: its peaks cannot hold a dropout.
    nk_wall, nk_cpu = neurokit_hrv_time_s(rr[(rr > 200) & (rr < 3000)])
    print(f"{record}: {rr.size} beats; heartsease analyze (process start included) "
          f"{wall:.2f} s wall / {cpu:.2f} s CPU, peak {rss:.0f} MiB; neurokit2 hrv_time alone "
          f"{nk_wall:.2f} s wall / {nk_cpu:.2f} s CPU; ratio wall {wall / nk_wall:.1f}, CPU "
          f"{cpu / nk_cpu:.1f} (target < 1; memory target < 200 MiB)")


def strap(repeats: int) -> None:
    bare = [run([sys.executable, "-c", "pass"]) for _ in range(repeats)]
    ours = [run(analyze_args(STRAP)) for _ in range(repeats)]
    typer_app = [run([sys.executable, "-c", BARE_TYPER_APP]) for _ in range(repeats)]

    def median(runs: list[tuple[float, float, float]], i: int) -> float:
        return statistics.median(r[i] for r in runs)

    print(f"10-minute strap ({STRAP.name}), medians of {repeats}: heartsease analyze "
          f"{median(ours, 0):.3f} s wall / {median(ours, 1):.3f} s CPU; python -c pass "
          f"{median(bare, 0):.3f} / {median(bare, 1):.3f}; a bare typer command "
          f"{median(typer_app, 0):.3f} / {median(typer_app, 1):.3f}. Ratio to python -c pass: "
          f"wall {median(ours, 0) / median(bare, 0):.1f}, CPU "
          f"{median(ours, 1) / median(bare, 1):.1f} (target <= 10; the bare typer command "
          f"alone: CPU {median(typer_app, 1) / median(bare, 1):.1f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="runs of each short command")
    args = parser.parse_args()
    strap(args.repeats)
    for record in ("nsr001", "nsr004"):
        day(record)


if __name__ == "__main__":
    main()
