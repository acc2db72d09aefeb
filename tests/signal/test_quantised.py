"""Coarse RR (a 128-Hz Holter's 7.8-ms steps): no corrections made by the rounding alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from heartsease.signal.artifact_classifier import rr_resolution_ms
from heartsease.signal.artifacts import correct_artifacts
from heartsease.signal.hrv import time_domain

# The night of NSR2DB nsr004, where the heart is quiet and the spread of dRR falls to one or
# two 7.8-ms steps: the old 1-ms floor corrected 3-23 % of the beats of 12 clean stretches here.
NIGHT_BEATS = slice(60_000, 86_000)


@pytest.fixture(scope="module")
def nsr004(refdata: Path) -> pd.DataFrame:
    df = pd.read_csv(refdata / "rr_holter/nsr2db/nsr004_rr_from_ecg.csv",
                     usecols=["rr_ms", "nn", "noise_flag"])
    return df.iloc[1:].reset_index(drop=True)


def clean_stretches(df: pd.DataFrame, seconds: float = 300.0) -> list[np.ndarray]:
    """5-minute stretches of beats the annotators call normal, none changing over 20 % from
    the one before (the usual Holter NN criterion): nothing there is for correction to fix."""
    rr = df.rr_ms.to_numpy()
    ok = ((df.nn == 1) & (df.noise_flag == 0)).to_numpy()
    t = np.cumsum(rr) / 1000.0
    out, start = [], 0
    while (stop := int(np.searchsorted(t, t[start] + seconds))) < rr.size:
        seg = rr[start:stop]
        if ok[start:stop].all() and np.all(np.abs(np.diff(seg)) < 0.2 * seg[:-1]):
            out.append(seg)
        start = stop
    return out


def test_resolution_is_estimated_from_the_values(nsr004: pd.DataFrame) -> None:
    assert rr_resolution_ms(nsr004.rr_ms.to_numpy()[:5000]) == pytest.approx(1000 / 128, 1e-6)


def test_clean_quiet_stretches_keep_their_rmssd(nsr004: pd.DataFrame) -> None:
    stretches = clean_stretches(nsr004.iloc[NIGHT_BEATS])
    errors, corrected, beats = [], 0, 0
    for seg in stretches:
        fixed = correct_artifacts(seg)
        errors.append(abs(time_domain(fixed.rr_ms).rmssd_ms / time_domain(seg).rmssd_ms - 1))
        corrected += fixed.n_corrected
        beats += seg.size
    errors_pct = 100 * np.asarray(errors)
    # Measured: 45 stretches, 1 of 19,131 beats corrected (the 1-ms floor: 1.1 %), 44 of 45
    # within 1 %; the one beyond (2.9 %) is a 50-ms step the annotators call normal. Over
    # the whole day's 194 clean stretches: 96 % within 1 %, 10 of 67,680 beats corrected.
    assert len(stretches) >= 40
    assert 100 * corrected / beats < 0.05
    assert np.median(errors_pct) == 0.0
    assert np.mean(errors_pct <= 1.0) >= 0.95
    assert errors_pct.max() < 3.5

def test_few_beats_of_a_quiet_night_corrected(nsr004: pd.DataFrame) -> None:
    # Measured: 0.08 % here; the whole day 0.10 % (was 1.08 %), nsr001's day 0.25 % (0.56 %).
    assert correct_artifacts(nsr004.rr_ms.to_numpy()[NIGHT_BEATS]).artifact_pct < 0.5
