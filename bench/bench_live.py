"""Live analyzer against recomputing neurokit2 at every beat, on a real 60-minute recording.

Run: ``python bench/bench_live.py``. Prints the per-beat cost of each, their ratio, and the
live analyzer's throughput in beats/s on one core. Both run in this process, on the same
beats, so the ratio holds across machines better than either time alone.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np

from heartsease.signal.streaming import TIME_WINDOW_S, StreamingAnalyzer

RECORDING = (
    Path(__file__).resolve().parents[1].parent
    / "shared/refdata/rr_reference/pyhrv/SampleNNISeriesLong_ms.txt"
)
BASELINE_BEATS = 150  # neurokit2 is slow; a sample of beats is enough for its mean cost


def live_cost_s(rr: np.ndarray, repeats: int = 3) -> float:
    """Best-of-``repeats`` mean seconds per beat for the live analyzer over the recording."""
    best = float("inf")
    for _ in range(repeats):
        live = StreamingAnalyzer(pacer_rate_bpm=6.0)
        start = time.perf_counter()
        for x in rr:
            live.push(x)
        live.flush()
        best = min(best, (time.perf_counter() - start) / rr.size)
    return best


def recompute_cost_s(rr: np.ndarray) -> float:
    """Mean seconds per beat for ``nk.hrv_time`` + ``nk.hrv_frequency`` on the 60 s window."""
    import neurokit2 as nk

    t = np.cumsum(rr) / 1000.0
    picks = np.linspace(400, rr.size - 1, BASELINE_BEATS).astype(int)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in picks:
            window = rr[(t > t[i] - TIME_WINDOW_S) & (t <= t[i])]
            peaks = nk.intervals_to_peaks(window, sampling_rate=1000)
            nk.hrv_time(peaks, sampling_rate=1000)
            nk.hrv_frequency(peaks, sampling_rate=1000)
    return (time.perf_counter() - start) / picks.size


def main() -> None:
    rr = np.loadtxt(RECORDING)
    live = live_cost_s(rr)
    baseline = recompute_cost_s(rr)
    print(f"recording: {RECORDING.name}, {rr.size} beats, {rr.sum() / 60000:.1f} min")
    print(f"live analyzer:          {live * 1e6:9.1f} us/beat  ({1 / live:,.0f} beats/s)")
    print(f"neurokit2 per beat:     {baseline * 1e6:9.1f} us/beat")
    print(f"ratio (recompute/live): {baseline / live:9.0f}x cheaper per beat")
    print(f"straps at 1 beat/s on one core: {1 / live:,.0f}")


if __name__ == "__main__":
    main()
