"""The honest verdict (``hrv_interpretable``, ``quality_notes``) and gaps that split a series,
on the refdata recordings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from heartsease.signal.artifacts import correct_artifacts
from heartsease.signal.gaps import correct_around_gaps, find_gaps
from heartsease.signal.hrv import time_domain
from heartsease.signal.quality import assess_quality
from heartsease.signal.recording import analyze_recording


def mitdb_rr(refdata: Path, record: str) -> np.ndarray:
    folder = f"mitdb_{record}" if record in ("100", "105") else "mitdb_more"
    df = pd.read_csv(refdata / f"annotated/{folder}/{record}_rr_from_atr.csv", usecols=["rr_ms"])
    return df.rr_ms.to_numpy()[1:]


def holter_rr(refdata: Path, record: str, beats: slice) -> np.ndarray:
    df = pd.read_csv(refdata / f"rr_holter/nsr2db/{record}_rr_from_ecg.csv", usecols=["rr_ms"])
    return df.rr_ms.to_numpy()[1:][beats]


# Measured RMSSD error after correction against the truth from clean NN pairs (both
# intervals normal, no noise mark): 100 +0.8 %, 101 +1.5 %, 103 +0.1 %, 105 +0.2 %, 116
# +5.7 % (4.5 % of beats corrected), 213 +14.8 % (3.3 %); the frequent-ectopy records 106,
# 119, 200, 203, 208, 233 are 19-1220 % off (the thresholds absorb bigeminy and trigeminy)
# and called not interpretable by their irregular rhythm.
@pytest.mark.parametrize(
    ("record", "interpretable"),
    [("100", True), ("101", True), ("103", True), ("105", True), ("116", True),
     ("106", False), ("119", False), ("200", False), ("203", False), ("208", False),
     ("213", True), ("233", False)],
)
def test_verdict_on_mitdb(refdata: Path, record: str, interpretable: bool) -> None:
    rr = mitdb_rr(refdata, record)
    gaps = find_gaps(rr)
    quality = assess_quality(correct_around_gaps(rr, gaps), gaps, float(rr.sum() / 1000))
    assert quality.interpretable is interpretable
    assert interpretable or quality.notes


def test_dense_ectopy_named_as_an_irregular_rhythm(refdata: Path) -> None:
    rr = mitdb_rr(refdata, "203")  # 15 % ectopic, atrial fibrillation and flutter
    quality = assess_quality(correct_artifacts(rr), [], float(rr.sum() / 1000))
    assert any("irregular rhythm" in note for note in quality.notes)


def test_polar_strap_is_interpretable_without_notes(refdata: Path) -> None:
    rr = np.loadtxt(refdata / "rr_strap/polar_h10/sample_data_ibi.csv", delimiter=",")[:, 1]
    analysis = analyze_recording(rr)
    assert analysis.correction.n_corrected == 0
    assert analysis.quality.interpretable and analysis.quality.notes == []


def test_holter_dropouts_split_the_series(refdata: Path) -> None:
    # nsr001 lost the signal for 4.7 s and 7.5 s within these beats.
    rr = holter_rr(refdata, "nsr001", slice(44_000, 46_400))
    gaps = find_gaps(rr)
    assert [round(g.length_ms) for g in gaps] == [4727, 7477]
    analysis = analyze_recording(rr)
    assert analysis.correction.raw_rr_ms.size == rr.size - 2
    assert analysis.quality.interpretable
    assert "2 gap(s) in the signal, 12.2 s" in analysis.quality.notes[0]
    d = analysis.as_dict()
    assert d["hrv_interpretable"] is True and len(d["gaps"]) == 2
    # Nothing corrected across a dropout: the parts give the same labels on their own.
    first = correct_artifacts(rr[: gaps[0].index])
    np.testing.assert_array_equal(analysis.correction.labels[: first.labels.size], first.labels)


def test_whole_multiples_are_missed_beats_not_gaps() -> None:
    rr = np.r_[np.full(30, 1100.0), 3300.0, np.full(30, 1100.0)]
    assert find_gaps(rr) == []
    assert correct_artifacts(rr).n_corrected == 1


@pytest.mark.parametrize(("n", "why"), [(1, "too short"), (3, "too short"), (60, "too short")])
def test_tiny_recordings_are_not_interpretable(n: int, why: str) -> None:
    d = analyze_recording(np.full(n, 800.0)).as_dict()
    assert d["hrv_interpretable"] is False
    assert why in d["quality_notes"][0]
    assert n >= 4 or np.isnan(d["lf_ms2"])


def clean_nn_truth(refdata: Path, record: str) -> tuple[float, float]:
    """RMSSD and SDNN from the intervals the cardiologists call normal, away from noise."""
    folder = f"mitdb_{record}" if record in ("100", "105") else "mitdb_more"
    df = pd.read_csv(refdata / f"annotated/{folder}/{record}_rr_from_atr.csv").iloc[1:]
    rr = df.rr_ms.to_numpy()
    nn = ((df.nn == 1) & (df.noise_flag == 0)).to_numpy()
    both = nn[1:] & nn[:-1]
    return float(np.sqrt(np.mean(np.diff(rr)[both] ** 2))), float(np.std(rr[nn], ddof=1))


LOW_BURDEN = ("100", "101", "103", "105", "116")
ALL_RECORDS = (*LOW_BURDEN, "106", "119", "200", "203", "208", "213", "233")


def test_hrv_after_correction_against_the_clean_nn_truth(refdata: Path) -> None:
    errors, claims = {}, {}
    for record in ALL_RECORDS:
        rr = mitdb_rr(refdata, record)
        gaps = find_gaps(rr)
        fixed = correct_around_gaps(rr, gaps)
        rmssd, _ = clean_nn_truth(refdata, record)
        errors[record] = 100 * abs(time_domain(fixed.rr_ms).rmssd_ms / rmssd - 1)
        claims[record] = assess_quality(fixed, gaps, float(rr.sum() / 1000)).interpretable
    low = [errors[r] for r in LOW_BURDEN]
    # Measured: 0.8, 1.5, 0.1, 0.2, 5.7 % (116 was 57 % before the compensatory-pause
    # pattern); median 0.8 %. The goals (median 3 %, none over 15 %) first, then the
    # measured figures with a little room, so that a regression shows before a goal breaks.
    assert np.median(low) <= 3.0
    assert max(low) <= 15.0
    assert np.median(low) <= 1.0 and max(low) <= 6.5
    assert all(claims[r] for r in ("100", "101", "103", "116")), claims
    # No interpretable claim where the error exceeds 15 % (measured worst claim: 213, 14.8 %,
    # its fusion beats unseen in the RR).
    assert all(errors[r] <= 15.0 for r in ALL_RECORDS if claims[r]), (errors, claims)


def ectopic_sensitivity_pct(refdata: Path, record: str) -> float:
    """Share of beats not labelled N, L, R, e or j whose interval, or the next, is flagged."""
    folder = f"mitdb_{record}" if record in ("100", "105") else "mitdb_more"
    df = pd.read_csv(refdata / f"annotated/{folder}/{record}_rr_from_atr.csv").iloc[1:]
    flagged = correct_artifacts(df.rr_ms.to_numpy()).labels != 0
    ectopic = ~df.symbol.isin(list("NLRej")).to_numpy()
    return float(100 * (flagged | np.r_[flagged[1:], False])[ectopic].mean())


# Measured (was, before the dense-ectopy rule): 119 99.5 % (18.9), 233 75.9 % (11.4), 106
# 65.0 % (5.4), 200 51.3 % (2.2); neurokit2's kubios method 1.1, 1.3, 33.5, 22.9 %. 119's
# RMSSD after correction is 2.8 % from the clean-NN truth (was +1117 %).
@pytest.mark.parametrize(("record", "minimum"),
                         [("119", 99.0), ("233", 75.0), ("106", 60.0), ("200", 50.0)])
def test_frequent_ectopy_stays_caught(refdata: Path, record: str, minimum: float) -> None:
    assert ectopic_sensitivity_pct(refdata, record) >= minimum
