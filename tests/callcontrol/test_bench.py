"""Smoke test of bench/callcontrol.py's greenswitch comparison (a few seconds): its
greenswitch server answers the load generator, and its case runner reports on both
implementations. greenswitch's own results are not asserted: they are the benchmark's to
show (docs/benchmarks.md), and the suite must not depend on its defects."""

from __future__ import annotations

import pytest

pytest.importorskip("greenswitch")  # the ``bench`` extra

from bench.callcontrol import CASE_FORGED_NAME, comparison_table, measure, run_case


def test_greenswitch_holds_the_scripted_calls_and_the_row_renders():
    result = measure("greenswitch", calls=5, seconds=0.5, interval=0.1)
    assert (result["held"], result["sessions"], result["failed"]) == (5, 5, 0)
    assert result["commands"] > 0 and result["cpu_per_command_ms"] > 0
    assert result["peak_rss_kib"] >= result["idle_rss_kib"] > 0
    echo = {"commands": 1, "p50": 0.1, "p99": 0.2, "failed": 0}
    row = comparison_table([(1, "0.5", 5, echo, result, result)]).splitlines()[-1]
    assert row.startswith("| | | greenswitch | 5 |")


@pytest.mark.parametrize("implementation", ["ours", "greenswitch"])
def test_the_case_runner_reports_on_each_implementation(implementation):
    result = run_case(implementation, CASE_FORGED_NAME)
    assert set(result) == {"passed", "detail"} and "Error" not in result["detail"]
    assert result["detail"].count("playback returned on") == 2
    if implementation == "ours":
        assert result["passed"], result["detail"]
