"""Prometheus metrics for /metrics: one registry per app instance (no global state)."""

from __future__ import annotations

from typing import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Seconds from Intacct's WHENMODIFIED to the card in Teams: poll interval dominates.
LATENCY_BUCKETS = (1, 2, 5, 10, 20, 30, 60, 120, 180, 300, 600, 1800, 3600, 7200)


class Metrics:
    """Every metric ml-connector exposes, bound to its own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.polls = Counter("mlc_polls", "Poller jobs (poll, reconcile, reference, digest) by company and outcome.", ["company", "job", "outcome"], registry=r)
        self.poll_duration = Histogram("mlc_poll_duration_seconds", "Duration of poller jobs.", ["company", "job"], registry=r)
        self.events = Counter("mlc_events", "Events planned by kind (bills, payments, vendors, digest).", ["company", "kind"], registry=r)
        self.deliveries = Counter("mlc_deliveries", "Posts, updates and failures by action and outcome/status.", ["action", "outcome"], registry=r)
        self.outbox_depth = Gauge("mlc_outbox_depth", "Outbox rows pending or in flight.", registry=r)
        # Alert on this: while Teams refuses the bot, even the alert card about it cannot be posted.
        self.delivery_paused = Gauge("mlc_delivery_paused", "1 while posting is paused because Teams refuses the bot (401).", registry=r)
        self.delivery_latency = Histogram(
            "mlc_delivery_latency_seconds",
            "From Intacct WHENMODIFIED to the card posted in Teams.",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.activities = Counter("mlc_inbound_activities", "Activities received on /api/messages by type and outcome.", ["type", "outcome"], registry=r)
        self.commands = Counter("mlc_commands", "Chat commands answered, by command name.", ["command"], registry=r)
        self.graph_notifications = Counter("mlc_graph_notifications", "Graph notifications by outcome.", ["outcome"], registry=r)
        self.wakeups = Counter("mlc_intacct_wakeups", "Requests to /api/intacct/events by company, kind and outcome "
                               "(accepted, repeat, refused, too_large).", ["company", "kind", "outcome"], registry=r)
        self.tenant_refusals = Counter(
            "mlc_tenant_refusals", "Requests refused because their tenant is not in ALLOWED_TENANT_IDS, by surface "
            "(activity, invoke, graph).", ["surface"], registry=r)
        self.invokes = Counter("mlc_invokes", "Link unfurls, compose-box searches and card refreshes answered, by invoke "
                               "(link, search, refresh) and outcome.", ["invoke", "outcome"], registry=r)
        self.intacct_live_functions = Counter(
            "mlc_intacct_live_functions", "Intacct functions (billed transactions) people's reads used, by company and "
            "source (command, link, search, refresh).", ["company", "source"], registry=r)

    def watch_intacct(self, stats_by_company: Callable[[], Iterable[tuple[str, object]]]) -> None:
        """Expose the Intacct clients' own counters (requests, functions, errors) at scrape time."""
        self.registry.register(_IntacctStatsCollector(stats_by_company))

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)


class _IntacctStatsCollector(Collector):
    """Reads `ClientStats` objects (requests, functions by name, errors by code) when scraped."""

    def __init__(self, source: Callable[[], Iterable[tuple[str, object]]]) -> None:
        self._source = source

    def collect(self):
        requests = CounterMetricFamily("mlc_intacct_requests", "HTTP requests sent to the Intacct gateway.", labels=["company"])
        functions = CounterMetricFamily("mlc_intacct_functions", "Intacct API functions sent (each is a billed transaction).", labels=["company", "function"])
        errors = CounterMetricFamily("mlc_intacct_errors", "Intacct errors by error number or HTTP status.", labels=["company", "code"])
        for company, stats in self._source():
            requests.add_metric([company], getattr(stats, "requests", 0))
            for name, count in sorted(getattr(stats, "functions_by_name", {}).items()):
                functions.add_metric([company, name], count)
            for code, count in sorted(getattr(stats, "errors_by_code", {}).items()):
                errors.add_metric([company, code], count)
        yield requests
        yield functions
        yield errors
