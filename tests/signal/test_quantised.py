"""Coarse RR (a 128-Hz Holter's 7.8-ms steps): no corrections made by the rounding alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from heartsease.signal.artifact_classifier import rr_resolution_ms
from heartsease.signal.artifacts import correct_artifacts
from heartsease.signal.gaps import correct_around_gaps, find_gaps
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
    # Measured: 45 stretches, none of 19,131 beats corrected, so every RMSSD exact. The
    # one that moved 2.9 % before was an 18 % step the median lagged (a sinus step now).
    assert len(stretches) >= 40
    assert corrected <= 1
    assert errors_pct.max() <= 1.0  # the goal itself (issue 26 item 4)


def test_the_whole_days_clean_stretches_keep_their_rmssd(nsr004: pd.DataFrame) -> None:
    errors = []
    for seg in clean_stretches(nsr004):
        fixed = correct_artifacts(seg)
        errors.append(100 * abs(time_domain(fixed.rr_ms).rmssd_ms / time_domain(seg).rmssd_ms
                                - 1))
    errors_pct = np.asarray(errors)
    # Measured: 189 of 194 within 1 % (97.4 %; was 96.4 %), worst 5.3 %. The five beyond
    # hold an 11-16 % premature-and-pause pair or one 12-16 % long interval that the
    # annotators call normal; MIT-BIH calls such pairs ventricular (213), and letting them
    # through there takes its RMSSD error past 15 %, so they stay corrected.
    assert len(errors_pct) >= 190
    assert np.mean(errors_pct <= 1.0) >= 0.97
    assert errors_pct.max() < 5.5


def test_few_beats_of_a_quiet_night_corrected(nsr004: pd.DataFrame) -> None:
    # Measured: 0.07 % here; the whole day 0.10 % (was 1.08 %), nsr001's day 0.25 % (0.56 %).
    assert correct_artifacts(nsr004.rr_ms.to_numpy()[NIGHT_BEATS]).artifact_pct < 0.5


def test_under_half_a_percent_of_a_healthy_days_beats_corrected(
    nsr004: pd.DataFrame,
) -> None:
    # Issue 26's goal is 0.5 %; measured 0.101 % (was 1.08 % with the old 1-ms floor), so
    # 0.15 % leaves room for a few beats and catches a return of false corrections.
    rr = nsr004.rr_ms.to_numpy()
    assert correct_around_gaps(rr, find_gaps(rr)).artifact_pct < 0.15


def test_a_sinus_step_the_median_lags_is_no_artifact() -> None:
    # A quiet series on a 128-Hz grid, then an 18 % step and a return over 8 beats, as in
    # the nsr004 night stretch that moved 2.9 %: the rhythm moved, nothing to correct.
    # Measured: 0 corrected (15 before the sinus-step rule, the step's beats among them).
    step = 1000 / 128
    rr = np.round((780 + 6 * np.random.default_rng(0).standard_normal(300)) / step) * step
    rr[150:159] = np.round(np.linspace(922, 790, 9) / step) * step
    assert correct_artifacts(rr).n_corrected == 0
    # One interval out of line with both neighbours (a long-short dRR pattern) still is.
    for factor in (1.15, 1.3):
        lone = rr.copy()
        lone[100] *= factor
        assert correct_artifacts(lone).labels[100] != 0
