"""The colour of each state the heart is read to be in, one definition for everything that
shows them: the terminal and the reports import it, and the pages' stylesheet holds the same
values as custom properties (``--threat`` and so on in ``api/web/static/app.css``; a test
fails when the two differ).

The values are the pages' own: muted enough to sit calmly on a light page and still pass
WCAG AA contrast as text on it.

>>> sorted(STATE_COLOURS)
['neutral', 'soothing', 'threat', 'unknown']
"""

from __future__ import annotations

from typing import Final

STATE_COLOURS: Final[dict[str, str]] = {
    "threat": "#a2542f",
    "neutral": "#6b7a80",
    "soothing": "#2f7f86",
    "unknown": "#9aa7ac",
}
