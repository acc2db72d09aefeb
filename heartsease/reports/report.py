"""The clinician's report of a stored session (HTML or PDF): the tachogram, pacer, coherence,
the estimated states, the shift log, the moments that were a lot and clinicians' notes. The
client's own report is :mod:`heartsease.reports.gentle`."""

from __future__ import annotations

import html
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from heartsease.coaching.events import Shift
from heartsease.coaching.protocols import BUILT_IN, load_protocol
from heartsease.coaching.summary import SessionRecord
from heartsease.colours import STATE_COLOURS
from heartsease.reports.session import SessionHeader, StoredBeat

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def _figure(beats: Sequence[StoredBeat], record: SessionRecord) -> Figure:
    """Drawn without pyplot: no global state, no window, safe in a server."""
    # Imported on first use: matplotlib takes a second or two to import, and a service
    # that makes no report should not wait for it to start.
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 5.5))
    ax_hr, ax_coh = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1.4]})
    _draw_states(record, (ax_hr, ax_coh))
    if beats:
        t = np.array([b.t_s for b in beats]) / 60
        hr = 60000.0 / np.array([b.rr_ms for b in beats])
        ax_hr.plot(t, hr, lw=0.8, color="#2b5c8a", label="heart rate")
    _draw_pacer(record, ax_coh)
    coh = [(m.t_s / 60, m.coherence_ratio) for m in record.metrics if m.coherence_ratio]
    if coh:
        ax_coh.plot(*zip(*coh, strict=True), color="#1a9641", lw=1, label="coherence")
    _draw_notes_and_shifts(record, ax_hr, ax_coh)
    ax_hr.set_ylabel("beats/min")
    ax_coh.set_ylabel("coherence / pace")
    ax_coh.set_xlabel("minutes")
    ax_hr.legend(loc="upper right", fontsize=8)
    ax_coh.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    return fig


def _draw_states(record: SessionRecord, axes: tuple[Axes, Axes]) -> None:
    for seg in record.states:
        for ax in axes:
            ax.axvspan(seg.start_s / 60, seg.end_s / 60, lw=0,
                       color=STATE_COLOURS.get(seg.state, "#ffffff"), alpha=0.25)


def _draw_pacer(record: SessionRecord, ax: Axes) -> None:
    for i, step in enumerate(record.steps):
        if step.pacer_to_bpm is not None:
            ax.hlines(step.pacer_to_bpm, step.t_s / 60, record.step_end_s(i) / 60,
                      color="#7b3294", lw=1.5, label="pacer (breaths/min)" if i == 1 else None)


def _draw_notes_and_shifts(record: SessionRecord, ax_hr: Axes, ax_coh: Axes) -> None:
    for a in record.annotations:
        for ax in (ax_hr, ax_coh):
            ax.axvline(a.t_s / 60, color="#444444", lw=0.8, ls="--")
        # A person's words, never markup: matplotlib would read "$...$" as mathtext (a
        # 500 on every report of the session, a RecursionError on nested braces).
        ax_hr.annotate(a.text, (a.t_s / 60, ax_hr.get_ylim()[1]), fontsize=7,
                       rotation=90, va="top", ha="right", parse_math=False)
    for s in record.shifts:
        ax_hr.axvline(s.onset_s / 60, color="#1a9641" if s.direction.endswith("soothing")
                      else "#d7191c", lw=1.2)


def report_html(header: SessionHeader, beats: Sequence[StoredBeat],
                record: SessionRecord) -> str:
    fig = _figure(beats, record)
    svg = io.StringIO()
    fig.savefig(svg, format="svg")
    s = record.summary
    minutes = s.minutes_by_state
    shifts = "".join(
        f"<tr><td>{x.onset_s / 60:.1f} min</td><td>{html.escape(x.direction)}</td>"
        f"<td>{html.escape(_preceded(x))}</td><td>{_signed(x.delta_hr_bpm)}</td>"
        f"<td>{_signed(x.delta_ln_rmssd)}</td></tr>" for x in record.shifts)
    notes = "".join(f"<li>{a.t_s / 60:.1f} min: {html.escape(a.text)}</li>"
                    for a in record.annotations) or "<li>No notes.</li>"
    shift_log = (f"<table><tr><th>onset</th><th>shift</th><th>after</th><th>HR change</th>"
                 f"<th>ln RMSSD change</th></tr>{shifts}</table>" if shifts
                 else "<p>No shifts in this session.</p>")
    protocol = (load_protocol(header.protocol).title if header.protocol in BUILT_IN
                else header.protocol)
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Session report</title><style>
body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;color:#222}}
table{{border-collapse:collapse}}td,th{{padding:.25rem .75rem;border-bottom:1px solid #ddd}}
</style></head><body>
<h1>Clinician's session report</h1>
<p>States are estimates of arousal ("threat") and settling ("soothing") from the heart,
relative to the client's own baseline; the heart cannot tell threat from drive arousal, nor
soothing from shutdown. A biofeedback aid used alongside therapy, not a diagnosis.</p>
<p>{header.started_at:%Y-%m-%d %H:%M} UTC &middot; {html.escape(protocol)} &middot;
pace {header.pace_bpm:g} breaths/min &middot; {header.status} &middot;
{record.duration_s / 60:.1f} minutes, {len(beats)} beats</p>
<p>Soothing {minutes['soothing']:.1f} min, neutral {minutes['neutral']:.1f} min,
threat {minutes['threat']:.1f} min, unknown {minutes['unknown']:.1f} min;
{s.threat_to_soothing_shifts} shift(s) into soothing, {s.backdrafts} moment(s) that were a
lot (backdraft, raised by the body or the client), {s.gaps} gap(s).</p>
{svg.getvalue()}
<h2>Shift log</h2>{shift_log}
<h2>Clinician's notes</h2><ul>{notes}</ul></body></html>"""


def report_pdf(header: SessionHeader, beats: Sequence[StoredBeat],
               record: SessionRecord) -> bytes:
    from matplotlib.backends.backend_pdf import PdfPages

    out = io.BytesIO()
    with PdfPages(out) as pdf:
        fig = _figure(beats, record)
        s = record.summary
        fig.suptitle(f"{header.started_at:%Y-%m-%d %H:%M} · {header.protocol} · "
                     f"{record.duration_s / 60:.1f} min · soothing "
                     f"{s.minutes_by_state['soothing']:.1f} min · "
                     f"{s.threat_to_soothing_shifts} shift(s)", fontsize=10)
        fig.subplots_adjust(top=0.92)
        pdf.savefig(fig)
    return out.getvalue()


def _preceded(shift: Shift) -> str:
    p = shift.preceded_by
    return "-" if not p else f"{p.kind}: {p.label[:40]} ({shift.latency_s:.0f} s)"


def _signed(value: float | None) -> str:
    return "-" if value is None else f"{value:+.2f}"
