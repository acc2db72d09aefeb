"""Independent pieces of work, and who does them.

An analysis hands its independent pieces (the parts of a series to correct, a day's batches
of windows, its segments) to a :data:`ShareWork`: :func:`one_after_another` does them here,
in order; the command line's shares them with a forked process (issue 27's day). Either way
the results come back in the pieces' order, so an analysis joins the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable

# Runs independent pieces of work and returns their results in order.
ShareWork = Callable[[list[Callable[[], object]]], list[object]]


def one_after_another(work: list[Callable[[], object]]) -> list[object]:
    """Every piece of ``work`` done here, in order: a :data:`ShareWork` that shares nothing.

    Examples
    --------
    >>> one_after_another([lambda: 1, lambda: 2])
    [1, 2]
    """
    return [part() for part in work]
