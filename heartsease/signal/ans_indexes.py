"""Baevsky's stress index and Kubios' PNS and SNS indexes.

Stress index: Baevsky & Chernikova 2017 (Cardiometry 10:66-76), ``SI = AMo / (2 Mo MxDMn)``
with AMo the height of the 50-ms RR histogram in % of beats, Mo the mode in s and MxDMn the
range in s. Kubios HRV (user's guide 3.x, "Results overview") takes Mo as the median RR, reads
AMo and MxDMn from a detrended series (less sensitive to slow drifts of heart rate) and
reports the square root of SI; so does :func:`stress_index`.

PNS and SNS indexes: Kubios (kubios.com, "HRV in evaluating ANS function") combines mean RR,
RMSSD and SD1 in % (PNS) and mean HR, the stress index and SD2 in % (SNS), each compared with
normal short-term resting values as a number of population standard deviations; the
weights of the three are proprietary and undisclosed. Here the three z-scores are averaged
with equal weights against the population values below (Nunan et al. 2010, Pacing Clin
Electrophysiol 33:1407-1417: mean RR 926 +/- 90 ms, RMSSD 42 +/- 15 ms, SDNN 50 +/- 16 ms;
SD1 and SD2 derived from them as SD1 = RMSSD / sqrt 2, SD2^2 = 2 SDNN^2 - SD1^2; the stress
index from Baevsky's resting range 50-150, square-rooted). The result has Kubios' meaning (0
is the population mean, +/-1 one SD, PNS up = more vagal, SNS up = more sympathetic) but
not its exact values: the tests record the difference.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from heartsease.signal.detrend import DEFAULT_LAMBDA, rr_trend_in_time
from heartsease.signal.interpolation import FloatArray
from heartsease.signal.rolling import median

STRESS_HISTOGRAM_BIN_MS = 50.0

# (mean, SD) of normal resting short-term recordings; see the module docstring for sources.
NORMAL_MEAN_RR_MS = (926.0, 90.0)
NORMAL_RMSSD_MS = (42.0, 15.0)
NORMAL_SD1_PCT = (100.0 * 42.0 / math.sqrt(2.0) / 926.0, 100.0 * 15.0 / math.sqrt(2.0) / 926.0)
NORMAL_MEAN_HR_BPM = (60000.0 / 926.0, 60000.0 / 926.0 * 90.0 / 926.0)
NORMAL_STRESS_INDEX = (math.sqrt(100.0), (math.sqrt(150.0) - math.sqrt(50.0)) / 2.0)
_SD2_MEAN_MS = math.sqrt(2.0 * 50.0**2 - (42.0 / math.sqrt(2.0)) ** 2)
NORMAL_SD2_PCT = (100.0 * _SD2_MEAN_MS / 926.0, 100.0 * math.sqrt(2.0) * 16.0 / 926.0)


def stress_index(
    rr_ms: ArrayLike,
    lambda_: float = DEFAULT_LAMBDA,
    bin_ms: float = STRESS_HISTOGRAM_BIN_MS,
    resampled: tuple[FloatArray, FloatArray] | None = None,
    trend: FloatArray | None = None,
) -> float | None:
    """Square root of Baevsky's stress index, as Kubios reports it.

    Mo is the median RR (s); AMo (% of beats in the highest 50-ms bin, bins from 0 ms) and
    MxDMn (range, s) come from the RR less its smoothness-priors trend (``lambda_``, on the
    4 Hz tachogram as Kubios detrends), put back at the median. ``None`` when the detrended
    range is 0 or there are fewer than 4 intervals. ``resampled``: the 4 Hz tachogram of
    ``rr_ms`` if already at hand (:func:`heartsease.signal.detrend.rr_trend_in_time`), and
    ``trend`` its smoothness-priors trend at ``lambda_``.

    Examples
    --------
    >>> rr = 800 + 40 * np.sin(np.arange(300) / 3.0)
    >>> round(stress_index(rr, lambda_=500), 2)
    19.72
    """
    rr = np.asarray(rr_ms, dtype=np.float64)
    if rr.size < 4:
        return None  # no tachogram to detrend
    mode_ms = median(rr)
    mode_s = mode_ms / 1000.0
    detrended = rr - rr_trend_in_time(rr, lambda_, resampled=resampled, trend=trend) + mode_ms
    spread_s = float(detrended.max() - detrended.min()) / 1000.0
    if spread_s <= 1e-9 * mode_s or mode_s <= 0:
        return None  # no spread beyond the detrending's rounding
    bins = np.floor(detrended / bin_ms).astype(np.int64)
    amplitude_pct = 100.0 * np.bincount(bins - bins.min()).max() / rr.size
    return math.sqrt(amplitude_pct / (2.0 * mode_s * spread_s))


def _z(value: float, normal: tuple[float, float]) -> float:
    return (value - normal[0]) / normal[1]


def pns_index(mean_rr_ms: float, rmssd_ms: float, sd1_ms: float) -> float:
    """Parasympathetic index: mean z-score of mean RR, RMSSD and SD1 (% of mean RR).

    Examples
    --------
    >>> round(pns_index(926.0, 42.0, 42.0 / 2 ** 0.5), 6)  # the population mean: 0
    0.0
    """
    sd1_pct = 100.0 * sd1_ms / mean_rr_ms
    return (_z(mean_rr_ms, NORMAL_MEAN_RR_MS) + _z(rmssd_ms, NORMAL_RMSSD_MS)
            + _z(sd1_pct, NORMAL_SD1_PCT)) / 3.0


def sns_index(mean_hr_bpm: float, stress_index_sqrt: float, sd2_ms: float,
              mean_rr_ms: float) -> float:
    """Sympathetic index: mean z-score of mean HR, the (square-rooted) stress index and
    the negated z-score of SD2 (% of mean RR), since lower SD2 means more sympathetic drive.

    Examples
    --------
    >>> sd2 = NORMAL_SD2_PCT[0] * 926.0 / 100
    >>> round(sns_index(60000 / 926.0, 10.0, sd2, 926.0), 6)  # the population mean: 0
    0.0
    """
    sd2_pct = 100.0 * sd2_ms / mean_rr_ms
    return (_z(mean_hr_bpm, NORMAL_MEAN_HR_BPM) + _z(stress_index_sqrt, NORMAL_STRESS_INDEX)
            - _z(sd2_pct, NORMAL_SD2_PCT)) / 3.0
