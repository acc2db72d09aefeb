"""The service's scheduled garbage collection (heartsease.api.collector)."""

from __future__ import annotations

import asyncio
import gc
import logging
import weakref
from collections.abc import Iterator

import pytest

from heartsease.api import collector
from heartsease.api.collector import (
    COLLECT_EVERY_S,
    EVERYTHING_EVERY_S,
    YOUNG_PASS_OBJECTS,
    collect_garbage,
    collection_due,
)
from heartsease.api.settings import Settings


class Node:
    """Something that can sit in a reference cycle and be watched with a weak reference."""

    def __init__(self) -> None:
        self.other: Node | None = None


def cycle() -> tuple[Node, weakref.ref[Node]]:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return a, weakref.ref(a)


@pytest.fixture
def scheduled_collector() -> Iterator[None]:
    """The collector as the service runs it, and as it was afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.unfreeze()
        if was_enabled:
            gc.enable()


def test_a_pass_frees_cycles_made_since_the_last_one(scheduled_collector: None) -> None:
    collect_garbage(everything=False)
    a, watched = cycle()
    del a
    assert watched() is not None  # reference counting cannot free a cycle
    assert collect_garbage(everything=False) >= 2
    assert watched() is None


def test_survivors_wait_for_the_pass_over_everything(scheduled_collector: None) -> None:
    """What was alive at a pass is left out of the next ones (a thousand sessions' live
    objects took 1.1 s to walk, for nothing freed), until the pass over everything."""
    a, watched = cycle()
    collect_garbage(everything=False)
    assert gc.get_freeze_count() > 0
    del a
    collect_garbage(everything=False)
    assert watched() is not None
    collect_garbage(everything=True)
    assert watched() is None


def test_a_pass_starts_once_enough_was_made_since_the_last_or_once_its_time_comes(
        scheduled_collector: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(collector, "YOUNG_PASS_OBJECTS", 5_000)
    monkeypatch.setattr(collector, "CHECK_EVERY_S", 0.01)

    async def scenario() -> None:
        async with collector.collector_on_schedule():
            a, watched = cycle()
            del a
            await asyncio.sleep(0.1)
            assert watched() is not None, "a pass ran before the young objects reached the budget"
            alive = [[k] for k in range(5_000)]
            await asyncio.sleep(0.1)
            assert watched() is None, "no pass once the young objects reached the budget"
            del alive
            monkeypatch.setattr(collector, "COLLECT_EVERY_S", 0.05)
            b, watched = cycle()
            del b
            await asyncio.sleep(0.1)
            assert watched() is None, "no pass once its time had come"

    asyncio.run(scenario())


def test_the_pass_over_everything_comes_first_when_both_are_due() -> None:
    assert collection_due(0, COLLECT_EVERY_S - 1, EVERYTHING_EVERY_S - 1) is None
    assert collection_due(0, COLLECT_EVERY_S, EVERYTHING_EVERY_S - 1) == "young"
    assert collection_due(YOUNG_PASS_OBJECTS, 1.0, EVERYTHING_EVERY_S) == "everything"


def collector_inside(**options: bool) -> tuple[bool, int]:
    """Whether Python's collector runs by count, and how many objects are frozen, while
    the service's collector is set up with ``options``."""

    async def scenario() -> tuple[bool, int]:
        async with collector.collector_on_schedule(**options):
            return gc.isenabled(), gc.get_freeze_count()

    return asyncio.run(scenario())


def test_on_by_default_and_off_by_a_setting(scheduled_collector: None,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    gc.enable()
    assert Settings().scheduled_collector
    by_count, _ = collector_inside()
    assert not by_count  # on the service's schedule
    assert gc.isenabled()  # and Python's own again once the service stops
    monkeypatch.setenv("HEARTSEASE_SCHEDULED_COLLECTOR", "false")
    assert not Settings().scheduled_collector
    assert collector_inside(enabled=False) == (True, 0)


def test_only_on_the_pythons_it_was_measured_on(
        scheduled_collector: None, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    assert collector.schedule_fits("CPython", (3, 11))
    assert not collector.schedule_fits("CPython", (3, 14))
    gc.enable()
    monkeypatch.setattr(collector, "schedule_fits", lambda: False)
    with caplog.at_level(logging.WARNING, logger=collector.__name__):
        assert collector_inside() == (True, 0)
    assert "measured on CPython 3.11, 3.12, 3.13 only" in caplog.text
