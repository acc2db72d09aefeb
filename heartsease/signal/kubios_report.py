"""Every figure of a Kubios HRV Standard report of one RR series, with Kubios' options.

The figures and where each comes from:

- heart rate and geometric measures: :mod:`heartsease.signal.geometric`;
- FFT and AR spectra in ms^2, log, % and n.u.: :mod:`heartsease.signal.spectral_report`;
- SD1, SD2, DFA: :mod:`heartsease.signal.nonlinear`; ApEn, SampEn: :mod:`heartsease.signal.entropy`;
- stress, PNS and SNS indexes: :mod:`heartsease.signal.ans_indexes`;
- smoothness-priors detrending: :mod:`heartsease.signal.detrend`.

Kubios applies the detrending option (smoothness priors on the 4 Hz tachogram, see
:mod:`heartsease.signal.detrend`) before its time- and frequency-domain and (with "apply
detrending for nonlinear analysis") nonlinear analysis; mean RR and mean HR stay those of
the original series (the detrended series is put back at its mean).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from heartsease.signal.ans_indexes import pns_index, sns_index, stress_index
from heartsease.signal.ar_spectrum import AR_ORDER, ARModel
from heartsease.signal.detrend import DEFAULT_LAMBDA, rr_trend_in_time
from heartsease.signal.geometric import (
    MIN_MAX_HR_BEATS,
    heart_rate_stats,
    rr_triangular_index,
    tinn_ms,
)
from heartsease.signal.hrv import WELCH_OVERLAP, WELCH_WINDOW_S, resample_rr
from heartsease.signal.nonlinear import NonlinearReport, nonlinear_report, poincare
from heartsease.signal.spectral_report import (
    BANDS,
    SpectralReport,
    ar_report,
    fft_report,
    report_from_psd,
)

Detrending = Literal["none", "smoothness-priors"]
MIN_BEATS_FOR_SPECTRUM = 20  # the AR(16) model needs samples; a spectrum needs a few cycles
MIN_BEATS_FOR_NONLINEAR = 100


@dataclass(frozen=True, slots=True)
class KubiosOptions:
    """Kubios HRV's analysis options (the names of its preferences)."""

    detrending: Detrending = "none"
    lambda_: float = DEFAULT_LAMBDA
    window_s: float = WELCH_WINDOW_S
    overlap_pct: float = 100.0 * WELCH_OVERLAP
    ar_order: int = AR_ORDER
    ar_factorization: bool = False
    min_max_hr_beats: int = MIN_MAX_HR_BEATS


def _no_spectrum(prefix: str) -> dict[str, float | None]:
    empty = SpectralReport(dict.fromkeys(BANDS, 0.0), 0.0, dict.fromkeys(BANDS))
    return dict.fromkeys(empty.as_dict(prefix))


FIGURE_KEYS: tuple[str, ...] = (
    "std_hr_bpm", "min_hr_bpm", "max_hr_bpm", "rr_tri_index", "tinn_ms",
    *_no_spectrum(""), *_no_spectrum("ar_"), *(f.name for f in fields(NonlinearReport)),
    "stress_index", "pns_index", "sns_index",
)


def detrended(rr_ms: ArrayLike, options: KubiosOptions) -> np.ndarray:
    """The series Kubios analyses: with smoothness priors, the residual put back at the mean.

    Examples
    --------
    >>> rr = np.linspace(700, 900, 50)
    >>> float(np.ptp(detrended(rr, KubiosOptions("smoothness-priors", 10.0)))) < 1.0
    True
    """
    rr = np.asarray(rr_ms, dtype=np.float64)
    if options.detrending == "none":
        return rr
    trend = rr_trend_in_time(rr, options.lambda_)
    return rr - trend + trend.mean()  # the mean RR stays that of the series


def kubios_figures(
    rr_ms: ArrayLike, options: KubiosOptions | None = None,
    resampled: tuple[np.ndarray, np.ndarray] | None = None,
    tachogram_trend: np.ndarray | None = None,
    welch: tuple[np.ndarray, np.ndarray] | None = None,
    dfa: tuple[float | None, float | None] | None = None,
    ar: ARModel | None = None,
) -> dict[str, float | None]:
    """The figures of a Kubios report under the analyze contract's key names.

    Every key of :data:`FIGURE_KEYS` is present; ``None`` stands for a figure that cannot
    be computed (too few beats, no power, no variance). Mean RR and HR, min/max HR come from
    the series as given; everything else from the detrended series when detrending is on.

    Without detrending, ``resampled`` may be ``resample_rr(rr_ms)`` and ``tachogram_trend``
    its smoothness-priors trend at the stress index's lambda, and ``welch`` its Welch PSD
    with the options' window, computed already (a day's segments have their trends computed
    together; a recording's PSD served its frequency domain), and ``dfa`` its short- and
    long-term DFA alphas, and ``ar`` the AR model of its tachogram: the figures are the
    same.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> f = kubios_figures(800 + 30 * rng.standard_normal(300))
    >>> sorted(k for k in f if k.startswith("ar_lf"))
    ['ar_lf_hf', 'ar_lf_log', 'ar_lf_ms2', 'ar_lf_nu', 'ar_lf_pct', 'ar_lf_peak_hz']
    """
    opts = options or KubiosOptions()
    raw = np.asarray(rr_ms, dtype=np.float64)
    rr = detrended(raw, opts)
    hr = heart_rate_stats(raw, opts.min_max_hr_beats)
    out: dict[str, float | None] = dict.fromkeys(FIGURE_KEYS)
    out |= {
        "std_hr_bpm": hr.std_hr_bpm,
        "min_hr_bpm": hr.min_hr_bpm,
        "max_hr_bpm": hr.max_hr_bpm,
        "rr_tri_index": rr_triangular_index(raw),
        "tinn_ms": tinn_ms(raw),
    }
    if opts.detrending != "none":
        # The raw series', not the detrended's.
        resampled = tachogram_trend = welch = dfa = ar = None
    if rr.size >= MIN_BEATS_FOR_SPECTRUM:
        resampled = resample_rr(rr) if resampled is None else resampled
        samples = resampled[1]
        out |= (fft_report(rr, opts.window_s, opts.overlap_pct, samples) if welch is None
                else report_from_psd(*welch)).as_dict()
        out |= ar_report(rr, opts.ar_order, opts.ar_factorization, samples,
                         ar).as_dict("ar_")
    if rr.size >= MIN_BEATS_FOR_NONLINEAR:
        out |= nonlinear_report(rr, dfa).as_dict()
    elif rr.size >= 3:
        out |= poincare(rr).as_dict()
    mean_rr = float(raw.mean())
    diff = np.diff(rr)
    rmssd = float(np.sqrt(np.mean(diff**2))) if diff.size else 0.0
    # The stress index detrends the raw series itself; undetrended, that is the tachogram
    # the spectra were computed from.
    si = (stress_index(raw, resampled=resampled if opts.detrending == "none" else None,
                       trend=tachogram_trend)
          if raw.size >= MIN_BEATS_FOR_SPECTRUM else None)
    sd1, sd2 = out.get("sd1_ms"), out.get("sd2_ms")
    out["stress_index"] = si
    out["pns_index"] = None if sd1 is None else pns_index(mean_rr, rmssd, sd1)
    out["sns_index"] = (None if si is None or sd2 is None
                        else sns_index(60000.0 / mean_rr, si, sd2, mean_rr))
    return out
