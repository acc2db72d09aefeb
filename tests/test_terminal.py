"""The terminal's breathing screen is quiet by default, as the breathing page is (issue 25):
the heart's numbers and the state in words only with ``--show-states``."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest
from rich.console import Console

from heartsease.terminal import BreathingScreen


@pytest.mark.parametrize("show_states", [False, True])
def test_state_words_and_numbers_only_when_asked_for(show_states: bool) -> None:
    loop = SimpleNamespace(now_s=lambda: 10.0, session=SimpleNamespace(
        pacer=None, step_elapsed_s=lambda t: t))
    screen = BreathingScreen(loop, "Soothing rhythm breathing", show_states)  # type: ignore[arg-type]
    screen.state, screen.metrics = "threat", {"hr_bpm": 80.0, "rmssd_ms": 30.0}
    console = Console(width=90, record=True, file=io.StringIO())
    console.print(screen.render())
    text = console.export_text()
    assert "Breathe however feels natural." in text
    assert ("RMSSD" in text) is show_states
    assert ("your body seems to be working to protect you" in text) is show_states
    assert "on alert" not in text
