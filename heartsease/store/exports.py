"""A stored session as files: RR text (Kubios-readable), CSV, JSON, EDF+ with annotations,
and a report (HTML or PDF) with the tachogram, pacer, coherence, states and annotations.
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
import tempfile
from datetime import datetime
from typing import Any

import numpy as np
import pyedflib
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from heartsease.coaching.protocols import BUILT_IN, load_protocol
from heartsease.colours import STATE_COLOURS
from heartsease.signal.hrv import beat_times_s
from heartsease.signal.interpolation import NotAKnotSpline

EDF_HZ = 4


def rr_text(beats: list[dict[str, Any]], header: dict[str, Any]) -> str:
    """One RR in ms per line with ``#`` comments: readable by Kubios and ``analyze``."""
    lines = [f"# heartsease session {header['id']}, {header['started_at']}",
             f"# protocol {header['protocol']}, raw RR intervals in ms as the strap sent them"]
    lines += [f"{b['rr_ms']:.3f}" for b in beats]
    return "\n".join(lines) + "\n"


def beats_csv(beats: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["seq", "t_s", "rr_ms", "arrival_s", "label"])
    for b in beats:
        writer.writerow([b["seq"], f"{b['t_s']:.4f}", f"{b['rr_ms']:.3f}",
                         f"{b['arrival_s']:.4f}", b.get("label") or ""])
    return out.getvalue()


def session_json(header: dict[str, Any], beats: list[dict[str, Any]],
                 record: dict[str, Any]) -> str:
    return json.dumps({"session": header, "beats": beats, **record}, default=str)


def edf_plus(header: dict[str, Any], beats: list[dict[str, Any]],
             record: dict[str, Any]) -> bytes:
    """EDF+ with the RR tachogram and heart rate resampled at 4 Hz, and annotations: steps,
    state changes, shifts, backdrafts, cues and clinicians' notes."""
    rr = np.array([b["rr_ms"] for b in beats], dtype=np.float64)
    if rr.size < 4:
        raise ValueError("a session needs at least 4 beats for an EDF+ file")
    t = beat_times_s(rr)
    grid = np.arange(t[0], t[-1], 1.0 / EDF_HZ)
    grid = grid[: (grid.size // EDF_HZ) * EDF_HZ]  # whole 1-s records
    tachogram = NotAKnotSpline(t, rr)(grid)
    hr = 60000.0 / tachogram
    offset = t[0] - float(beats[0]["t_s"])  # the file starts at the first beat
    fd, path = tempfile.mkstemp(suffix=".edf")
    os.close(fd)
    try:
        writer = pyedflib.EdfWriter(path, 2, file_type=pyedflib.FILETYPE_EDFPLUS)
        writer.setSignalHeaders([
            {"label": "RR tachogram", "dimension": "ms", "sample_frequency": EDF_HZ,
             "physical_min": 200.0, "physical_max": 3000.0, "digital_min": -32768,
             "digital_max": 32767, "transducer": "chest strap", "prefilter": ""},
            {"label": "Heart rate", "dimension": "bpm", "sample_frequency": EDF_HZ,
             "physical_min": 20.0, "physical_max": 300.0, "digital_min": -32768,
             "digital_max": 32767, "transducer": "chest strap", "prefilter": ""},
        ])
        started = header["started_at"]
        if isinstance(started, datetime):
            writer.setStartdatetime(started.replace(tzinfo=None))
        writer.setPatientCode(header["client_id"])
        writer.setEquipment("heartsease")
        writer.writeSamples([np.clip(tachogram, 200, 3000), np.clip(hr, 20, 300)])
        for onset, text in _annotations(record):
            writer.writeAnnotation(max(onset + offset, 0.0), -1, text)
        writer.close()
        with open(path, "rb") as f:
            return f.read()
    finally:
        os.unlink(path)


def _annotations(record: dict[str, Any]) -> list[tuple[float, str]]:
    notes = [(s["t_s"], f"step {s['name']}") for s in record["steps"]]
    notes += [(s["start_s"], f"state {s['state']}") for s in record["states"]]
    notes += [(s["onset_s"], f"shift {s['direction']}") for s in record["shifts"]]
    notes += [(b["t_s"], "backdraft") for b in record["backdrafts"]]
    notes += [(a["t_s"], f"note: {a['text']}") for a in record["annotations"]]
    return sorted(notes)


def _figure(beats: list[dict[str, Any]], record: dict[str, Any]) -> Figure:
    """Drawn without pyplot: no global state, no window, safe in a server."""
    fig = Figure(figsize=(10, 5.5))
    ax_hr, ax_coh = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1.4]})
    for seg in record["states"]:
        for ax in (ax_hr, ax_coh):
            ax.axvspan(seg["start_s"] / 60, seg["end_s"] / 60, lw=0,
                       color=STATE_COLOURS.get(seg["state"], "#ffffff"), alpha=0.25)
    if beats:
        t = np.array([b["t_s"] for b in beats]) / 60
        hr = 60000.0 / np.array([b["rr_ms"] for b in beats])
        ax_hr.plot(t, hr, lw=0.8, color="#2b5c8a", label="heart rate")
    steps = record["steps"]
    for i, step in enumerate(steps):
        rate = step.get("pacer_to_bpm")
        if rate is not None:
            end = steps[i + 1]["t_s"] if i + 1 < len(steps) else record["duration_s"]
            ax_coh.hlines(rate, step["t_s"] / 60, end / 60, color="#7b3294", lw=1.5,
                          label="pacer (breaths/min)" if i == 1 else None)
    metrics = record["metrics"]
    coh = [(m["t_s"] / 60, m["coherence_ratio"]) for m in metrics if m["coherence_ratio"]]
    if coh:
        ax_coh.plot(*zip(*coh, strict=True), color="#1a9641", lw=1, label="coherence")
    for a in record["annotations"]:
        for ax in (ax_hr, ax_coh):
            ax.axvline(a["t_s"] / 60, color="#444444", lw=0.8, ls="--")
        ax_hr.annotate(a["text"], (a["t_s"] / 60, ax_hr.get_ylim()[1]), fontsize=7,
                       rotation=90, va="top", ha="right")
    for s in record["shifts"]:
        ax_hr.axvline(s["onset_s"] / 60, color="#1a9641" if s["direction"].endswith("soothing")
                      else "#d7191c", lw=1.2)
    ax_hr.set_ylabel("beats/min")
    ax_coh.set_ylabel("coherence / pace")
    ax_coh.set_xlabel("minutes")
    ax_hr.legend(loc="upper right", fontsize=8)
    ax_coh.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    return fig


def report_html(header: dict[str, Any], beats: list[dict[str, Any]],
                record: dict[str, Any]) -> str:
    fig = _figure(beats, record)
    svg = io.StringIO()
    fig.savefig(svg, format="svg")
    s = record["summary"]
    minutes = s["minutes_by_state"]
    shifts = "".join(
        f"<tr><td>{x['onset_s'] / 60:.1f} min</td><td>{html.escape(x['direction'])}</td>"
        f"<td>{html.escape(_preceded(x))}</td><td>{_signed(x['delta_hr_bpm'])}</td>"
        f"<td>{_signed(x['delta_ln_rmssd'])}</td></tr>" for x in record["shifts"])
    notes = "".join(f"<li>{a['t_s'] / 60:.1f} min: {html.escape(a['text'])}</li>"
                    for a in record["annotations"]) or "<li>No notes.</li>"
    shift_log = (f"<table><tr><th>onset</th><th>shift</th><th>after</th><th>HR change</th>"
                 f"<th>ln RMSSD change</th></tr>{shifts}</table>" if shifts
                 else "<p>No shifts in this session.</p>")
    protocol = (load_protocol(header["protocol"]).title if header["protocol"] in BUILT_IN
                else header["protocol"])
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Session report</title><style>
body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;color:#222}}
table{{border-collapse:collapse}}td,th{{padding:.25rem .75rem;border-bottom:1px solid #ddd}}
</style></head><body>
<h1>Session report</h1>
<p>{header['started_at']:%Y-%m-%d %H:%M} UTC &middot; {html.escape(protocol)} &middot;
pace {header['pace_bpm']:g} breaths/min &middot; {header['status']} &middot;
{record['duration_s'] / 60:.1f} minutes, {len(beats)} beats</p>
<p>Soothing {minutes['soothing']:.1f} min, neutral {minutes['neutral']:.1f} min,
threat {minutes['threat']:.1f} min, unknown {minutes['unknown']:.1f} min;
{s['threat_to_soothing_shifts']} shift(s) into soothing, {s['backdrafts']} backdraft(s),
{s['gaps']} gap(s).</p>
{svg.getvalue()}
<h2>Shift log</h2>{shift_log}
<h2>Clinician's notes</h2><ul>{notes}</ul></body></html>"""


def report_pdf(header: dict[str, Any], beats: list[dict[str, Any]],
               record: dict[str, Any]) -> bytes:
    out = io.BytesIO()
    with PdfPages(out) as pdf:
        fig = _figure(beats, record)
        s = record["summary"]
        fig.suptitle(f"{header['started_at']:%Y-%m-%d %H:%M} · {header['protocol']} · "
                     f"{record['duration_s'] / 60:.1f} min · soothing "
                     f"{s['minutes_by_state']['soothing']:.1f} min · "
                     f"{s['threat_to_soothing_shifts']} shift(s)", fontsize=10)
        fig.subplots_adjust(top=0.92)
        pdf.savefig(fig)
    return out.getvalue()


def _preceded(shift: dict[str, Any]) -> str:
    p = shift.get("preceded_by")
    return "-" if not p else f"{p['kind']}: {p['label'][:40]} ({shift['latency_s']:.0f} s)"


def _signed(value: float | None) -> str:
    return "-" if value is None else f"{value:+.2f}"
