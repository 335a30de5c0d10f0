"""Small charts drawn on the server as SVG (no chart library, no script): a run's step
timeline (a Gantt chart) and an asset's materialization history with row counts. Every
text is escaped; the charts take the plain data the views return."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from markupsafe import Markup

STATUS_FILL = {
    "success": "#86efac",
    "failure": "#fca5a5",
    "running": "#93c5fd",
    "skipped": "#fde047",
    "interrupted": "#cbd5e1",
    "waiting": "#f1f5f9",
    "not started": "#f1f5f9",
}
MAX_STEPS = 300
LABEL_W, TRACK_W, SECS_W = 220, 600, 70
LABEL_CHARS = 28  # 12px monospace labels longer than this would run off the chart's left edge
ROW_H, BAR_H = 20, 14
AXIS_H = 22


def _num(value: float) -> str:
    """A coordinate or quantity with at most one decimal."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _seconds(value: float) -> str:
    return f"{value:.0f} s" if value >= 10 else f"{value:.2g} s"


def gantt(steps: Sequence[Mapping[str, Any]], span_seconds: float) -> Markup:
    """The step timeline: one row per step (label, bar on the run's time axis coloured by
    status, duration), an axis in seconds; at most ``MAX_STEPS`` rows."""
    shown = list(steps[:MAX_STEPS])
    width = LABEL_W + TRACK_W + SECS_W
    height = ROW_H * len(shown) + AXIS_H + 4
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="gantt" class="gantt-svg" '
        f'viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="step timeline, {len(steps)} steps over {_seconds(span_seconds)}">'
    ]
    for i in range(5):  # the axis: 0, 1/4 ... of the span, with grid lines
        x = LABEL_W + TRACK_W * i / 4
        parts.append(
            f'<line x1="{_num(x)}" y1="0" x2="{_num(x)}" y2="{height - AXIS_H}" '
            f'stroke="#e2e8f0"/><text x="{_num(x)}" y="{height - 6}" font-size="11" '
            f'text-anchor="middle" fill="#64748b">{_seconds(span_seconds * i / 4)}</text>'
        )
    for row, s in enumerate(shown):
        y = row * ROW_H + 2
        step = escape(str(s["step"]))
        raw = str(s["step"])
        label = escape(raw if len(raw) <= LABEL_CHARS else "…" + raw[1 - LABEL_CHARS :])
        x = LABEL_W + TRACK_W * float(s["offset_pct"]) / 100
        w = max(2.0, TRACK_W * float(s["width_pct"]) / 100)
        status = str(s["status"])
        fill = STATUS_FILL.get(status, "#cbd5e1")
        css = escape(status.replace(" ", "-"))
        title = f"{step}: {escape(status)}, {s['start']} → {escape(str(s['end'] or 'running'))}"
        parts.append(
            f'<g class="step r-{css}" data-step="{step}"><title>{title} '
            f"({s['seconds']} s)</title>"
            f'<text x="{LABEL_W - 8}" y="{y + BAR_H - 3}" font-size="12" text-anchor="end" '
            f'font-family="monospace">{label}</text>'
            f'<rect x="{_num(x)}" y="{y}" width="{_num(w)}" height="{BAR_H}" rx="3" '
            f'fill="{fill}" stroke="#64748b" stroke-width="0.5"/>'
            f'<text x="{width - 4}" y="{y + BAR_H - 3}" font-size="11" text-anchor="end" '
            f'fill="#64748b">{s["seconds"]} s</text></g>'
        )
    parts.append("</svg>")
    more = len(steps) - len(shown)
    note = f'<p class="muted">… and {more} more steps (see the JSON API).</p>' if more > 0 else ""
    return Markup("".join(parts) + note)


def history(points: Sequence[Mapping[str, Any]]) -> Markup:
    """Row counts of an asset's materializations, oldest to newest: one bar each (height by
    rows; a grey stub where no row count was recorded), with run, time and partition as the
    bar's tooltip and link."""
    width, height, pad_l, pad_b, top = 600, 140, 56, 20, 8
    n = len(points)
    counted = [float(p["rows"]) for p in points if p.get("rows") is not None]
    peak = max(counted, default=0.0) or 1.0
    step = (width - pad_l - 4) / max(n, 1)
    bar = max(2.0, min(28.0, step * 0.7))
    plot_h = height - pad_b - top
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="history-chart" class="history-svg" '
        f'viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="row counts of the last {n} materializations">',
        f'<line x1="{pad_l}" y1="{top + plot_h}" x2="{width}" y2="{top + plot_h}" '
        'stroke="#94a3b8"/>',
    ]
    if counted:  # a row scale only when some materialization recorded its rows
        parts.append(
            f'<text x="{pad_l - 6}" y="{top + 10}" font-size="11" text-anchor="end" '
            f'fill="#64748b">{int(peak):,}</text>'
            f'<text x="{pad_l - 6}" y="{top + plot_h}" font-size="11" text-anchor="end" '
            'fill="#64748b">0</text>'
        )
    else:
        parts.append(
            f'<text x="{pad_l + (width - pad_l) / 2:.0f}" y="{top + plot_h / 2:.0f}" '
            'font-size="12" text-anchor="middle" fill="#64748b" class="no-rows">'
            "no row count recorded by these materializations</text>"
        )
    for i, p in enumerate(points):
        x = pad_l + i * step + (step - bar) / 2
        rows = p.get("rows")
        h = 3.0 if rows is None else max(1.0, plot_h * float(rows) / peak)
        fill = "#cbd5e1" if rows is None else "#60a5fa"
        shown = "no row count" if rows is None else f"{rows:,} rows"
        part = f", partition {escape(str(p['partition']))}" if p.get("partition") else ""
        run_id = escape(str(p["run_id"]))
        parts.append(
            f'<a href="/runs/{run_id}" class="point"><title>{escape(str(p["at"]))}: {shown}'
            f"{part} (run {run_id[:12]})</title>"
            f'<rect x="{_num(x)}" y="{_num(top + plot_h - h)}" width="{_num(bar)}" '
            f'height="{_num(h)}" fill="{fill}"/></a>'
        )
    if points:
        parts.append(
            f'<text x="{pad_l}" y="{height - 4}" font-size="11" fill="#64748b">'
            f"{escape(str(points[0]['at']))}</text>"
        )
    if n > 1:  # one materialization: its time once, not at both ends
        parts.append(
            f'<text x="{width}" y="{height - 4}" font-size="11" text-anchor="end" '
            f'fill="#64748b">{escape(str(points[-1]["at"]))}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
