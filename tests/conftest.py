"""Shared fixtures: the reference recordings in ../shared/refdata."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REFDATA = Path(__file__).resolve().parents[2] / "shared" / "refdata"


@pytest.fixture(scope="session")
def refdata() -> Path:
    """The reference data folder; CI must have it, a bare clone skips with the reason."""
    if not REFDATA.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"reference data missing at {REFDATA}")
        pytest.skip(f"reference data not found at {REFDATA} (clone next to shared/)")
    return REFDATA


@pytest.fixture(scope="session")
def kubios_rr(refdata: Path) -> np.ndarray:
    return np.loadtxt(refdata / "rr_reference/kubios/SampleSeries_rr_ms.txt")


def read_annotated(refdata: Path, record: str) -> pd.DataFrame:
    """MIT-BIH beat table: one row per RR interval (the first beat, without one, dropped)."""
    df = pd.read_csv(refdata / f"annotated/mitdb_{record}/{record}_rr_from_atr.csv")
    return df.iloc[1:].reset_index(drop=True)
