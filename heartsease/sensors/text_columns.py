"""Columns of plain decimal numbers read from a text's bytes at once.

A day's RR file is 100,000 lines. Split into lines and cells and read by ``float`` one at a
time, it took a third of what analysing the day takes before its work can be shared between
two cores (issue 27). Here the line breaks and delimiters are found by comparing every byte
at once, and each cell of digits with at most one decimal point is read by arithmetic over
a matrix of its characters: the integer its digits make, divided by the power of ten of its
decimals. With at most 15 digits the integer is exact in a double, as is any power of ten
up to 10^22, and IEEE division rounds the exact quotient once: the result is the double
nearest the decimal, which is what ``float`` returns (Clinger's fast path: W. D. Clinger,
"How to read floating point numbers accurately", PLDI 1990). Anything else (a sign, an
exponent, spaces, more digits) is left to the caller's ``float``: the functions here answer
``None``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Bytes = NDArray[np.uint8]
Positions = NDArray[np.intp]

# Doubles below 2^53 are integers exactly: so is every number of 15 digits, and every sum
# of digits times powers of ten that stays below 10^15.
MAX_CELL_CHARS = 15
_PLACES = 10.0 ** np.arange(MAX_CELL_CHARS)
_ZERO, _POINT = ord("0"), ord(".")


def line_spans(text: Bytes) -> tuple[Positions, Positions]:
    """Where each ``\\n``-separated line of ``text`` starts and stops (its break left out,
    and the ``\\r`` before it of a Windows line end).

    Examples
    --------
    >>> starts, stops = line_spans(np.frombuffer(b"ab\\r\\nc", dtype=np.uint8))
    >>> starts.tolist(), stops.tolist()
    ([0, 4], [2, 5])
    """
    breaks = np.flatnonzero(text == ord("\n"))
    stops = breaks.copy()
    stops[breaks > 0] -= text[breaks[breaks > 0] - 1] == ord("\r")
    return np.r_[0, breaks + 1], np.r_[stops, text.size]


def column_spans(text: Bytes, starts: Positions, stops: Positions, delimiter: str,
                 column: int) -> tuple[Positions, Positions] | None:
    """Where cell ``column`` of each line (``starts``/``stops``, from :func:`line_spans`)
    starts and stops when every line holds the same number of ``delimiter``; ``None`` when
    they do not, or the column is past the last cell.

    Examples
    --------
    >>> text = np.frombuffer(b"a,bb,c\\n1,22,3", dtype=np.uint8)
    >>> [s.tolist() for s in column_spans(text, *line_spans(text), ",", 1)]
    [[2, 9], [4, 11]]
    """
    region = text[starts[0] : stops[-1]]  # only these lines' delimiters (not a header's)
    found = np.flatnonzero(region == ord(delimiter)) + starts[0]
    per_line, left = divmod(found.size, starts.size)
    if left or column > per_line:
        return None
    at = found.reshape(starts.size, per_line)
    # Sorted positions, so line k holds exactly its own per_line of them when the first lies
    # after its start and the last before its stop.
    if per_line and not ((at[:, 0] >= starts).all() and (at[:, -1] < stops).all()):
        return None
    first = starts if column == 0 else at[:, column - 1] + 1
    last = stops if column == per_line else at[:, column]
    return first, last


def plain_decimals(text: Bytes, starts: Positions, stops: Positions) -> NDArray[np.float64] | None:
    """The numbers written in ``text[starts[k]:stops[k]]``, each what ``float`` reads from
    it, when every cell is digits with at most one decimal point (``812``, ``812.5``,
    ``.5``, ``5.``) in at most :data:`MAX_CELL_CHARS` characters; ``None`` otherwise.

    Examples
    --------
    >>> text = np.frombuffer(b"812.5 0.1 007", dtype=np.uint8)
    >>> plain_decimals(text, np.array([0, 6, 10]), np.array([5, 9, 13])).tolist()
    [812.5, 0.1, 7.0]
    >>> plain_decimals(text, np.array([0]), np.array([6])) is None  # a space
    True
    """
    widths = stops - starts
    if widths.size == 0:
        return np.zeros(0)
    if widths.min() < 1 or widths.max() > MAX_CELL_CHARS:
        return None
    # Each cell right-aligned in a row, its last character first: place j is worth 10^j.
    place = np.arange(int(widths.max()))
    inside = place < widths[:, None]
    chars = text[np.maximum(stops[:, None] - 1 - place, 0)]
    digits = chars - np.uint8(_ZERO)  # a point wraps round to 254, any non-digit above 9
    is_digit = inside & (digits <= 9)
    is_point = inside & (chars == _POINT)
    if not np.array_equal(is_digit | is_point, inside):
        return None
    # Matrix products of small integers, exact in doubles (and a point read as a zero digit).
    written = np.where(is_digit, digits, 0).astype(np.float64) @ _PLACES[: place.size]
    points = is_point.astype(np.float64) @ np.stack([np.ones(place.size), place], axis=1)
    n_points, decimals = points[:, 0].astype(np.int64), points[:, 1].astype(np.int64)
    if n_points.max() > 1 or (n_points == widths).any():  # two points, or no digit
        return None
    # The digits left of the point stand a place too high: the point took one.
    scale = (10 ** decimals).astype(np.int64)
    right = written.astype(np.int64) % scale
    whole = np.where(n_points == 1, (written.astype(np.int64) - right) // 10 + right,
                     written.astype(np.int64))
    return whole.astype(np.float64) / scale.astype(np.float64)
