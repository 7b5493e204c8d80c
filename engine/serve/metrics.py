"""What ``GET /metrics`` tells Prometheus: requests and their latencies by route and
status, decisions by outcome, order checks by outcome, audit appends and commits, and the
ruleset in use (its hash as a label).

Written with ``prometheus_client``, the Prometheus project's own library: it owns the text
format's escaping and the histogram buckets, which are easy to get subtly wrong by hand.
Each service has its own registry, so two apps in one process (the tests) do not mix.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

disable_created_metrics()  # no ``_created`` series: they double the exposition for nothing

CONTENT_TYPE = CONTENT_TYPE_LATEST
LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0,
                   2.5, 5.0)


class Metrics:
    """The service's counters, histograms and gauges, in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("credit_http_requests", "HTTP requests answered.",
                                ["method", "route", "status"], registry=r)
        self.latency = Histogram("credit_http_request_seconds",
                                 "Time from request to answer.", ["route"],
                                 buckets=LATENCY_BUCKETS, registry=r)
        self.decisions = Counter("credit_decisions", "Audited decisions by admission "
                                 "outcome.", ["outcome"], registry=r)
        self.order_checks = Counter("credit_order_checks", "Audited order checks by "
                                    "outcome.", ["outcome"], registry=r)
        self.appends = Counter("credit_audit_records_appended", "Audit records appended.",
                               registry=r)
        self.commits = Counter("credit_audit_commits", "Audit transactions committed (one "
                               "per group of requests).", registry=r)
        self.group_size = Histogram("credit_audit_group_requests", "Requests per audit "
                                    "transaction.", buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
                                    registry=r)
        self.refused = Counter("credit_http_refused", "Requests refused for want of a "
                               "token or a role.", ["status"], registry=r)
        self.ruleset = Gauge("credit_ruleset_info", "The ruleset in use (value 1).",
                             ["name", "version", "hash"], registry=r)
        self.reloads = Counter("credit_ruleset_reloads", "Ruleset reloads by result.",
                               ["result"], registry=r)
        self._answered: dict[tuple[str, str, int], tuple] = {}  # the series of answered()
        self._decided: dict[str, Counter] = {}

    def answered(self, method: str, route: str, status: int, seconds: float) -> None:
        """One request answered: counted by method, route and status, its time observed.
        The labelled series are kept once made: ``labels()`` costs 2-3 us a call."""
        key = (method, route, status)
        series = self._answered.get(key)
        if series is None:
            series = self._answered[key] = (self.requests.labels(method, route, str(status)),
                                            self.latency.labels(route))
        series[0].inc()
        series[1].observe(seconds)

    def decided(self, outcome: str) -> None:
        """One audited decision with this admission outcome."""
        counter = self._decided.get(outcome)
        if counter is None:
            counter = self._decided[outcome] = self.decisions.labels(outcome)
        counter.inc()

    def committed(self, requests: int, records: int) -> None:
        """One audit transaction of ``requests`` requests and ``records`` records."""
        self.commits.inc()
        self.appends.inc(records)
        self.group_size.observe(requests)

    def ruleset_in_use(self, name: str, version: str, digest: str) -> None:
        """Show this ruleset, and only it, as in use."""
        self.ruleset.clear()
        self.ruleset.labels(name, version, digest).set(1)

    def text(self) -> bytes:
        """The exposition in Prometheus text format."""
        return generate_latest(self.registry)
