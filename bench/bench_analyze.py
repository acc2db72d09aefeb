"""``heartsease analyze`` end to end, process start included, against baselines in the same run.

Run: ``python bench/bench_analyze.py [--repeats N]``. Issue 27's two targets:

- a 24-hour day (each NSR2DB day in refdata, about 100,000 beats, and nsr001 as a 1-ms
  recorder would give it): the wall time of ``heartsease analyze --json DAY`` as a new
  process, and its peak resident memory, against the seconds neurokit2's ``hrv_time`` alone
  takes on the same beats in this process (target: less; memory under 200 MiB);
- a 10-minute strap recording (the Polar H10 file in refdata): the median wall time of
  ``heartsease analyze --json`` against a bare ``python -c pass`` (target: within 10x).

Both sides of each ratio run on this machine in this run, so the ratios hold across machines
(the absolute seconds do not: the shared test machine runs several jobs at once). CPU seconds
are printed beside wall seconds for that reason.

Each target's floor is printed too, measured the same way in the same run: what a process
that only imports numpy costs (the strap's), and one that imports numpy and reads the day's
file (the day's); for the day, the seconds of reading and analysing in this process split
the total into process start and imports, reading, and analysis.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

# HEARTSEASE_REFDATA when set (a worktree is not beside shared/), else the checkout's sibling.
REFDATA = Path(os.environ.get("HEARTSEASE_REFDATA")
               or Path(__file__).resolve().parents[1].parent / "shared/refdata")
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


def run(args: list[str], env: dict[str, str] | None = None) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak resident MiB of one process running ``args``
    (with ``env`` added to the environment)."""
    out = subprocess.run([sys.executable, "-c", LAUNCHER, *args], capture_output=True,
                         text=True, check=True, env={**os.environ, **(env or {})}).stdout.split()
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


ONE_BLAS_THREAD = {"OPENBLAS_NUM_THREADS": "1"}
# A day's floor: numpy, which a day's analysis cannot do without, and reading its file.
DAY_FLOOR = ("import sys, numpy\n"
             "from heartsease.sensors.files import read_rr_file\n"
             "read_rr_file(sys.argv[1])")


def in_process_s(path: Path, repeats: int) -> tuple[float, float]:
    """CPU seconds of reading ``path`` and of analysing it (as ``analyze`` does) here, the
    least of ``repeats`` runs (the work is the same each time; only the machine varies)."""
    from heartsease.sensors.files import read_rr_file
    from heartsease.signal.recording import analyze_recording

    read_s, analysis_s = [], []
    for _ in range(repeats):
        start = time.process_time()
        recording = read_rr_file(path)
        read = time.process_time()
        analyze_recording(recording.rr_ms).as_dict()
        read_s.append(read - start)
        analysis_s.append(time.process_time() - read)
    return min(read_s), min(analysis_s)


def holter_day(record: str, repeats: int) -> None:
    path = HOLTER / f"{record}_rr_from_ecg.csv"
    day(record, path, pd.read_csv(path)["rr_ms"].dropna().to_numpy(float), repeats)


def day_at_1_ms(record: str, repeats: int) -> None:
    """A Holter day as a strap or a 1-kHz ECG would give it: each interval moved by up to
    4 ms (seeded) and rounded to whole ms, in a plain RR file. Its entropies count among
    ~940 distinct values where the 128-Hz day has ~180: too many for a 3-dimensional table,
    so the analysis takes its slowest exact path (``signal/entropy.py``)."""
    rr = pd.read_csv(HOLTER / f"{record}_rr_from_ecg.csv")["rr_ms"].dropna().to_numpy(float)
    rr = np.round(rr + np.random.default_rng(0).uniform(-4.0, 4.0, rr.size))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{record}_1ms.txt"
        path.write_text("\n".join(f"{v:.0f}" for v in rr) + "\n")
        day(f"{record} at 1 ms", path, rr, repeats)


def day(label: str, path: Path, rr: np.ndarray, repeats: int) -> None:
    ours = [run(analyze_args(path)) for _ in range(repeats)]
    floor = [run([sys.executable, "-c", DAY_FLOOR, str(path)], ONE_BLAS_THREAD)
             for _ in range(repeats)]
    # neurokit2 is given the plausible intervals only: its peaks cannot hold a dropout.
    theirs = [neurokit_hrv_time_s(rr[(rr > 200) & (rr < 3000)]) for _ in range(repeats)]
    read_cpu, analysis_cpu = in_process_s(path, repeats)
    wall, cpu = (statistics.median(r[i] for r in ours) for i in (0, 1))
    rss = max(r[2] for r in ours)
    nk_wall, nk_cpu = (statistics.median(r[i] for r in theirs) for i in (0, 1))
    floor_wall, floor_cpu = (statistics.median(r[i] for r in floor) for i in (0, 1))
    print(f"{label}: {rr.size} beats, medians of {repeats}; heartsease analyze (process start "
          f"included) {wall:.2f} s wall / {cpu:.2f} s CPU, peak {rss:.0f} MiB; neurokit2 "
          f"hrv_time alone {nk_wall:.2f} s wall / {nk_cpu:.2f} s CPU; ratio wall "
          f"{wall / nk_wall:.2f}, CPU {cpu / nk_cpu:.2f} (target < 1; memory target < 200 MiB)")
    print(f"  in this process (CPU, least of {repeats}): reading {read_cpu:.2f} s, analysis "
          f"{analysis_cpu:.2f} s; floor (start, numpy, reading the file) "
          f"{floor_wall:.2f} s wall / {floor_cpu:.2f} s CPU = {floor_cpu / nk_cpu:.2f} of "
          f"neurokit2's hrv_time CPU")


def strap(repeats: int) -> None:
    bare = [run([sys.executable, "-c", "pass"]) for _ in range(repeats)]
    ours = [run(analyze_args(STRAP)) for _ in range(repeats)]
    typer_app = [run([sys.executable, "-c", BARE_TYPER_APP]) for _ in range(repeats)]
    # numpy as analyze loads it: OpenBLAS on one thread (heartsease.cli.entry).
    numpy_only = [run([sys.executable, "-c", "import numpy"], ONE_BLAS_THREAD)
                  for _ in range(repeats)]

    def median(runs: list[tuple[float, float, float]], i: int) -> float:
        return statistics.median(r[i] for r in runs)

    print(f"10-minute strap ({STRAP.name}), medians of {repeats}: heartsease analyze "
          f"{median(ours, 0):.3f} s wall / {median(ours, 1):.3f} s CPU; python -c pass "
          f"{median(bare, 0):.3f} / {median(bare, 1):.3f}; a bare typer command "
          f"{median(typer_app, 0):.3f} / {median(typer_app, 1):.3f}. Ratio to python -c pass: "
          f"wall {median(ours, 0) / median(bare, 0):.1f}, CPU "
          f"{median(ours, 1) / median(bare, 1):.1f}, peak {max(r[2] for r in ours):.0f} MiB "
          f"(target <= 10); floors: importing numpy alone (one BLAS thread) wall "
          f"{median(numpy_only, 0) / median(bare, 0):.1f} / CPU "
          f"{median(numpy_only, 1) / median(bare, 1):.1f}, a bare typer command (which "
          f"analyze no longer starts) CPU {median(typer_app, 1) / median(bare, 1):.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="runs of each short command")
    parser.add_argument("--day-repeats", type=int, default=3, help="runs of each day")
    args = parser.parse_args()
    strap(args.repeats)
    for record in ("nsr001", "nsr004"):
        holter_day(record, args.day_repeats)
    day_at_1_ms("nsr001", args.day_repeats)


if __name__ == "__main__":
    main()
