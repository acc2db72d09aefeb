"""The client's own report of a session: their practice and their words, gently.

It shows what they practised and for how long, the stages they took part in, their own
ratings as they gave them, the moments they said were a lot (and that the guide stopped),
and their own writing from the session (kept private to them unless they shared it). It
counts no minutes soothed, no shifts, no percentages and gives no verdict: striving for a
score recruits the very drive and threat systems the practice is there to quieten (Gilbert
2010). The clinical detail (states, shift log, notes) is in the clinician's report.
"""

from __future__ import annotations

import html
import io
from collections.abc import Sequence
from dataclasses import dataclass

from heartsease.coaching.protocols import BUILT_IN, load_protocol
from heartsease.coaching.summary import SessionRecord
from heartsease.reports.session import SessionHeader

WHAT_IT_IS = ("heartsease is a biofeedback and wellness aid used alongside your therapy. "
              "What your heart shows is an estimate of arousal and settling relative to your "
              "own baseline, not a diagnosis or a treatment.")
CLOSING = "You gave yourself this time."
RATING_WORDS = {"inner-critic": "How harsh your inner critic felt (0 gentle, 10 harsh)",
                "shame": "Shame (0 to 10)", "self-compassion": "Self-compassion (0 to 10)",
                "calm": "Calm (0 to 10)"}


@dataclass(frozen=True, slots=True)
class OwnWords:
    """A letter or reflection of the client's, from this session."""

    kind: str
    parts: dict[str, str]


@dataclass(frozen=True, slots=True)
class GivenRating:
    t_s: float
    scale: str
    value: int | None  # None: skipped


def client_report_lines(header: SessionHeader, record: SessionRecord,
                        ratings: Sequence[GivenRating], words: Sequence[OwnWords]
                        ) -> list[tuple[str, list[str]]]:
    """The report as headed sections of plain sentences (the HTML and PDF draw these)."""
    protocol = (load_protocol(header.protocol).title if header.protocol in BUILT_IN
                else header.protocol)
    day = header.started_at
    practice = [f"{protocol}, on {day:%A} {day.day} {day:%B %Y}, for about "
                f"{max(round(record.duration_s / 60), 1)} minutes, at a pace of "
                f"{header.pace_bpm:g} breaths a minute."]
    if header.demo:
        practice.append("You practised with a demo heart, not yours, so this session stays "
                        "out of your trends.")
    titles = [s.title for s in record.steps]
    if titles:
        practice.append("You moved through: " + ", ".join(titles) + ".")
    sections = [("Your practice", practice)]
    if record.backdrafts:
        sections.append(("Moments that were a lot", [
            f"At about minute {b.t_s / 60:.0f}, {'you said it was a lot' if b.raised_by == 'client' else 'things seemed to become a lot'}, "  # noqa: E501
            "and the guide stopped for you. That makes sense; strong feelings can come up "
            "when we turn kindness towards ourselves." for b in record.backdrafts]))
    if ratings:
        sections.append(("Your ratings", [
            f"{RATING_WORDS.get(r.scale, r.scale)}, at minute {r.t_s / 60:.0f}: "
            f"{'skipped' if r.value is None else r.value}." for r in ratings]))
    for w in words:
        title = "Your letter" if w.kind == "letter" else "Your reflection"
        sections.append((title, [text for text in w.parts.values() if text.strip()]))
    sections.append(("", [CLOSING, WHAT_IT_IS]))
    return sections


def client_report_html(header: SessionHeader, record: SessionRecord,
                       ratings: Sequence[GivenRating], words: Sequence[OwnWords]) -> str:
    body = "".join(
        (f"<h2>{html.escape(title)}</h2>" if title else "")
        + "".join(f"<p>{html.escape(line)}</p>" for line in lines)
        for title, lines in client_report_lines(header, record, ratings, words))
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Your session</title><style>
body{{font-family:system-ui,sans-serif;max-width:44rem;margin:2rem auto;color:#222;
line-height:1.5}}h2{{font-size:1.1rem;margin-top:1.6rem}}
</style></head><body>
<h1>Your session</h1>{body}</body></html>"""


def client_report_pdf(header: SessionHeader, record: SessionRecord,
                      ratings: Sequence[GivenRating], words: Sequence[OwnWords]) -> bytes:
    import textwrap

    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    lines: list[tuple[str, bool]] = [("Your session", True)]
    for title, paragraphs in client_report_lines(header, record, ratings, words):
        if title:
            lines.append((title, True))
        lines += [(row, False) for p in paragraphs for row in textwrap.wrap(p, 90) or [""]]
    out = io.BytesIO()
    per_page = 48
    with PdfPages(out) as pdf:
        for start in range(0, len(lines), per_page):
            fig = Figure(figsize=(8.27, 11.69))  # A4
            for i, (text, heading) in enumerate(lines[start:start + per_page]):
                fig.text(0.08, 0.94 - i * 0.018, text, fontsize=11 if heading else 9.5,
                         weight="bold" if heading else "normal")
            pdf.savefig(fig)
    return out.getvalue()
