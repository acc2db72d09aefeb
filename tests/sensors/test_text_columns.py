"""Columns of decimals read at once: what ``float`` reads, to the bit, or nothing."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from heartsease.sensors.text_columns import column_spans, line_spans, plain_decimals


def _cells(cells: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The cells written one a line, and where each starts and stops."""
    text = np.frombuffer("\n".join(cells).encode("ascii"), dtype=np.uint8)
    starts, stops = line_spans(text)
    return text, starts, stops


DECIMALS = st.one_of(
    st.from_regex(r"[0-9]{0,9}(\.[0-9]{0,7})?", fullmatch=True),
    # RR values as recorders write them: ms with three decimals, s with six.
    st.floats(200, 3000).map(lambda v: f"{v:.3f}"),
    st.floats(0.2, 3).map(lambda v: f"{v:.6f}"),
)


@settings(max_examples=250, deadline=None)
@given(st.lists(DECIMALS, min_size=1, max_size=20))
def test_plain_decimals_are_what_float_reads(cells: list[str]) -> None:
    """Every cell of digits with at most one point and a digit is read as ``float`` reads it,
    to the last bit: the point of reading them at once is that nothing changes. A cell with
    no digit (``""``, ``"."``, which ``float`` refuses) or of more than 15 characters leaves
    the whole column to ``float``."""
    values = plain_decimals(*_cells(cells))
    if not all(any(c.isdigit() for c in cell) and len(cell) <= 15 for cell in cells):
        assert values is None
        return
    assert values is not None
    assert values.tobytes() == np.array([float(cell) for cell in cells]).tobytes()


@settings(max_examples=250, deadline=None)
@given(st.lists(st.text("0123456789.-+eE_ x", min_size=1, max_size=18), min_size=1,
                max_size=6))
def test_anything_else_is_left_to_float(cells: list[str]) -> None:
    """Signs, exponents, spaces, underscores, two points or 16 characters: ``None``, never
    a number ``float`` would not give."""
    values = plain_decimals(*_cells(cells))
    if values is not None:
        assert values.tolist() == [float(cell) for cell in cells]
    plain = all(len(c) <= 15 and c.count(".") <= 1 and c.replace(".", "").isdigit()
                for c in cells)
    assert (values is not None) == plain


def test_columns_are_found_only_where_every_line_has_as_many_cells() -> None:
    text = np.frombuffer(b"1,812.5,a\n2,790,b\n3,,c", dtype=np.uint8)
    starts, stops = line_spans(text)
    first, last = column_spans(text, starts, stops, ",", 1)
    assert [bytes(text[a:b]) for a, b in zip(first, last, strict=True)] == [b"812.5", b"790",
                                                                          b""]
    assert column_spans(text, starts, stops, ",", 3) is None  # past the last cell
    ragged = np.frombuffer(b"1,812\n2,790,x\n3805", dtype=np.uint8)  # 4 delimiters, 3 lines
    assert column_spans(ragged, *line_spans(ragged), ",", 1) is None
    shifted = np.frombuffer(b"1,,812\n2790\n3,805", dtype=np.uint8)  # 3 and 3, misplaced
    assert column_spans(shifted, *line_spans(shifted), ",", 1) is None
