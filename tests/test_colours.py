"""The state colours have one definition (heartsease/colours.py); the pages' stylesheet holds
the same values as custom properties, and the page scripts take them from there."""

from __future__ import annotations

import re
from pathlib import Path

from heartsease.colours import STATE_COLOURS

STATIC = Path(__file__).resolve().parents[1] / "heartsease" / "api" / "web" / "static"


def _custom_properties(css: str) -> dict[str, str]:
    return {name: value.lower() for name, value in
            re.findall(r"--([a-z-]+)\s*:\s*(#[0-9a-fA-F]{3,8})\s*;", css)}


def test_the_stylesheet_holds_the_same_state_colours() -> None:
    properties = _custom_properties((STATIC / "app.css").read_text())
    assert {state: properties.get(state) for state in STATE_COLOURS} == {
        state: colour.lower() for state, colour in STATE_COLOURS.items()}


def test_no_page_script_defines_a_state_colour_of_its_own() -> None:
    # Scripts read the stylesheet's properties (charts.stateColour); a hex value of a state
    # colour written into a script would be a second definition that could drift.
    for script in STATIC.glob("*.js"):
        text = script.read_text().lower()
        for state, colour in STATE_COLOURS.items():
            assert colour.lower() not in text, f"{script.name} writes {state}'s colour itself"

