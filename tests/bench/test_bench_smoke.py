"""Benchmarks at toy sizes, as `make bench` runs them (a child process each): they still
work against the real poller and handler, and their contract figures hold."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def run_bench(script: str, *options: str) -> dict[str, str]:
    done = subprocess.run([sys.executable, f"bench/{script}", *options], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    last = done.stdout.strip().splitlines()[-1]
    figures = dict(pair.split("=", 1) for pair in last.split(" "))
    assert all(figures.values()), last
    return figures


def test_poll_cycle_idle_is_one_request_of_three_functions_and_busy_finds_every_change():
    figures = run_bench("poll_cycle.py", "--bills", "300", "--changed", "5")
    assert figures["idle_ok"] == "yes"
    assert (figures["idle_requests"], figures["idle_functions"]) == ("1", "3")
    assert figures["busy_events"] == "5" and figures["busy_requests"] == "2" and figures["busy_functions"] == "4"
    assert figures["problems"] == "0"
    assert int(figures["monthly_estimate_wakeups"]) <= 10_000  # issue 18: with wake-ups, ≤ 10% of a Tier-1 month


def test_latency_push_mode_delivers_every_bill_through_wake_ups_with_the_poll_far_away():
    figures = run_bench("latency.py", "--push", "--bills", "4", "--span", "4")
    assert (figures["mode"], figures["poll_every_s"], figures["delivered"], figures["lost"]) == ("push", "900", "4", "0")
    assert int(figures["wakeups"]) >= 4 and int(figures["polls"]) >= 1


def test_chat_reply_answers_through_api_messages():
    figures = run_bench("chat_reply.py", "--bills", "200", "--requests", "2", "--demo-requests", "2")
    assert figures["bills"] == "520" and figures["requests"] == "2"
    assert 0 < float(figures["p95_s"]) < 15  # Teams' budget


def test_compose_search_answers_every_search_with_results_in_time():
    figures = run_bench("compose_search.py", "--bills", "200", "--requests", "6")
    assert figures["bills"] == "520" and figures["searches"] == "6" and float(figures["results_mean"]) >= 1
    assert 0 < float(figures["p95_s"]) < 5 and figures["over_teams_budget"] == "0"


def test_hostile_requests_are_refused_with_two_log_lines_per_flood():
    figures = run_bench("hostile_requests.py", "--bodies", "5", "--items", "50")
    assert (figures["graph_status"], figures["flat_status"], figures["deep_status"]) == ("403", "400", "400")
    assert (figures["graph_log_lines"], figures["flat_log_lines"], figures["deep_log_lines"]) == ("2", "2", "2")


def test_intacct_memory_parses_under_the_cap_and_refuses_above_it():
    figures = run_bench("intacct_memory.py", "--sizes", "0.5,3", "--max-response-mb", "1")
    assert (figures["outcome_0.5mb"], figures["outcome_3mb"], figures["outcome_at_cap"]) == ("parsed", "refused", "parsed")
    assert float(figures["peak_mb_per_mb"]) > 0


def test_store_commit_stores_every_snapshot_each_round():
    figures = run_bench("store_commit.py", "--snapshots", "500", "--rounds", "2")
    assert figures["snapshots"] == "500" and float(figures["median_s"]) > 0
