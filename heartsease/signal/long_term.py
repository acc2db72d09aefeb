"""Long-term HRV of a Holter-length recording (Task Force 1996, Circulation 93:1043-1065).

The recording is cut into consecutive 5-minute segments by beat time (the cumulative RR
sum, so a dropout's long interval counts its real duration). SDANN is the standard
deviation of the segments' mean RR, the SDNN index the mean of their SDNNs (both over
complete segments only; a trailing part shorter than 5 minutes is left out). ULF power
(<= 0.003 Hz) needs a spectrum of the whole recording: the tachogram is resampled at 4 Hz
and its Hann-windowed periodogram integrated over 0-0.003 Hz. The segment table carries, for
each segment, its start and every figure of a Kubios report of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from heartsease.signal.hrv import RESAMPLING_HZ, band_power, beat_times_s, resample_rr
from heartsease.signal.interpolation import FloatArray
from heartsease.signal.psd import fast_fft_length, welch_density

SEGMENT_S = 300.0
ULF_BAND_HZ = (0.0, 0.003)
LONG_RECORDING_S = 1800.0  # six segments at least; Task Force means 24 h, Holters run 1-48 h


def segment_bounds(
    rr_ms: ArrayLike, segment_s: float = SEGMENT_S
) -> list[tuple[float, slice]]:
    """``(start_s, beats)`` of each complete ``segment_s`` segment; time 0 is the first
    beat's start (the recording's start), a beat belongs where it ends.

    Examples
    --------
    >>> [(s, b.start, b.stop) for s, b in segment_bounds(np.full(700, 1000.0))]
    [(0.0, 0, 300), (300.0, 300, 600)]
    """
    t = beat_times_s(rr_ms)
    n_segments = int(t[-1] // segment_s) if t.size else 0
    edges = np.searchsorted(t, np.arange(n_segments + 1) * segment_s, side="right")
    return [(i * segment_s, slice(int(edges[i]), int(edges[i + 1])))
            for i in range(n_segments)]


@dataclass(frozen=True, slots=True)
class LongTermHRV:
    """SDANN and SDNN index in ms, ULF power in ms^2."""

    sdann_ms: float | None
    sdnn_index_ms: float | None
    ulf_ms2: float | None


def ulf_power(rr_ms: ArrayLike, fs_hz: float = RESAMPLING_HZ,
              samples: FloatArray | None = None) -> float:
    """Power below 0.003 Hz of the whole recording's periodogram (ms^2); ``samples``, when
    given, is ``resample_rr(rr_ms, fs_hz)[1]`` already computed.

    The periodogram is zero-padded to a fast FFT length (:func:`~heartsease.signal.psd.
    fast_fft_length`), so its time does not hang on the prime factors of the recording's
    length: its bins are as fine or finer, and the band's trapezoid sum moves with them (on
    the NSR2DB days in refdata by 0.03 and 0.09 %).

    Examples
    --------
    >>> t = np.cumsum(np.full(20000, 800.0)) / 1000
    >>> rr = 800 + 50 * np.sin(2 * np.pi * 0.002 * t)
    >>> bool(ulf_power(rr) > 0.8 * np.var(rr))
    True
    """
    x = resample_rr(rr_ms, fs_hz)[1] if samples is None else samples
    nfft = fast_fft_length(max(x.size, int(round(fs_hz / 0.0005))))  # bins of 0.5 mHz or finer
    f, psd = welch_density(x, fs_hz, x.size, 0, nfft)
    return band_power(f, psd, *ULF_BAND_HZ)


def long_term(rr_ms: ArrayLike, segment_s: float = SEGMENT_S,
              samples: FloatArray | None = None) -> LongTermHRV:
    """SDANN, SDNN index and ULF power; ``None`` each when the recording is too short.
    ``samples``: the 4 Hz tachogram (``resample_rr(rr_ms)[1]``), if already at hand.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> rr = np.concatenate([800 + 20 * rng.standard_normal(375),
    ...                      900 + 20 * rng.standard_normal(340)])
    >>> lt = long_term(rr)
    >>> round(lt.sdann_ms), round(lt.sdnn_index_ms)
    (71, 20)
    """
    rr = np.asarray(rr_ms, dtype=np.float64)
    segments = [rr[beats] for _, beats in segment_bounds(rr, segment_s)]
    segments = [s for s in segments if s.size >= 2]
    sdann = float(np.std([s.mean() for s in segments], ddof=1)) if len(segments) >= 2 else None
    index = float(np.mean([s.std(ddof=1) for s in segments])) if segments else None
    duration_s = float(rr.sum()) / 1000.0
    ulf = (ulf_power(rr, samples=samples)
           if duration_s >= 2 / ULF_BAND_HZ[1] and rr.size >= 4 else None)
    return LongTermHRV(sdann_ms=sdann, sdnn_index_ms=index, ulf_ms2=ulf)


def segment_table(
    rr_ms: ArrayLike,
    figures: Callable[[np.ndarray], dict[str, float | None]],
    segment_s: float = SEGMENT_S,
) -> list[dict[str, float | None]]:
    """One row per complete segment: ``start_s`` and ``figures`` of its beats.

    Examples
    --------
    >>> rows = segment_table(np.full(700, 1000.0), lambda rr: {"n_beats": rr.size})
    >>> rows
    [{'start_s': 0.0, 'n_beats': 300}, {'start_s': 300.0, 'n_beats': 300}]
    """
    rr = np.asarray(rr_ms, dtype=np.float64)
    return [{"start_s": start, **figures(rr[beats])}
            for start, beats in segment_bounds(rr, segment_s)]
