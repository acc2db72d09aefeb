"""The garbage collector, run by the service on a schedule of its own (README: the collector
by count): on by default, since the service's load figures were measured with it; off with
``HEARTSEASE_SCHEDULED_COLLECTOR=false``; and only on the CPython versions it was measured on
(:data:`MEASURED_ON`), since CPython's collector changes between versions (3.14's is
incremental). Elsewhere Python's own collector runs, and the log says so."""

from __future__ import annotations

import asyncio
import gc
import logging
import platform
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Literal

logger = logging.getLogger(__name__)
# The CPython versions (major, minor) whose collector the schedule was measured with.
MEASURED_ON = frozenset({(3, 11), (3, 12), (3, 13)})


def schedule_fits(implementation: str | None = None,
                  version: tuple[int, int] | None = None) -> bool:
    """Whether the schedule was measured on this Python (or the one named).

    >>> schedule_fits("CPython", (3, 12)), schedule_fits("CPython", (3, 14))
    (True, False)
    >>> schedule_fits("PyPy", (3, 11))
    False
    """
    implementation = implementation or platform.python_implementation()
    version = version or (sys.version_info.major, sys.version_info.minor)
    return implementation == "CPython" and version in MEASURED_ON


@asynccontextmanager
async def collector_on_schedule(enabled: bool = True) -> AsyncIterator[None]:
    """The collector on the service's schedule while the service runs (:func:`scheduled`),
    when ``enabled`` and :func:`schedule_fits`; otherwise Python's own, untouched."""
    if not enabled:
        logger.info("garbage collector: Python's own (the scheduled one is switched off)")
        yield
    elif not schedule_fits():
        logger.warning("garbage collector: Python's own; the service's schedule was measured "
                       "on CPython %s only, not %s %s",
                       ", ".join(f"{a}.{b}" for a, b in sorted(MEASURED_ON)),
                       platform.python_implementation(), platform.python_version())
        yield
    else:
        async with scheduled():
            yield


@asynccontextmanager
async def scheduled() -> AsyncIterator[None]:
    """The garbage collector, run by the service at its own checkpoints instead of by
    allocation counts, each pass kept short.

    Every pass stops every live session for as long as it takes, and at a thousand sessions
    (3,000 WebSockets) the collector's own passes were long: what is young at each pass is
    mostly alive (the connections' pending reads, a session's analysis windows), so nothing
    is freed and all of it is walked (measured with bench_load and a probe on
    ``gc.callbacks``: 50-110 ms every 3-4 s; a middle pass 0.35-0.52 s every half minute).
    Reference counting frees almost everything here. So what exists once the service is up
    (modules, the app, the demo) is left out of the passes, and so is whatever survives a
    pass. Every :data:`COLLECT_EVERY_S` there is a pass over what was made since the last
    one, and every :data:`EVERYTHING_EVERY_S` a pass over everything, for cycles among
    objects that were alive at an earlier pass. Sooner, a pass starts once the collector's
    count of objects made since the last pass, less those freed, reaches
    :data:`YOUNG_PASS_OBJECTS`: sessions starting leave that much behind (880 objects each:
    their connections, tasks and state), and a thousand of them starting within five
    minutes made one pass of 0.9-1.2 s (README: the collector by count)."""
    gc.collect()
    gc.freeze()
    gc.disable()

    async def collect() -> None:
        clock = asyncio.get_running_loop().time
        last_pass_s = last_everything_s = clock()
        while True:
            await asyncio.sleep(CHECK_EVERY_S)
            now_s = clock()
            due = collection_due(gc.get_count()[0], now_s - last_pass_s,
                                 now_s - last_everything_s)
            if due is not None:
                collect_garbage(everything=due == "everything")
                last_pass_s = now_s
                if due == "everything":
                    last_everything_s = now_s

    task = asyncio.create_task(collect())
    try:
        yield
    finally:
        task.cancel()
        gc.enable()
        gc.unfreeze()


def collection_due(young_objects: int, since_pass_s: float,
                   since_everything_s: float) -> Literal["young", "everything"] | None:
    """Which pass is due, if any: over everything, over what was made since the last pass
    (``young_objects``: the collector's count of objects made since, less those freed),
    or none yet.

    >>> collection_due(100, since_pass_s=2.0, since_everything_s=2.0) is None
    True
    >>> collection_due(YOUNG_PASS_OBJECTS, since_pass_s=2.0, since_everything_s=2.0)
    'young'
    """
    if since_everything_s >= EVERYTHING_EVERY_S:
        return "everything"
    if young_objects >= YOUNG_PASS_OBJECTS or since_pass_s >= COLLECT_EVERY_S:
        return "young"
    return None


def collect_garbage(*, everything: bool) -> int:
    """One pass: collect what was made since the last pass (or, with ``everything``, all
    of it), then leave the survivors out of later passes. Returns the number of
    unreachable objects found."""
    started = time.perf_counter()
    young_objects = gc.get_count()[0]
    if everything:
        gc.unfreeze()
    found = gc.collect()
    gc.freeze()
    took_ms = 1000 * (time.perf_counter() - started)
    # Live sessions stand still while it runs: a pass as long as a beat's whole latency
    # budget is worth an operator's attention.
    logger.log(logging.WARNING if took_ms >= 100 else logging.DEBUG,
               "garbage collector (%s): %d unreachable objects freed in %.0f ms",
               "everything" if everything else f"{young_objects} objects since the last pass",
               found, took_ms)
    return found


# Every pass also walks what is in flight at that moment (at 1,000 sessions about 50,000
# objects: each connection's pending read, its coroutines and futures, about 45 ms), so
# passes are not made more frequent than needed. The count is net of frees, so state a
# session renews in place (its analysis windows) does not start a pass, and 50,000 objects
# left by sessions starting take a pass of about 100 ms, with what is in flight, on a
# machine whose 10-million-step loop takes 0.3 s (bench_load, 1,000 sessions).
YOUNG_PASS_OBJECTS = 50_000
CHECK_EVERY_S = 1.0
COLLECT_EVERY_S = 300.0
EVERYTHING_EVERY_S = 3600.0
