"""The report's bar chart (cdr.charts): the axis marks name counts at their heights."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from cdr.charts import BOTTOM, HEIGHT, TOP, calls_chart
from cdr.reports import Point


def axis_marks(svg: str) -> dict[int, float]:
    """The y-axis labels (font-size 11) and the height each stands at, 0 at the axis, 1 on top."""
    plot_height = HEIGHT - BOTTOM - TOP
    marks = {}
    mark = r'<text x="[\d.]+" y="([\d.]+)" text-anchor="end" font-size="11">(\d+)</text>'
    for y, label in re.findall(mark, svg):
        marks[int(label)] = round(1 - (float(y) - 4 - TOP) / plot_height, 3)
    return marks


@pytest.mark.parametrize(("busiest", "expected"), [
    (0, {0: 0.0, 1: 1.0}),          # an empty month: no "0" halfway up beside the "0" at the axis
    (1, {0: 0.0, 1: 1.0}),
    (2, {0: 0.0, 1: 0.5, 2: 1.0}),
    (4, {0: 0.0, 5: 1.0}),          # top 5: no "2" drawn at the height of 2.5
    (7, {0: 0.0, 5: 0.5, 10: 1.0}),
])
def test_axis_marks_are_whole_counts_at_their_heights(busiest, expected):
    points = [Point(at=datetime(2026, 12, 1), calls=busiest, answered=0),
              Point(at=datetime(2026, 12, 2), calls=0, answered=0)]
    svg = calls_chart(points, "day")
    assert axis_marks(svg) == expected
    assert len(re.findall(r'font-size="11"', svg)) == len(expected)
