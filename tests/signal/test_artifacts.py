"""Artifact detection against cardiologist beat labels (MIT-BIH 100 and 105), neurokit2's
implementation of the same paper, and synthetic artifacts of each class."""

from __future__ import annotations

import warnings
from pathlib import Path

import neurokit2 as nk
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heartsease.signal.artifact_classifier import (
    ALPHA,
    _may_act,
    _stepped,
    normalise,
    rr_resolution_ms,
)
from heartsease.signal.artifacts import (
    ArtifactKind,
    CausalArtifactDetector,
    correct_artifacts,
    detect_artifacts,
)
from heartsease.signal.rolling import SortedWindow, Window, rolling, window_stat
from tests.conftest import read_annotated


def ectopic_scores(rr: np.ndarray, symbols: np.ndarray, prev: np.ndarray, noise: np.ndarray,
                   flagged: np.ndarray) -> tuple[float, float]:
    """Sensitivity for A/V beats (flagged on the interval ending at the beat or the one after)
    and specificity over intervals between two normal beats away from ectopics and noise."""
    ectopic = np.isin(symbols, ["A", "V"])
    touched = ectopic | np.isin(prev, ["A", "V"])
    normal = (symbols == "N") & (prev == "N") & ~touched & (noise == 0)
    hit = flagged | np.r_[flagged[1:], False]
    return 100 * hit[ectopic].mean(), 100 * (~flagged[normal]).mean()


def record(refdata: Path, name: str) -> tuple[np.ndarray, ...]:
    df = read_annotated(refdata, name)
    return (df.rr_ms.to_numpy(), df.symbol.to_numpy(), df.prev_symbol.to_numpy(),
            df.noise_flag.to_numpy())


# Measured (centred windows): record 100 sensitivity 100 % (34/34), specificity 99.86 %
# (3 of 2204 normal intervals flagged); record 105 sensitivity 100 % (41/41), specificity
# 100 % (0 of 2368). The paper's 96.96 % sensitivity is met; its 99.94 % specificity is
# not quite on record 100: the 3 flags are a 697 -> 889 ms premature-looking pair the
# cardiologists labelled normal, and a 742 -> 872 ms swing just before an atrial beat.
@pytest.mark.parametrize(
    ("name", "min_sensitivity", "min_specificity"),
    [("100", 96.96, 99.85), ("105", 96.96, 99.95)],
)
def test_ectopic_detection_against_cardiologist_labels(
    refdata: Path, name: str, min_sensitivity: float, min_specificity: float
) -> None:
    rr, symbols, prev, noise = record(refdata, name)
    sens, spec = ectopic_scores(rr, symbols, prev, noise, detect_artifacts(rr) != 0)
    assert sens >= min_sensitivity
    assert spec >= min_specificity


@pytest.mark.parametrize("name", ["100", "105"])
def test_at_least_as_good_as_neurokit_signal_fixpeaks(refdata: Path, name: str) -> None:
    rr, symbols, prev, noise = record(refdata, name)
    peaks = np.r_[0, np.cumsum(rr)].round().astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        info, _ = nk.signal_fixpeaks(peaks, sampling_rate=1000, iterative=False,
                                     method="kubios")
    nk_flag = np.zeros(rr.size + 1, dtype=bool)
    for kind in ("ectopic", "missed", "extra", "longshort"):
        nk_flag[np.asarray(info[kind], dtype=int)] = True
    nk_sens, nk_spec = ectopic_scores(rr, symbols, prev, noise, nk_flag[1:])
    sens, spec = ectopic_scores(rr, symbols, prev, noise, detect_artifacts(rr) != 0)
    # neurokit2 measured: 100 % / 99.50 % on 100, 100 % / 99.54 % on 105.
    assert sens >= nk_sens
    assert spec >= nk_spec - 1e-9


@pytest.mark.parametrize("name", ["100", "105"])
def test_causal_decisions_equal_batch_trailing(refdata: Path, name: str) -> None:
    rr = record(refdata, name)[0]
    # A live detector is told the sensor's RR step; batch detection estimates it (360 Hz).
    detector = CausalArtifactDetector(resolution_ms=rr_resolution_ms(rr))
    decided = [b for x in rr for b in detector.push(x)] + detector.flush()
    assert [b.index for b in decided] == list(range(rr.size))
    assert np.array_equal([b.kind for b in decided], detect_artifacts(rr, window="trailing"))
    corrected = [v for b in decided for v in b.corrected_rr_ms]
    np.testing.assert_array_equal(corrected, correct_artifacts(rr, window="trailing").rr_ms)
    # Centred (offline) and trailing (live) windows disagree on few beats (measured none on
    # 100, 0.23 % on 105), all of them borderline sinus changes.
    assert (detect_artifacts(rr) == detect_artifacts(rr, window="trailing")).mean() > 0.995


def test_causal_decisions_wait_three_beats() -> None:
    detector = CausalArtifactDetector()
    counts = [len(detector.push(800.0 + i)) for i in range(10)]
    assert counts == [0, 0, 0, 1, 1, 1, 1, 1, 1, 1]
    assert [b.index for b in detector.flush()] == [7, 8, 9]


def sinus(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    beats = np.arange(n)
    return 850 + 40 * np.sin(2 * np.pi * beats / 12) + 6 * rng.standard_normal(n)


def test_classifies_each_artifact_kind() -> None:
    rr = sinus(300)
    rr[50], rr[51] = rr[50] * 0.65, rr[51] * 1.35  # premature beat + compensatory pause
    rr[100] = rr[100] * 2  # a missed beat
    rr[150], rr[151] = rr[150] * 0.4, rr[150] * 0.6  # an extra beat splits one interval
    rr[200] = rr[200] * 1.45  # a long interval (no whole-beat fit)
    labels = detect_artifacts(rr)
    assert labels[50] == labels[51] == ArtifactKind.ECTOPIC
    assert labels[100] == ArtifactKind.MISSED
    assert labels[150] == labels[151] == ArtifactKind.EXTRA
    assert labels[200] == ArtifactKind.LONG
    assert np.count_nonzero(labels) == 6


@pytest.mark.parametrize("at", range(40, 50))
def test_each_artifact_anywhere_on_a_large_swing_is_read(at: int) -> None:
    # A heart swinging 570 ms with a breath every 10 beats (615-1,185 ms): each kind of beat
    # put in at each of a breath's 10 places. Before, an extra beat at the top (summing 7 %
    # over the intervals around it) was averaged with the one before, and a missed beat on
    # the falling side or in the trough was left in or read as a premature beat and its pause.
    swing = 900 + 300 * np.sin(2 * np.pi * np.arange(120) / 10)
    extra = np.r_[swing[:at], 0.4 * swing[at], 0.6 * swing[at], swing[at + 1 :]]
    missed = np.r_[swing[:at], swing[at] + swing[at + 1], swing[at + 2 :]]
    premature = swing.copy()
    premature[at], premature[at + 1] = 0.7 * swing[at], swing[at + 1] + 0.3 * swing[at]
    labels = detect_artifacts(extra)
    assert labels[at] == labels[at + 1] == ArtifactKind.EXTRA and np.count_nonzero(labels) == 2
    labels = detect_artifacts(missed)
    assert labels[at] == ArtifactKind.MISSED and np.count_nonzero(labels) == 1
    labels = detect_artifacts(premature)
    assert labels[at] == labels[at + 1] == ArtifactKind.ECTOPIC
    assert np.count_nonzero(labels) == 2


def test_corrections_keep_time_and_restore_beats() -> None:
    clean = sinus(300)
    rr = clean.copy()
    rr[50], rr[51] = clean[50] * 0.65, clean[50] * 0.35 + clean[51]  # ectopic, time kept
    rr = np.r_[rr[:100], clean[100] + clean[101], rr[102:]]  # a missed beat
    fixed = correct_artifacts(rr)
    assert fixed.raw_rr_ms is not None and np.array_equal(fixed.raw_rr_ms, rr)  # raw kept
    assert fixed.rr_ms.size == clean.size
    assert fixed.rr_ms.sum() == pytest.approx(rr.sum())
    assert fixed.artifact_pct == pytest.approx(100 * 3 / rr.size)


def test_clean_sinus_rhythm_is_left_alone() -> None:
    fixed = correct_artifacts(sinus(2000, seed=3))
    assert fixed.n_corrected == 0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(300, 2000), min_size=0, max_size=150))
def test_any_series_gets_one_label_per_interval(values: list[float]) -> None:
    labels = detect_artifacts(values)
    assert labels.shape == (len(values),)
    assert set(np.unique(labels)) <= {int(k) for k in ArtifactKind}
    # The live detector is told the sensor's step (none here); batch detection estimates it
    # from the series unless given the same, as the detector's docstring says (three
    # distinct values such as 1117, 1193 and 423 ms fit a 386-ms "step").
    detector = CausalArtifactDetector()
    decided = [b for v in values for b in detector.push(v)] + detector.flush()
    assert np.array_equal([b.kind for b in decided],
                          detect_artifacts(values, window="trailing", resolution_ms=0.0))


@pytest.mark.parametrize("n", [1, 12, 92, 3000, 9000])  # 9000: more than a batch of rows
@pytest.mark.parametrize(("width", "stat"), [(91, "qd"), (11, "median")])
@pytest.mark.parametrize("window", ["centered", "trailing"])
def test_rolling_equals_a_sliding_sorted_window_to_the_bit(
    n: int, width: int, stat: str, window: Window
) -> None:
    """Batch thresholds come from all full windows ordered at once; the causal detector
    reads a SortedWindow. Batch and live decisions must agree exactly, so both must give
    the same floats."""
    rng = np.random.default_rng(n)
    x = np.round(rng.normal(800.0, 50.0, n) / 7.8125) * 7.8125  # ties, as on a Holter
    before, after = (width // 2, width // 2) if window == "centered" else (width - 1, 0)
    expected = [window_stat(SortedWindow.of(x[max(0, i - before) : i + after + 1]), stat)
                for i in range(n)]
    np.testing.assert_array_equal(rolling(x, width, window, stat), expected)


@pytest.mark.parametrize("name", ["100", "105", "203", "208"])
def test_the_classifier_reads_lists_and_arrays_alike(refdata: Path, name: str) -> None:
    """The loop reads the normalised series from lists when it takes many steps and from
    the arrays when few (issue 27); either way the same doubles, so the same labels and
    pairs, on sparse and on dense ectopy (203, 208: bigeminy and runs)."""
    folder = f"mitdb_{name}" if name in ("100", "105") else "mitdb_more"
    table = pd.read_csv(refdata / f"annotated/{folder}/{name}_rr_from_atr.csv")
    rr = table["rr_ms"].dropna().to_numpy(float)
    n = normalise(rr, "centered", ALPHA, rr_resolution_ms(rr))
    steps = np.flatnonzero(_may_act(n))
    from_lists, from_arrays = _stepped(n, steps, True), _stepped(n, steps, False)
    assert from_lists.labels == from_arrays.labels
    assert from_lists.pairs == from_arrays.pairs
    assert any(from_lists.labels)
