"""A bar chart as inline SVG, drawn on the server: no script, no chart library, nothing
fetched by the browser. Every text in it is escaped."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from cdr.reports import Point

WIDTH, HEIGHT = 760, 220
LEFT, BOTTOM, TOP = 44, 28, 10


def _nice_ceiling(value: int) -> int:
    """The axis' top: 1, 2 or 5 times a power of ten, at least ``value``."""
    top = 1
    while top < value:
        for factor in (2, 5 / 2, 2):
            top = int(top * factor)
            if top >= value:
                break
    return max(top, 1)


def calls_chart(points: Sequence[Point], granularity: str, title: str = "Calls") -> str:
    """Calls (light bar) and answered calls (dark bar over it) per hour or day."""
    top = _nice_ceiling(max((point.calls for point in points), default=0))
    plot_width, plot_height = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    slot = plot_width / max(len(points), 1)
    bar = max(slot * 0.8, 1)
    label_every = max(1, round(len(points) / 12))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" class="chart" role="img" '
        f'aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{LEFT}" y1="{TOP + plot_height}" x2="{WIDTH - 8}" y2="{TOP + plot_height}" '
        'stroke="#888"/>',
    ]
    # The middle mark only where it is a whole number of calls: halfway up an axis of 1 or 5
    # is no count to print (rounded, it read "0" between 0 and 1, and "2" at 2.5).
    for value in (0, top // 2, top) if top % 2 == 0 else (0, top):
        y = TOP + plot_height * (1 - value / top)
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">'
                     f"{value}</text>")
    for index, point in enumerate(points):
        x = LEFT + index * slot + (slot - bar) / 2
        # An hourly axis names the day at each midnight.
        hourly_label = "%b %d" if point.at.hour == 0 else "%H:00"
        when = point.at.strftime(hourly_label if granularity == "hour" else "%b %d")
        bars = ((point.calls, "#9ec5fe", "calls"), (point.answered, "#0d6efd", "answered"))
        for value, colour, kind in bars:
            height = plot_height * value / top
            parts.append(
                f'<rect x="{x:.1f}" y="{TOP + plot_height - height:.1f}" width="{bar:.1f}" '
                f'height="{height:.1f}" fill="{colour}"><title>{escape(when)}: {value} {kind}</title></rect>')
        if index % label_every == 0:
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{HEIGHT - 10}" text-anchor="middle" font-size="10">'
                         f"{escape(when)}</text>")
    parts.append("</svg>")
    return "".join(parts)
