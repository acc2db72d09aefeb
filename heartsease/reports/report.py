"""The clinician's report of a stored session (HTML or PDF): whose session and when (in the
client's own time zone), the heart's figures (time and frequency domain, coherence,
breathing), each step's measures, the client's ratings, the tachogram with the pacer,
coherence and the estimated states (with a legend), the shift log, the moments that were a
lot and the clinicians' notes. The client's own report is :mod:`heartsease.reports.gentle`.

Notes close together stay legible: on the chart each is a numbered mark, the marks set in
rows so that no two overlap, and the words are listed in full under their numbers.
"""

from __future__ import annotations

import html
import io
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from typing import TYPE_CHECKING

import numpy as np

from heartsease.coaching.events import Shift
from heartsease.coaching.protocols import BUILT_IN, load_protocol
from heartsease.coaching.summary import SessionRecord
from heartsease.colours import STATE_COLOURS
from heartsease.reports.gentle import GivenRating
from heartsease.reports.session import SessionHeader, StoredBeat
from heartsease.signal.recording import analyze_recording

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

# What each state's colour means, in the words the report uses.
STATE_LEGEND = (("threat", "on alert (arousal above the client's baseline)"),
                ("neutral", "steady"),
                ("soothing", "settled (arousal below baseline, a smooth rhythm)"),
                ("unknown", "not yet known (learning the baseline, or too few beats)"))
# The shift log in the legend's words, not the event's labels.
SHIFT_WORDS = {"threat-to-soothing": "on alert to settled",
               "soothing-to-threat": "settled to on alert"}
# A cue or step named in the shift log is cut at a word, where the column allows.
PRECEDED_CHARS = 40
MIN_BEATS_FOR_FIGURES = 60
# Breathing is right within 1/min or unknown in 2-minute and longer windows (issue 26's
# measure); shorter steps misread it: NeuroKit's belt recordings replayed through the srb
# protocol, 90-s steps read 9.0 for a belt median of 7.7 and 14.1 for 15.3.
MIN_BREATHING_STEP_S = 120.0
HR_COLOUR, PACER_COLOUR, COHERENCE_COLOUR = "#2b5c8a", "#7b3294", "#1a9641"

# The PDF's page: A4 portrait, in inches, and its text in points.
PAGE_W_IN, PAGE_H_IN = 8.27, 11.69
MARGIN_IN = 0.7
TEXT_PT, SMALL_PT, HEADING_PT, TITLE_PT = 9.0, 7.0, 11.5, 15.0
LINE_IN = TEXT_PT * 1.5 / 72
WRAP_CHARS = 100  # at TEXT_PT across the page between its margins
NOTE_MARK_PT = SMALL_PT  # the numbered marks of notes on the chart
NOTE_ROW_PT = 12.0  # a row of marks above the one below: taller than a mark
NOTE_GAP_PT = 3.0  # at least this between two marks in a row


@dataclass(frozen=True, slots=True)
class ReportClient:
    """Whom the report is about, as their clinician knows them, and where their day is."""

    name: str
    zone: tzinfo = UTC
    ratings: Sequence[GivenRating] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class Table:
    """A headed section of the report: a table (``columns`` may be empty for plain lines)."""

    title: str
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]
    empty: str = ""  # said instead when there are no rows
    note: str = ""  # said under the rows


def _fmt(value: float | None, digits: int, unit: str = "") -> str:
    if value is None or not np.isfinite(value):
        return "-"
    return f"{value:,.{digits}f}{' ' + unit if unit else ''}"


def _step_breathing_bpm(beats: Sequence[StoredBeat], start_s: float, end_s: float
                        ) -> float | None:
    """A step's breathing rate read from its raw beats as the session's is, not the median
    of the live 64-s readings: those take a dominant baroreflex (Mayer) rhythm for the
    breathing (NeuroKit's event-related recording, belt 18.7/min: its 2-minute baseline
    read 5.3 that way, 18.5 this way). Only over :data:`MIN_BREATHING_STEP_S` or more."""
    if end_s - start_s < MIN_BREATHING_STEP_S:
        return None
    rr = np.array([b.rr_ms for b in beats if start_s <= b.t_s < end_s], dtype=np.float64)
    return analyze_recording(rr).breathing.rate_bpm


def _figures(beats: Sequence[StoredBeat], record: SessionRecord) -> list[Table]:
    """The heart's figures over the whole session, from its raw beats (corrected as
    ``heartsease analyze`` corrects them), and each step's typical measures."""
    steps = Table("Each step (medians of its 5-s live updates)",
                  ("step", "minutes", "heart rate", "RMSSD", "coherence", "breathing"),
                  [(s.step.replace("-", " "), _fmt((s.end_s - s.start_s) / 60, 1),
                    _fmt(s.median_hr_bpm, 0, "bpm"), _fmt(s.median_rmssd_ms, 0, "ms"),
                    _fmt(s.median_coherence_ratio, 2),
                    _fmt(_step_breathing_bpm(beats, s.start_s, s.end_s), 1, "/min"))
                   for s in record.summary.by_step], "No steps were recorded.",
                  "Breathing is read over steps of 2 minutes or more; a shorter step shows -.")
    if len(beats) < MIN_BEATS_FOR_FIGURES:
        return [Table("Figures", (), [], f"Too few beats ({len(beats)}) for the session's "
                      "figures."), steps]
    a = analyze_recording(np.array([b.rr_ms for b in beats], dtype=np.float64))
    t, f = a.time, a.frequency
    breathing = (_fmt(a.breathing.rate_bpm, 1, "breaths/min")
                 if a.breathing.rate_bpm is not None
                 else "unknown (the heart's rhythm did not follow a clear breath)")
    time_domain = Table("Time domain", ("measure", "value"), [
        ("mean heart rate", _fmt(t.mean_hr_bpm, 1, "bpm")),
        ("mean RR interval", _fmt(t.mean_rr_ms, 0, "ms")),
        ("SDNN", _fmt(t.sdnn_ms, 1, "ms")),
        ("RMSSD", _fmt(t.rmssd_ms, 1, "ms")),
        ("pNN50", _fmt(t.pnn50_pct, 1, "%")),
        ("artifacts corrected", f"{a.correction.n_corrected} "
                                f"({_fmt(a.correction.artifact_pct, 1, '%')})")])
    frequency = Table("Frequency domain, coherence and breathing", ("measure", "value"), [
        ("LF power (0.04-0.15 Hz)", _fmt(f.lf_ms2, 0, "ms²")),
        ("HF power (0.15-0.4 Hz)", _fmt(f.hf_ms2, 0, "ms²")),
        ("LF/HF", _fmt(f.lf_hf, 2)),
        ("spectral peak", _fmt(a.peak_hz, 3, "Hz")),
        ("coherence ratio (McCraty, whole session)", _fmt(a.coherence_ratio, 2)),
        ("breathing rate (from the heart's rhythm)", breathing),
        ("can this HRV be read?", "yes" if a.quality.interpretable
         else "with care: " + "; ".join(a.quality.notes))])
    return [time_domain, frequency, steps]


def _sections(beats: Sequence[StoredBeat], record: SessionRecord, client: ReportClient
              ) -> list[Table]:
    s = record.summary
    minutes = s.minutes_by_state
    states = Table("States (estimated)", ("state", "minutes"), [
        (word.split(" (")[0], _fmt(minutes.get(state, 0.0), 1))
        for state, word in STATE_LEGEND])
    ratings = Table("The client's ratings", ("at", "scale", "rating"), [
        (f"{r.t_s / 60:.1f} min", r.scale.replace("-", " "),
         "skipped" if r.value is None else f"{r.value} of 10")
        for r in client.ratings], "No ratings in this session.")
    shifts = Table("Shift log", ("onset", "shift", "after", "HR change", "ln RMSSD change"), [
        (f"{x.onset_s / 60:.1f} min", SHIFT_WORDS.get(x.direction, x.direction), _preceded(x),
         _signed(x.delta_hr_bpm, "bpm"), _signed(x.delta_ln_rmssd))
        for x in record.shifts], "No shifts in this session.")
    moments = Table("Moments that were a lot", ("at", "raised by", "during", "HR change",
                                                 "ln RMSSD change"), [
        (f"{b.t_s / 60:.1f} min", "the client" if b.raised_by == "client" else "the body",
         b.step.replace("-", " "), _signed(b.delta_hr_bpm, "bpm"),
         _signed(b.delta_ln_rmssd)) for b in record.backdrafts],
        "None in this session.")
    notes = Table("Clinicians' notes", ("", "at", "by", "note"), [
        (str(i), f"{a.t_s / 60:.1f} min", a.author or "-", a.text)
        for i, a in enumerate(record.annotations, start=1)], "No notes.")
    return [*_figures(beats, record), states, ratings, shifts, moments, notes]


def _identity(header: SessionHeader, record: SessionRecord, client: ReportClient,
              n_beats: int) -> tuple[str, str]:
    """The client and the date (their own), and what the session was."""
    protocol = (load_protocol(header.protocol).title if header.protocol in BUILT_IN
                else header.protocol)
    local = header.started_at.astimezone(client.zone)
    when = f"{local:%A %-d %B %Y, %H:%M} ({local.tzname() or client.zone})"
    demo = " · a demo heart (the simulator's), not the client's" if header.demo else ""
    return (f"{client.name} · {when}",
            f"{protocol} · pace {header.pace_bpm:g} breaths/min · {header.status} · "
            f"{record.duration_s / 60:.1f} minutes, {n_beats} beats{demo}")


DISCLAIMER = ("States are estimates of arousal (\"on alert\") and settling (\"settled\") from "
              "the heart, relative to the client's own baseline; the heart cannot tell threat "
              "from drive arousal, nor soothing from shutdown. A biofeedback aid used "
              "alongside therapy, not a diagnosis.")


def note_rows(xs_pt: Sequence[float], widths_pt: Sequence[float]) -> list[int]:
    """The row of each note's mark (0 lowest), in the order given (by time), so that no two
    marks in a row come within :data:`NOTE_GAP_PT` of each other; ``xs_pt`` their centres.

    >>> note_rows([10, 12, 40, 13], [8, 8, 8, 8])
    [0, 1, 0, 2]
    """
    ends: list[float] = []  # the right edge of the last mark in each row
    rows = []
    for x, w in zip(xs_pt, widths_pt, strict=True):
        row = next((i for i, end in enumerate(ends) if x - w / 2 >= end + NOTE_GAP_PT),
                   len(ends))
        if row == len(ends):
            ends.append(x + w / 2)
        ends[row] = x + w / 2
        rows.append(row)
    return rows


def _mark_width_pt(label: str) -> float:
    """A numbered mark's width with its box: digits are about 0.64 em in DejaVu Sans."""
    return len(label) * 0.64 * NOTE_MARK_PT + 2 * 0.3 * NOTE_MARK_PT + 2


def _chart(fig: Figure, beats: Sequence[StoredBeat], record: SessionRecord,
           rect: tuple[float, float, float, float]) -> None:
    """The tachogram over the states, with the pacer and coherence below on the same time
    axis, in ``rect`` (left, bottom, width, height; figure fractions). The notes' marks
    go above it."""
    left, bottom, width, height = rect
    end_min = max(record.duration_s, beats[-1].t_s if beats else 0.0, 1.0) / 60
    axes_w_pt = width * fig.get_figwidth() * 72
    labels = [str(i) for i in range(1, len(record.annotations) + 1)]
    xs_pt = [min(max(a.t_s / 60 / end_min, 0.0), 1.0) * axes_w_pt
             for a in record.annotations]
    rows = note_rows(xs_pt, [_mark_width_pt(label) for label in labels])
    marks_h = ((max(rows) + 1) * NOTE_ROW_PT + 4) / 72 / fig.get_figheight() if rows else 0
    low_h = height * 0.3
    ax_hr = fig.add_axes((left, bottom + low_h + 0.035, width, height - low_h - 0.035 - marks_h))
    ax_low = fig.add_axes((left, bottom, width, low_h), sharex=ax_hr)
    ax_hr.set_xlim(0, end_min)
    _draw_states(record, (ax_hr, ax_low))
    if beats:
        t = np.array([b.t_s for b in beats]) / 60
        hr = 60000.0 / np.array([b.rr_ms for b in beats])
        ax_hr.plot(t, hr, lw=0.7, color=HR_COLOUR, label="heart rate (beats/min)")
    _draw_pacer(record, ax_low)
    coh = [(m.t_s / 60, m.coherence_ratio) for m in record.metrics if m.coherence_ratio]
    if coh:
        ax_low.plot(*zip(*coh, strict=True), color=COHERENCE_COLOUR, lw=1,
                    label="coherence ratio")
    for s in record.shifts:
        ax_hr.axvline(s.onset_s / 60, color=STATE_COLOURS["soothing"]
                      if s.direction.endswith("soothing") else STATE_COLOURS["threat"], lw=1.2)
    for a, label, row in zip(record.annotations, labels, rows, strict=True):
        for ax in (ax_hr, ax_low):
            ax.axvline(a.t_s / 60, color="#444444", lw=0.6, ls="--")
        ax_hr.annotate(label, (a.t_s / 60, 1.0), xycoords=("data", "axes fraction"),
                       xytext=(0, 3 + row * NOTE_ROW_PT), textcoords="offset points",
                       ha="center", va="bottom", fontsize=NOTE_MARK_PT, parse_math=False,
                       bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": "#444444",
                             "lw": 0.5}, annotation_clip=False)
    ax_hr.set_ylabel("heart rate (beats/min)", fontsize=SMALL_PT + 1)
    ax_low.set_ylabel("breaths/min;\ncoherence ratio", fontsize=SMALL_PT + 1)
    ax_low.set_xlabel("minutes into the session", fontsize=SMALL_PT + 1)
    ax_hr.tick_params(labelbottom=False, labelsize=SMALL_PT)
    ax_low.tick_params(labelsize=SMALL_PT)
    for ax in (ax_hr, ax_low):
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="upper right", fontsize=SMALL_PT, framealpha=0.85)


def _draw_states(record: SessionRecord, axes: tuple[Axes, Axes]) -> None:
    for seg in record.states:
        for ax in axes:
            ax.axvspan(seg.start_s / 60, seg.end_s / 60, lw=0,
                       color=STATE_COLOURS.get(seg.state, "#ffffff"), alpha=0.25)


def _draw_pacer(record: SessionRecord, ax: Axes) -> None:
    drawn = False
    for i, step in enumerate(record.steps):
        if step.pacer_to_bpm is not None:
            ax.hlines(step.pacer_to_bpm, step.t_s / 60, record.step_end_s(i) / 60,
                      color=PACER_COLOUR, lw=1.5,
                      label=None if drawn else "pacer (breaths/min)")
            drawn = True


def _svg_chart(beats: Sequence[StoredBeat], record: SessionRecord) -> str:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 5.2))
    _chart(fig, beats, record, (0.08, 0.1, 0.9, 0.86))
    svg = io.StringIO()
    fig.savefig(svg, format="svg")
    return svg.getvalue()


def report_html(header: SessionHeader, beats: Sequence[StoredBeat], record: SessionRecord,
                client: ReportClient) -> str:
    who, what = _identity(header, record, client, len(beats))
    legend = "".join(
        f'<li><span class="swatch" style="background:{STATE_COLOURS[state]}"></span>'
        f"{html.escape(words)}</li>" for state, words in STATE_LEGEND)
    sections = "".join(_html_table(t) for t in _sections(beats, record, client))
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Session report</title><style>
body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;color:#222}}
table{{border-collapse:collapse}}td,th{{padding:.25rem .75rem;border-bottom:1px solid #ddd;
text-align:left}}.rows{{overflow-x:auto}}.note{{font-size:.875rem;color:#555}}
.legend{{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.4rem 1.2rem}}
.swatch{{display:inline-block;width:1.1em;height:1.1em;opacity:.45;border:1px solid #888;
vertical-align:-.2em;margin-right:.35em}}
</style></head><body>
<h1>Clinician's session report</h1>
<p><strong>{html.escape(who)}</strong><br>{html.escape(what)}</p>
<p>{html.escape(DISCLAIMER)}</p>
<h2>State colours</h2><ul class="legend" aria-label="What the colours mean">{legend}</ul>
{_svg_chart(beats, record)}
{sections}</body></html>"""


def _html_table(table: Table) -> str:
    title = f"<h2>{html.escape(table.title)}</h2>"
    if not table.rows:
        return f"{title}<p>{html.escape(table.empty)}</p>"
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                   for row in table.rows)
    note = f'<p class="note">{html.escape(table.note)}</p>' if table.note else ""
    return f'{title}<div class="rows"><table><tr>{head}</tr>{body}</table></div>{note}'


class _Pages:
    """Text set down a PDF's A4 pages, top to bottom, a new page when one is full."""

    def __init__(self, pdf: object) -> None:
        from matplotlib.figure import Figure

        self._figure_type = Figure
        self.pdf = pdf
        self.fig = Figure(figsize=(PAGE_W_IN, PAGE_H_IN))
        self.y_in = MARGIN_IN  # from the top

    def _x(self, x_in: float) -> float:
        return x_in / PAGE_W_IN

    def _y(self) -> float:
        return 1 - self.y_in / PAGE_H_IN

    def room_for(self, height_in: float) -> None:
        if self.y_in + height_in > PAGE_H_IN - MARGIN_IN:
            self.pdf.savefig(self.fig)  # type: ignore[attr-defined]
            self.fig = self._figure_type(figsize=(PAGE_W_IN, PAGE_H_IN))
            self.y_in = MARGIN_IN

    def text(self, words: str, x_in: float = MARGIN_IN, size: float = TEXT_PT,
             weight: str = "normal", advance: bool = True) -> None:
        self.room_for(size * 1.5 / 72)
        self.fig.text(self._x(x_in), self._y(), words, fontsize=size, weight=weight,
                      va="top", ha="left", parse_math=False)
        if advance:
            self.y_in += size * 1.5 / 72

    def paragraph(self, words: str, size: float = TEXT_PT) -> None:
        for line in textwrap.wrap(words, int(WRAP_CHARS * TEXT_PT / size)):
            self.text(line, size=size)

    def gap(self, height_in: float = LINE_IN / 2) -> None:
        self.y_in += height_in

    def table(self, table: Table) -> None:
        # A short table is kept on one page with its heading; a long one, its first rows.
        self.room_for((3 + min(len(table.rows), 8)) * LINE_IN)
        self.gap()
        self.text(table.title, size=HEADING_PT, weight="bold")
        if not table.rows:
            self.paragraph(table.empty)
            return
        usable = PAGE_W_IN - 2 * MARGIN_IN
        # Each column as wide as its widest cell as drawn (bold for the heading), and a
        # space; the last takes the rest and wraps.
        widths = [min(max(_width_in(c, "bold"), *(_width_in(r[i]) for r in table.rows))
                      + 0.2, usable / 2) for i, c in enumerate(table.columns[:-1])]
        char_in = _width_in("abcdefghijklmnopqrstuvwxyz") / 26
        last_chars = max(int((usable - sum(widths)) / char_in), 12)
        starts = [MARGIN_IN + sum(widths[:i]) for i in range(len(table.columns))]
        self._row(table.columns, starts, last_chars, weight="bold")
        for row in table.rows:
            self._row(row, starts, last_chars)
        if table.note:
            self.paragraph(table.note, size=SMALL_PT)

    def _row(self, cells: Sequence[str], starts: Sequence[float], last_chars: int,
             weight: str = "normal") -> None:
        *first, last = cells
        lines = textwrap.wrap(last, last_chars) or [""]
        self.room_for(len(lines) * LINE_IN)
        for cell, x in zip(first, starts, strict=False):
            self.text(cell, x_in=x, weight=weight, advance=False)
        for line in lines:
            self.text(line, x_in=starts[-1], weight=weight)

    def chart(self, beats: Sequence[StoredBeat], record: SessionRecord,
              height_in: float) -> None:
        self.room_for(height_in)
        bottom = 1 - (self.y_in + height_in) / PAGE_H_IN
        left_in = MARGIN_IN + 0.45
        _chart(self.fig, beats, record, (left_in / PAGE_W_IN, bottom + 0.03,
                                         (PAGE_W_IN - left_in - MARGIN_IN) / PAGE_W_IN,
                                         height_in / PAGE_H_IN - 0.03))
        self.y_in += height_in

    def legend(self) -> None:
        x_in = MARGIN_IN
        self.room_for(LINE_IN)
        for state, words in STATE_LEGEND:
            label = words.split(" (")[0]
            self.fig.add_artist(_swatch(self.fig, x_in, self.y_in, STATE_COLOURS[state]))
            self.text(label, x_in=x_in + 0.2, size=SMALL_PT + 1, advance=False)
            x_in += 0.35 + len(label) * (SMALL_PT + 1) * 0.55 / 72
        self.y_in += LINE_IN

    def close(self) -> None:
        self.pdf.savefig(self.fig)  # type: ignore[attr-defined]


def _width_in(words: str, weight: str = "normal") -> float:
    """How wide ``words`` are drawn at :data:`TEXT_PT` in the report's font, in inches."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    prop = FontProperties(size=TEXT_PT, weight=weight)
    width_pt, _, _ = TextToPath().get_text_width_height_descent(words, prop, ismath=False)
    return float(width_pt) / 72


def _swatch(fig: Figure, x_in: float, y_in: float, colour: str) -> Rectangle:
    from matplotlib.patches import Rectangle

    return Rectangle((x_in / PAGE_W_IN, 1 - (y_in + 0.13) / PAGE_H_IN), 0.13 / PAGE_W_IN,
                     0.13 / PAGE_H_IN, transform=fig.transFigure, color=colour, alpha=0.45,
                     lw=0)


def report_pdf(header: SessionHeader, beats: Sequence[StoredBeat], record: SessionRecord,
               client: ReportClient) -> bytes:
    from matplotlib import rc_context
    from matplotlib.backends.backend_pdf import PdfPages

    who, what = _identity(header, record, client, len(beats))
    out = io.BytesIO()
    # TrueType fonts, so that the words can be found and read back from the file.
    with rc_context({"pdf.fonttype": 42}), PdfPages(out) as pdf:
        pages = _Pages(pdf)
        pages.text("Clinician's session report", size=TITLE_PT, weight="bold")
        pages.gap()
        pages.text(who, weight="bold")
        pages.paragraph(what)
        pages.gap()
        pages.paragraph(DISCLAIMER, size=SMALL_PT + 1)
        pages.gap()
        pages.legend()
        pages.chart(beats, record, 4.3)
        for table in _sections(beats, record, client):
            pages.table(table)
        pages.close()
    return out.getvalue()


def _preceded(shift: Shift) -> str:
    p = shift.preceded_by
    if not p:
        return "-"
    label = textwrap.shorten(p.label, PRECEDED_CHARS, placeholder="…")
    return f"{p.kind}: {label} ({shift.latency_s:.0f} s)"


def _signed(value: float | None, unit: str = "") -> str:
    return "-" if value is None else f"{value:+.2f}{' ' + unit if unit else ''}"
