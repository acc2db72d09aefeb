"""Heart rate variability over RR intervals: time, frequency and nonlinear measures.

Conventions follow Kubios HRV (Tarvainen et al. 2014, "Kubios HRV - heart rate variability
analysis software", Comput Methods Programs Biomed 113:210-220) so that our numbers can be
checked against a Kubios report of the same series:

- beat times are the cumulative sum of the RR series (the first beat sits at RR[0]);
- spectra come from a 4 Hz not-a-knot cubic-spline resampling, Welch's method with a 300 s
  Hann window and 50 % overlap, mean removed per segment, 300 points per Hz;
- band powers are the trapezoid integral of the PSD over the closed band [low, high], in
  absolute ms^2, never normalised.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from heartsease.signal.interpolation import FloatArray, NotAKnotSpline, not_a_knot_splines
from heartsease.signal.psd import welch_density

VLF_BAND_HZ = (0.0, 0.04)
LF_BAND_HZ = (0.04, 0.15)
HF_BAND_HZ = (0.15, 0.4)

RESAMPLING_HZ = 4.0
WELCH_WINDOW_S = 300.0
WELCH_OVERLAP = 0.5
POINTS_PER_HZ = 300



def as_rr_array(rr_ms: ArrayLike, minimum: int = 2) -> FloatArray:
    """Return ``rr_ms`` as a 1-D float array, refusing too-short or non-finite input."""
    rr = np.asarray(rr_ms, dtype=np.float64).ravel()
    if rr.size < minimum:
        raise ValueError(f"need at least {minimum} RR intervals, got {rr.size}")
    if not np.all(np.isfinite(rr)) or np.any(rr <= 0):
        raise ValueError("RR intervals must be finite and positive")
    return rr


def beat_times_s(rr_ms: ArrayLike) -> FloatArray:
    """Time of each beat in seconds, as the cumulative RR sum (Kubios convention).

    Examples
    --------
    >>> beat_times_s([1000, 500]).tolist()
    [1.0, 1.5]
    """
    return np.cumsum(np.asarray(rr_ms, dtype=np.float64)) / 1000.0


@dataclass(frozen=True, slots=True)
class TimeDomainHRV:
    """Time-domain HRV of one RR series (Task Force 1996; Poincaré after Brennan et al. 2001)."""

    n_beats: int
    mean_rr_ms: float
    mean_hr_bpm: float
    sdnn_ms: float
    rmssd_ms: float
    pnn50_pct: float
    pnn20_pct: float
    sd1_ms: float
    sd2_ms: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def time_domain(rr_ms: ArrayLike) -> TimeDomainHRV:
    """Time-domain HRV measures, as Kubios reports them.

    SDNN uses the sample standard deviation (ddof=1). RMSSD is the root mean square of the
    n-1 successive differences. pNNxx divides by the n-1 differences (Kubios; neurokit2
    divides by n). Mean HR is 60000 / mean RR (Kubios). SD1 and SD2 are the sample standard
    deviations of the Poincaré cloud rotated by 45 degrees:
    ``SD1 = std(RR[n+1] - RR[n]) / sqrt(2)``, ``SD2 = std(RR[n+1] + RR[n]) / sqrt(2)``.

    Examples
    --------
    >>> m = time_domain([800, 810, 790, 805, 800])
    >>> round(m.mean_rr_ms, 1), round(m.rmssd_ms, 2)
    (801.0, 13.69)
    """
    rr = as_rr_array(rr_ms, minimum=3)
    diff = np.diff(rr)
    total = rr[:-1] + rr[1:]
    mean_rr = float(rr.mean())
    return TimeDomainHRV(
        n_beats=int(rr.size),
        mean_rr_ms=mean_rr,
        mean_hr_bpm=60000.0 / mean_rr,
        sdnn_ms=float(rr.std(ddof=1)),
        rmssd_ms=float(np.sqrt(np.mean(diff**2))),
        pnn50_pct=float(100.0 * np.count_nonzero(np.abs(diff) > 50.0) / diff.size),
        pnn20_pct=float(100.0 * np.count_nonzero(np.abs(diff) > 20.0) / diff.size),
        sd1_ms=float(diff.std(ddof=1) / np.sqrt(2.0)),
        sd2_ms=float(total.std(ddof=1) / np.sqrt(2.0)),
    )


def resample_rr(
    rr_ms: ArrayLike, fs_hz: float = RESAMPLING_HZ
) -> tuple[FloatArray, FloatArray]:
    """Evenly resample the RR tachogram with a not-a-knot cubic spline (Matlab ``spline``).

    The grid starts at the first beat and steps by ``1/fs_hz`` up to the last beat, so no
    value is extrapolated.

    Returns
    -------
    t_s, rr_ms : the grid in seconds and the interpolated RR values in ms.

    Examples
    --------
    >>> t, x = resample_rr([1000, 1000, 1000, 1000], fs_hz=2.0)
    >>> t.tolist(), x.tolist()
    ([1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0], [1000.0, 1000.0, 1000.0, 1000.0, 1000.0, 1000.0, 1000.0])
    """
    rr = as_rr_array(rr_ms, minimum=4)
    t = beat_times_s(rr)
    grid = resampling_grid(t, fs_hz)
    return grid, NotAKnotSpline(t, rr)(grid)


def detrended_tachogram(rr_ms: ArrayLike, fs_hz: float = RESAMPLING_HZ) -> FloatArray:
    """:func:`resample_rr`'s values less their least-squares line: the rhythms of a
    recording, without its slow drift, ready for a band filter.

    Examples
    --------
    >>> drifting = np.linspace(800, 900, 120) + 40 * np.sin(np.arange(120) / 2)
    >>> x = detrended_tachogram(drifting)
    >>> bool(abs(x.mean()) < 1e-6), round(float(x.std()), 1)
    (True, 28.2)
    """
    return _less_line(resample_rr(rr_ms, fs_hz)[1])


def _less_line(x: FloatArray) -> FloatArray:
    """``x`` less its least-squares line, in closed form (``np.polyfit`` solves it by SVD:
    a third of the live breath reading's cost)."""
    centred = np.arange(x.size, dtype=np.float64) - (x.size - 1) / 2.0
    deviation = x - x.mean()
    return deviation - centred * (centred @ deviation / (centred @ centred))


@dataclass(frozen=True, slots=True)
class TachogramSpectrum:
    """A :func:`detrended_tachogram` (``detrended``, sampled at ``fs_hz``) and its FFT, for
    band filters: ``spectrum`` (``rfft``) at ``f_hz``."""

    detrended: FloatArray
    spectrum: NDArray[np.complex128]
    f_hz: FloatArray
    fs_hz: float

    @property
    def n_samples(self) -> int:
        return self.detrended.size

    @classmethod
    def of_samples(cls, rr_samples_ms: FloatArray, fs_hz: float = RESAMPLING_HZ
                   ) -> TachogramSpectrum:
        """Of a tachogram already resampled at ``fs_hz`` on :func:`resampling_grid` (the
        live analyzer's spline has the values: no second spline through the beats)."""
        x = _less_line(rr_samples_ms)
        return cls(x, np.fft.rfft(x), np.fft.rfftfreq(x.size, 1.0 / fs_hz), fs_hz)


def tachogram_spectrum(rr_ms: ArrayLike, fs_hz: float = RESAMPLING_HZ) -> TachogramSpectrum:
    """The :class:`TachogramSpectrum` of ``rr_ms``: made once, band-filtered as often as
    needed (a breath count and each phase locking of one recording's reading).

    Examples
    --------
    >>> s = tachogram_spectrum(1000 + 60 * np.sin(2 * np.pi * 0.1 * np.arange(150)))  # 6/min
    >>> s.n_samples, round(float(s.f_hz[np.argmax(np.abs(s.spectrum))]), 3)
    (597, 0.101)
    """
    return TachogramSpectrum.of_samples(resample_rr(rr_ms, fs_hz)[1], fs_hz)


def resample_many(
    series: list[ArrayLike], fs_hz: float = RESAMPLING_HZ
) -> list[tuple[FloatArray, FloatArray]]:
    """:func:`resample_rr` of every series in ``series``, the same numbers, with the
    splines' systems solved together (a day's 5-minute segments, issue 27).

    Examples
    --------
    >>> [x.tolist() for _, x in resample_many([[1000, 1000, 1000, 1000]] * 2, fs_hz=1.0)]
    [[1000.0, 1000.0, 1000.0, 1000.0], [1000.0, 1000.0, 1000.0, 1000.0]]
    """
    rrs = [as_rr_array(rr, minimum=4) for rr in series]
    times = [beat_times_s(rr) for rr in rrs]
    splines = not_a_knot_splines(list(zip(times, rrs, strict=True)))
    grids = [resampling_grid(t, fs_hz) for t in times]
    return [(grid, spline(grid)) for grid, spline in zip(grids, splines, strict=True)]


def resampling_grid(t_s: FloatArray, fs_hz: float = RESAMPLING_HZ) -> FloatArray:
    """Kubios' resampling grid: from the first beat, every ``1/fs_hz`` s, to the last beat."""
    n = int(np.floor((t_s[-1] - t_s[0]) * fs_hz + 1e-9)) + 1
    return t_s[0] + np.arange(n) / fs_hz


def welch_psd(
    rr_ms: ArrayLike,
    fs_hz: float = RESAMPLING_HZ,
    window_s: float = WELCH_WINDOW_S,
    overlap: float = WELCH_OVERLAP,
    points_per_hz: int = POINTS_PER_HZ,
) -> tuple[FloatArray, FloatArray]:
    """Welch power spectral density of an RR series in ms^2/Hz, with Kubios' settings.

    Segments are ``window_s`` long (the whole series when it is shorter), Hann-windowed,
    mean-removed, overlapping by ``overlap``; the FFT length gives ``points_per_hz`` bins
    per Hz (1200 points at 4 Hz).

    Examples
    --------
    >>> f, p = welch_psd(800 + 50 * np.sin(2 * np.pi * 0.1 * np.arange(400) * 0.8))
    >>> round(float(f[np.argmax(p)]), 2)
    0.1
    """
    _, x = resample_rr(rr_ms, fs_hz)
    return welch_psd_of_samples(x, fs_hz, window_s, overlap, points_per_hz)


def welch_psd_of_samples(
    x: FloatArray,
    fs_hz: float = RESAMPLING_HZ,
    window_s: float = WELCH_WINDOW_S,
    overlap: float = WELCH_OVERLAP,
    points_per_hz: int = POINTS_PER_HZ,
) -> tuple[FloatArray, FloatArray]:
    """:func:`welch_psd` of an already resampled tachogram."""
    nperseg = min(x.size, int(round(window_s * fs_hz)))
    nfft = max(nperseg, int(round(points_per_hz * fs_hz)))
    return welch_density(x, fs_hz, nperseg, int(round(nperseg * overlap)), nfft)


def band_power(f_hz: FloatArray, psd: FloatArray, low_hz: float, high_hz: float) -> float:
    """Trapezoid integral of ``psd`` over the closed band ``[low_hz, high_hz]`` (Kubios).

    Examples
    --------
    >>> round(band_power(np.array([0.0, 0.1, 0.2, 0.3]), np.ones(4), 0.1, 0.3), 12)
    0.2
    """
    df = float(f_hz[1]) - float(f_hz[0])
    band = band_slice(df, f_hz.size, low_hz, high_hz)
    if band.stop - band.start < 2:
        return 0.0
    # The trapezoid rule on an even grid: the bin sum less half of each end bin.
    inside = float(psd[band].sum()) - 0.5 * float(psd[band.start] + psd[band.stop - 1])
    return inside * df


def peak_frequency(f_hz: FloatArray, psd: FloatArray, low_hz: float, high_hz: float) -> float:
    """Frequency of the highest PSD value in ``[low_hz, high_hz]``."""
    band = band_slice(float(f_hz[1]) - float(f_hz[0]), f_hz.size, low_hz, high_hz)
    return float(f_hz[band.start + int(np.argmax(psd[band]))])


def band_slice(df_hz: float, n_bins: int, low_hz: float, high_hz: float) -> slice:
    """The bins with ``low_hz <= f <= high_hz`` of ``n_bins`` spaced ``df_hz`` from 0 Hz."""
    eps = 1e-9
    start = max(0, math.ceil(low_hz / df_hz - eps))
    stop = min(n_bins, math.floor(high_hz / df_hz + eps) + 1)
    return slice(start, max(start, stop))


@dataclass(frozen=True, slots=True)
class FrequencyDomainHRV:
    """Absolute band powers (ms^2) and peak frequencies (Hz) of an RR series."""

    vlf_ms2: float
    lf_ms2: float
    hf_ms2: float
    total_ms2: float
    lf_hf: float
    vlf_peak_hz: float
    lf_peak_hz: float
    hf_peak_hz: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def frequency_domain_from_psd(f_hz: FloatArray, psd: FloatArray) -> FrequencyDomainHRV:
    """Band powers and peaks from a PSD in ms^2/Hz (see :func:`frequency_domain`)."""
    vlf = band_power(f_hz, psd, *VLF_BAND_HZ)
    lf = band_power(f_hz, psd, *LF_BAND_HZ)
    hf = band_power(f_hz, psd, *HF_BAND_HZ)
    return FrequencyDomainHRV(
        vlf_ms2=vlf,
        lf_ms2=lf,
        hf_ms2=hf,
        total_ms2=vlf + lf + hf,
        lf_hf=lf / hf if hf > 0 else float("inf"),
        vlf_peak_hz=peak_frequency(f_hz, psd, *VLF_BAND_HZ),
        lf_peak_hz=peak_frequency(f_hz, psd, *LF_BAND_HZ),
        hf_peak_hz=peak_frequency(f_hz, psd, *HF_BAND_HZ),
    )


def frequency_domain(rr_ms: ArrayLike, **welch_options: float) -> FrequencyDomainHRV:
    """Frequency-domain HRV: VLF (0-0.04 Hz), LF (0.04-0.15 Hz), HF (0.15-0.4 Hz) in ms^2.

    The PSD is :func:`welch_psd` (Kubios FFT settings); powers are absolute. Task Force
    (1996) recommends at least 2 minutes of data for LF and 5 minutes for a standard report.

    Examples
    --------
    >>> rr = 800 + 40 * np.sin(2 * np.pi * 0.25 * np.cumsum(np.full(400, 0.8)))
    >>> m = frequency_domain(rr)
    >>> m.hf_ms2 > 10 * m.lf_ms2
    True
    """
    f, p = welch_psd(rr_ms, **welch_options)
    return frequency_domain_from_psd(f, p)
