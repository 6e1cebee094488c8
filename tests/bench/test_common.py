"""The bench helpers: nearest-rank percentiles, the figures line, sandbox counters, the recorded @mention."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from bot.chat.commands import ShowPendingBills, parse_command
from bot.teams.connector import strip_mention

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _load_common():
    spec = importlib.util.spec_from_file_location("_common", BENCH / "_common.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("_common", module)
    spec.loader.exec_module(module)
    return module


common = _load_common()


def test_percentile_is_nearest_rank():
    values = list(range(100, 0, -1))  # 1..100, unsorted on purpose
    assert common.percentile(values, 50) == 50
    assert common.percentile(values, 95) == 95
    assert common.percentile(values, 99) == 99
    assert common.percentile(values, 100) == 100
    assert common.percentile([3.0], 50) == 3.0


def test_p99_of_sixty_samples_is_the_maximum_and_p50_a_real_sample():
    samples = [float(i) for i in range(1, 61)]
    assert common.percentile(samples, 99) == 60.0
    assert common.percentile(samples, 50) == 30.0  # ceil(0.5 × 60) = 30th value; no interpolation


@pytest.mark.parametrize("values, q", [([], 50), ([1.0], 0), ([1.0], 101)])
def test_percentile_refuses_nonsense(values, q):
    with pytest.raises(ValueError):
        common.percentile(values, q)


def test_figures_line_is_name_value_pairs():
    line = common.figures_line({"p50_s": 0.12345, "bills": 10_320, "idle_ok": "yes", "load_1min": "1.90"})
    assert line == "p50_s=0.123 bills=10320 idle_ok=yes load_1min=1.90"
    assert all(len(pair.split("=")) == 2 for pair in line.split(" "))


@pytest.mark.parametrize("pairs", [{"bad name": 1}, {"x": "two words"}, {"x": ""}, {"a=b": 1}])
def test_figures_line_refuses_what_would_not_parse(pairs):
    with pytest.raises(ValueError):
        common.figures_line(pairs)


def test_stats_delta_counts_only_what_happened_between_two_readings():
    before = {"requests": 10, "functions": {"readByQuery": 20, "getAPISession": 1}, "sessions_issued": 1}
    after = {"requests": 11, "functions": {"readByQuery": 23, "getAPISession": 1, "readMore": 0}, "sessions_issued": 1}
    delta = common.stats_delta(before, after)
    assert (delta.requests, delta.functions, delta.sessions, delta.function_count) == (1, {"readByQuery": 3}, 0, 3)
    assert delta.describe() == "1 requests, 3 functions (readByQuery 3)"


def test_the_recorded_mention_becomes_the_command_the_bench_means():
    activity = common.mention_activity("http://127.0.0.1:1234/_connector/", "show pending bills", "42")
    assert activity["serviceUrl"] == "http://127.0.0.1:1234/_connector/" and activity["id"] == "42"
    assert "attachments" not in activity  # the recorded HTML copy of another text is gone
    assert isinstance(parse_command(strip_mention(activity)), ShowPendingBills)
    team, channel, tenant = common.sample_ids()
    assert activity["conversation"]["id"].startswith(channel) and team and tenant
