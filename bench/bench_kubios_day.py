"""The Kubios-report figures of a 24-hour day against neurokit2's ``hrv_time`` on the same beats.

Run: ``python bench/bench_kubios_day.py``. For each NSR2DB day (about 100,000 beats) it prints
the seconds for every Kubios figure of the whole day (spectra, exact ApEn/SampEn, DFA, ...),
for the long-term measures, for the 5-minute segment table (each segment a full Kubios
report), the peak traced memory of all three, and the seconds neurokit2's ``hrv_time`` takes
alone on the same beats; both run in this process, so their ratio holds across machines.
This is the signal part of issue 27's day benchmark; artifact correction, breathing rate and
coherence are not in it.
"""

from __future__ import annotations

import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from heartsease.signal.kubios_report import KubiosOptions, kubios_figures
from heartsease.signal.long_term import long_term, segment_table
from heartsease.signal.recording import segment_figures

HOLTER = Path(__file__).resolve().parents[1].parent / "shared/refdata/rr_holter/nsr2db"


def timed(work: object) -> float:
    start = time.perf_counter()
    work()  # type: ignore[operator]
    return time.perf_counter() - start


def neurokit_hrv_time_s(rr: np.ndarray) -> float:
    import neurokit2 as nk

    peaks = nk.intervals_to_peaks(rr, sampling_rate=1000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return timed(lambda: nk.hrv_time(peaks, sampling_rate=1000))


def main() -> None:
    options = KubiosOptions()
    for record in ("nsr001", "nsr004"):
        rr = pd.read_csv(HOLTER / f"{record}_rr_from_ecg.csv")["rr_ms"].dropna().to_numpy(float)
        figures_s = timed(lambda rr=rr: kubios_figures(rr, options))
        long_s = timed(lambda rr=rr: long_term(rr))
        table_s = timed(lambda rr=rr: segment_table(rr, lambda s: segment_figures(s, options)))
        tracemalloc.start()  # a second pass for memory: tracing slows the allocations down
        kubios_figures(rr, options)
        long_term(rr)
        segment_table(rr, lambda s: segment_figures(s, options))
        peak_mib = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        nk_s = neurokit_hrv_time_s(rr)
        ours = figures_s + long_s + table_s
        print(f"{record}: {rr.size} beats; Kubios figures {figures_s:.2f} s, long-term "
              f"{long_s:.2f} s, segment table {table_s:.2f} s (total {ours:.2f} s, peak "
              f"{peak_mib:.0f} MiB traced); neurokit2 hrv_time alone {nk_s:.2f} s; "
              f"ratio {ours / nk_s:.2f}")


if __name__ == "__main__":
    main()
