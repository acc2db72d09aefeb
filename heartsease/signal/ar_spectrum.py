"""Autoregressive (AR) spectrum of an RR series, Kubios HRV's second spectrum.

Kubios HRV (Tarvainen et al. 2014; user's guide 3.x, "Frequency-domain analysis") fits an AR
model of order 16 to the 4 Hz resampled, mean-removed tachogram and evaluates
``P(f) = sigma^2 / (fs |A(exp(-j 2 pi f / fs))|^2)``, one-sided, on the same 300 points/Hz grid
as its FFT spectrum. The coefficients here come from Burg's method (Burg 1975; Kay & Marple
1981): against the AR spectrum table of the Kubios 3.1 sample report this agrees within
2.5 % in every bin, Yule-Walker within 10 %, so Burg is what Kubios uses. Like Kubios, the 0 Hz
bin is not doubled.

Factorization (Kubios' "use factorization" option; Zetterberg 1969, Baselli et al. 1997):
the spectrum is split by the partial fractions of ``sigma^2 / (A(z) A(1/z))``; each pole (a
complex pair counted once) is a component whose power is the real part of its residue
(the pair's residues summed) and whose frequency is the pole's angle. A band's power is
the sum of the components whose frequency lies in it; components above the HF band are
left out. This is sensitive: a pole moved from 0.147 to 0.153 Hz changes band, and
residues of nearby poles can be negative.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from heartsease.signal.hrv import (
    HF_BAND_HZ,
    LF_BAND_HZ,
    POINTS_PER_HZ,
    RESAMPLING_HZ,
    VLF_BAND_HZ,
    resample_rr,
)
from heartsease.signal.interpolation import FloatArray

AR_ORDER = 16
BANDS_HZ = {"vlf": VLF_BAND_HZ, "lf": LF_BAND_HZ, "hf": HF_BAND_HZ}


def burg(x: ArrayLike, order: int = AR_ORDER) -> tuple[FloatArray, float]:
    """AR coefficients ``[1, a1, ..., ap]`` and driving-noise variance by Burg's method.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> e = rng.standard_normal(20000)
    >>> x = np.zeros_like(e)
    >>> for n in range(1, e.size):
    ...     x[n] = 0.9 * x[n - 1] + e[n]
    >>> a, var = burg(x, 1)
    >>> round(float(a[1]), 2), round(var, 1)
    (-0.9, 1.0)
    """
    a, error = _burg_rows(np.asarray(x, dtype=np.float64)[None, :], order)
    return a[0], float(error[0])


def burg_many(series: Sequence[ArrayLike], order: int = AR_ORDER) -> list[tuple[FloatArray, float]]:
    """:func:`burg` of every series, the same bits: series of one length are fitted together
    (a day's 5-minute tachograms take a handful of lengths; issue 27).

    Examples
    --------
    >>> x = np.sin(np.arange(50) / 3.0)
    >>> xs = [x, x[:40], x]
    >>> [bool(np.array_equal(a, burg(s)[0])) for s, (a, _) in zip(xs, burg_many(xs))]
    [True, True, True]
    """
    rows = [np.asarray(x, dtype=np.float64) for x in series]
    out: list[tuple[FloatArray, float]] = [(np.empty(0), 0.0)] * len(rows)
    by_length: dict[int, list[int]] = {}
    for k, x in enumerate(rows):
        by_length.setdefault(x.size, []).append(k)
    for members in by_length.values():
        a, error = _burg_rows(np.vstack([rows[k] for k in members]), order)
        for row, k in enumerate(members):
            out[k] = (a[row], float(error[row]))
    return out


def _burg_rows(samples: FloatArray, order: int) -> tuple[FloatArray, FloatArray]:
    """Burg's recursion on every row of ``samples`` at once; each row's sums are its own, so
    a row gives the same bits alone or among others."""
    if samples.shape[1] <= order:
        raise ValueError(f"need more than {order} samples for an AR({order}) model")
    forward = samples.copy()
    backward = samples.copy()
    a = np.zeros((samples.shape[0], order + 1))
    a[:, 0] = 1.0
    error = np.einsum("ij,ij->i", samples, samples) / samples.shape[1]
    for k in range(order):
        f, b = forward[:, k + 1:], backward[:, k:-1]
        denominator = np.einsum("ij,ij->i", f, f) + np.einsum("ij,ij->i", b, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            reflection = np.where(denominator > 0,
                                  -2.0 * np.einsum("ij,ij->i", f, b) / denominator, 0.0)
        r = reflection[:, None]
        forward[:, k + 1:], backward[:, k + 1:] = f + r * b, b + r * f
        a[:, : k + 2] = a[:, : k + 2] + r * a[:, k + 1::-1]
        error *= 1.0 - reflection**2
    return a, error


@dataclass(frozen=True, slots=True)
class ARModel:
    """An AR model of a tachogram resampled at ``fs_hz``; its spectrum is in ms^2/Hz."""

    a: FloatArray
    noise_var: float
    fs_hz: float

    def psd(self, points_per_hz: int = POINTS_PER_HZ) -> tuple[FloatArray, FloatArray]:
        """The one-sided PSD from 0 Hz to Nyquist on a grid of ``points_per_hz`` per Hz.

        Examples
        --------
        >>> f, p = ARModel(np.array([1.0]), 4.0, 4.0).psd()  # white noise of variance 4
        >>> f.size, float(p[1]), float(p[0])
        (601, 2.0, 1.0)
        """
        nfft = int(round(points_per_hz * self.fs_hz))
        response = np.fft.rfft(self.a, nfft)
        psd = 2.0 * self.noise_var / (self.fs_hz * (response.real**2 + response.imag**2))
        psd[0] /= 2.0  # Kubios does not double the 0 Hz bin
        return np.fft.rfftfreq(nfft, 1.0 / self.fs_hz), psd

    def components(self) -> list[tuple[float, float]]:
        """``(frequency_hz, power_ms2)`` of each pole or pole pair (residue factorization).

        The powers sum to the model's variance.

        Examples
        --------
        >>> [(f, round(p, 6)) for f, p in ARModel(np.array([1.0, -0.5]), 3.0, 4.0).components()]
        [(0.0, 4.0)]
        """
        poles = np.roots(self.a)
        residues = _residues(poles, self.noise_var)
        out = []
        for pole, residue in zip(poles, residues, strict=True):
            if pole.imag < -1e-12:
                continue  # counted with its conjugate
            power = float(residue.real) * (2.0 if pole.imag > 1e-12 else 1.0)
            out.append((abs(math.atan2(pole.imag, pole.real)) * self.fs_hz / (2 * math.pi), power))
        return out


def _residues(poles: NDArray[np.complex128], noise_var: float) -> NDArray[np.complex128]:
    """Residue of ``sigma^2 z^-1 / (A(z) A(1/z))`` at each pole inside the unit circle."""
    out = np.empty(poles.size, dtype=np.complex128)
    for k, pole in enumerate(poles):
        others = np.delete(poles, k)
        out[k] = noise_var / (np.prod(1.0 - others / pole) * np.prod(1.0 - poles * pole))
    return out


def ar_model(rr_ms: ArrayLike, order: int = AR_ORDER, fs_hz: float = RESAMPLING_HZ) -> ARModel:
    """Burg AR model of the resampled (``fs_hz``), mean-removed tachogram.

    Examples
    --------
    >>> rr = 800 + 50 * np.sin(2 * np.pi * 0.1 * np.cumsum(np.full(400, 0.8)))
    >>> f, p = ar_model(rr).psd()
    >>> round(float(f[np.argmax(p)]), 2)
    0.1
    """
    _, x = resample_rr(rr_ms, fs_hz)
    return ar_model_of_samples(x, order, fs_hz)


def ar_model_of_samples(x: FloatArray, order: int = AR_ORDER,
                        fs_hz: float = RESAMPLING_HZ) -> ARModel:
    """:func:`ar_model` of an already resampled tachogram."""
    a, noise_var = burg(x - x.mean(), order)
    return ARModel(a=a, noise_var=noise_var, fs_hz=fs_hz)


def ar_models_of_samples_many(xs: Sequence[FloatArray], order: int = AR_ORDER,
                              fs_hz: float = RESAMPLING_HZ) -> list[ARModel]:
    """:func:`ar_model_of_samples` of every tachogram in ``xs``, the same bits, fitted together
    (:func:`burg_many`)."""
    fits = burg_many([x - x.mean() for x in xs], order)
    return [ARModel(a=a, noise_var=noise_var, fs_hz=fs_hz) for a, noise_var in fits]


def factorized_band_powers(model: ARModel) -> dict[str, tuple[float, float | None]]:
    """Per band: the summed power (ms^2) of its components and the frequency of the largest
    one (``None`` when the band holds none).

    Examples
    --------
    >>> rr = 800 + 50 * np.sin(2 * np.pi * 0.25 * np.cumsum(np.full(400, 0.8)))
    >>> powers = factorized_band_powers(ar_model(rr))
    >>> round(powers["hf"][1], 2)
    0.25
    """
    out: dict[str, tuple[float, float | None]] = {}
    components = model.components()
    for name, (low, high) in BANDS_HZ.items():
        inside = [(p, f) for f, p in components
                  if low <= f < high or (name == "hf" and f == high)]
        peak = max(inside)[1] if inside else None
        out[name] = (float(sum(p for p, _ in inside)), peak)
    return out
