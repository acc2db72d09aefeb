"""The frequency-domain block of a Kubios report: FFT and AR band powers in every unit.

For each band (VLF 0-0.04, LF 0.04-0.15, HF 0.15-0.4 Hz): the peak frequency, the absolute
power in ms^2, its natural log, its share of the total power in % and, for LF and HF, the
normalised power in n.u. (Task Force 1996: ``100 LF / (total - VLF)``); and LF/HF. Kubios'
total is the power over 0-0.4 Hz. A power of 0 (or a negative factorized component sum)
has no logarithm, and a ratio over 0 does not exist: both are ``None``, never NaN or
infinity, so that the JSON output stays valid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from numpy.typing import ArrayLike

from heartsease.signal.ar_spectrum import (
    AR_ORDER,
    ARModel,
    ar_model_of_samples,
    factorized_band_powers,
)
from heartsease.signal.hrv import (
    POINTS_PER_HZ,
    WELCH_OVERLAP,
    WELCH_WINDOW_S,
    band_power,
    peak_frequency,
    resample_rr,
    welch_psd_of_samples,
)
from heartsease.signal.interpolation import FloatArray

BANDS = ("vlf", "lf", "hf")
BAND_EDGES_HZ = {"vlf": (0.0, 0.04), "lf": (0.04, 0.15), "hf": (0.15, 0.4)}
TOTAL_BAND_HZ = (0.0, 0.4)


def _ratio(numerator: float, denominator: float, scale: float = 1.0) -> float | None:
    return scale * numerator / denominator if denominator > 0 else None


def _log(power: float) -> float | None:
    return math.log(power) if power > 0 else None


@dataclass(frozen=True, slots=True)
class SpectralReport:
    """Absolute band powers (ms^2), the total over 0-0.4 Hz and each band's peak (Hz)."""

    powers_ms2: dict[str, float]
    total_ms2: float
    peaks_hz: dict[str, float | None]

    def as_dict(self, prefix: str = "") -> dict[str, float | None]:
        """The report's keys, ``<prefix><band>_ms2``, ``_peak_hz``, ``_log``, ``_pct``,
        ``_nu`` (LF and HF), ``lf_hf`` and ``total_power_ms2``.

        Examples
        --------
        >>> r = SpectralReport({"vlf": 1.0, "lf": 3.0, "hf": 0.0}, 4.0,
        ...                    {"vlf": 0.01, "lf": 0.1, "hf": None})
        >>> d = r.as_dict("ar_")
        >>> d["ar_lf_nu"], d["ar_hf_log"], d["ar_lf_hf"], d["ar_vlf_pct"]
        (100.0, None, None, 25.0)
        """
        p, total = self.powers_ms2, self.total_ms2
        out: dict[str, float | None] = {}
        for band in BANDS:
            out[f"{prefix}{band}_ms2"] = p[band]
            out[f"{prefix}{band}_peak_hz"] = self.peaks_hz[band]
            out[f"{prefix}{band}_log"] = _log(p[band])
            out[f"{prefix}{band}_pct"] = _ratio(p[band], total, 100.0)
        for band in ("lf", "hf"):
            out[f"{prefix}{band}_nu"] = _ratio(p[band], total - p["vlf"], 100.0)
        out[f"{prefix}lf_hf"] = _ratio(p["lf"], p["hf"])
        out[f"{prefix}total_power_ms2"] = total
        return out


def report_from_psd(f_hz: FloatArray, psd: FloatArray) -> SpectralReport:
    """Band powers (trapezoid rule over closed bands) and peaks of a PSD in ms^2/Hz.

    Examples
    --------
    >>> import numpy as np
    >>> f = np.arange(0, 0.5, 0.01)
    >>> r = report_from_psd(f, np.where((f >= 0.15) & (f <= 0.4), 100.0, 0.0))
    >>> round(r.powers_ms2["hf"], 6), r.peaks_hz["hf"]
    (25.0, 0.15)
    """
    powers = {b: band_power(f_hz, psd, *BAND_EDGES_HZ[b]) for b in BANDS}
    return SpectralReport(
        powers_ms2=powers,
        total_ms2=band_power(f_hz, psd, *TOTAL_BAND_HZ),
        # A band without power has no peak (a flat spectrum's argmax is its first bin).
        peaks_hz={b: peak_frequency(f_hz, psd, *BAND_EDGES_HZ[b]) if powers[b] > 0 else None
                  for b in BANDS},
    )


def fft_report(
    rr_ms: ArrayLike,
    window_s: float = WELCH_WINDOW_S,
    overlap_pct: float = 100.0 * WELCH_OVERLAP,
    samples: FloatArray | None = None,
) -> SpectralReport:
    """Kubios' FFT spectrum (Welch; ``window_s`` wide, ``overlap_pct`` % overlap) in bands.

    ``samples``, when given, is the series already resampled at 4 Hz (:func:`resample_rr`).

    Examples
    --------
    >>> import numpy as np
    >>> rr = 800 + 40 * np.sin(2 * np.pi * 0.25 * np.cumsum(np.full(400, 0.8)))
    >>> r = fft_report(rr)
    >>> r.peaks_hz["hf"], r.powers_ms2["hf"] > 0.9 * r.total_ms2
    (0.25, True)
    """
    x = resample_rr(rr_ms)[1] if samples is None else samples
    f, psd = welch_psd_of_samples(x, window_s=window_s, overlap=overlap_pct / 100.0,
                                  points_per_hz=POINTS_PER_HZ)
    return report_from_psd(f, psd)


def ar_report(
    rr_ms: ArrayLike,
    order: int = AR_ORDER,
    factorize: bool = False,
    samples: FloatArray | None = None,
    model: ARModel | None = None,
) -> SpectralReport:
    """Kubios' AR spectrum in bands: the PSD integrated over each band, or, with
    ``factorize``, the powers of the spectral components whose frequency lies in it.
    ``samples`` as for :func:`fft_report`; ``model``, when given, is the model
    :func:`~heartsease.signal.ar_spectrum.ar_model_of_samples` fits to them.

    Examples
    --------
    >>> import numpy as np
    >>> rr = 800 + 40 * np.sin(2 * np.pi * 0.25 * np.cumsum(np.full(400, 0.8)))
    >>> round(ar_report(rr).peaks_hz["hf"], 2)
    0.25
    """
    if model is None:
        model = ar_model_of_samples(resample_rr(rr_ms)[1] if samples is None else samples, order)
    f, psd = model.psd()
    if not factorize:
        return report_from_psd(f, psd)
    bands = factorized_band_powers(model)
    return SpectralReport(
        powers_ms2={b: bands[b][0] for b in BANDS},
        total_ms2=float(sum(bands[b][0] for b in BANDS)),
        peaks_hz={b: bands[b][1] for b in BANDS},
    )

