"""A service's Prometheus metrics: HTTP traffic, events published and handled, and lags.

A leaf module (prometheus-client and the standard library only), so that the web layer,
the relay and the subscribers can all record into it without importing one another.

Each :class:`ServiceMetrics` owns its :class:`~prometheus_client.CollectorRegistry`:
several services run in one test process, and the global registry would make their
metrics clash. Every series carries the service's name as its ``service`` label
(prometheus-client has no constant labels, so the label is bound here, once).

Lags are not pushed: the relay and the consumers register callables that are read when
``/metrics`` is scraped (:meth:`ServiceMetrics.watch_outbox`,
:meth:`ServiceMetrics.watch_consumer_lag`). They run inside the scrape, synchronously,
so they must return what their owner last observed rather than do I/O.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from enum import StrEnum
from typing import NamedTuple

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = ["ConsumerLag", "OutboxState", "Outcome", "ServiceMetrics"]

# Handlers run from well under a millisecond (a projection update) to seconds (a saga step
# calling out); the HTTP defaults stop at 10 s and start too coarse for the fast end.
_HANDLER_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class Outcome(StrEnum):
    """What became of a delivered event."""

    HANDLED = "handled"
    DUPLICATE = "duplicate"
    """Already processed by this group: acknowledged without running the handler."""
    SKIPPED = "skipped"
    """No handler of the group wants this event type."""


class OutboxState(NamedTuple):
    """What a relay last observed: events stored but not yet published, and parked streams."""

    lag_events: int
    parked_streams: int


class ConsumerLag(NamedTuple):
    """Messages a consumer group has yet to read from one partition."""

    group: str
    topic: str
    partition: int
    messages: int


class ServiceMetrics:
    """The metrics of one service instance, in a registry of its own."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry()
        self._http_requests = Counter(
            "evp_http_requests",
            "HTTP requests answered, by route template and status.",
            ["service", "method", "route", "status"],
            registry=self.registry,
        )
        self._http_seconds = Histogram(
            "evp_http_request_seconds",
            "Time to answer an HTTP request, by route template.",
            ["service", "method", "route"],
            registry=self.registry,
        )
        self._published = Counter(
            "evp_events_published",
            "Events the relay published to Kafka.",
            ["service", "event_type"],
            registry=self.registry,
        )
        self._handled = Counter(
            "evp_events_handled",
            "Events delivered to a consumer group, by outcome.",
            ["service", "group", "event_type", "outcome"],
            registry=self.registry,
        )
        self._dead_lettered = Counter(
            "evp_events_dead_lettered",
            "Messages a consumer group sent to its dead-letter topic, by reason.",
            ["service", "group", "reason"],
            registry=self.registry,
        )
        self._handler_seconds = Histogram(
            "evp_handler_seconds",
            "Time a handler took for one event.",
            ["service", "group", "event_type"],
            buckets=_HANDLER_BUCKETS,
            registry=self.registry,
        )
        self._fetch_restarts = Counter(
            "evp_consumer_fetch_restarts",
            "Times a consumer group's fetch loop was restarted after a failure.",
            ["service", "group"],
            registry=self.registry,
        )
        self._handler_timeouts = Counter(
            "evp_handler_timeouts",
            "Handler runs abandoned for taking longer than their time limit.",
            ["service", "group"],
            registry=self.registry,
        )
        self._observed = _ObservedGauges(service)
        self.registry.register(self._observed)

    def http_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request; ``route`` is the template, never the raw path."""
        self._http_requests.labels(self.service, method, route, str(status)).inc()
        self._http_seconds.labels(self.service, method, route).observe(seconds)

    def published(self, event_type: str, count: int = 1) -> None:
        """Count events the relay published."""
        self._published.labels(self.service, event_type).inc(count)

    def handled(self, group: str, event_type: str, outcome: Outcome, seconds: float) -> None:
        """Count one delivered event and, when its handler ran, time it."""
        outcome = Outcome(outcome)
        self._handled.labels(self.service, group, event_type, outcome.value).inc()
        if outcome is Outcome.HANDLED:
            self._handler_seconds.labels(self.service, group, event_type).observe(seconds)

    def dead_lettered(self, group: str, reason: str) -> None:
        """Count one message sent to the dead-letter topic."""
        self._dead_lettered.labels(self.service, group, reason).inc()

    def fetch_restarted(self, group: str) -> None:
        """Count one restart of a consumer group's fetch loop."""
        self._fetch_restarts.labels(self.service, group).inc()

    def handler_timed_out(self, group: str) -> None:
        """Count one handler run abandoned for its time limit."""
        self._handler_timeouts.labels(self.service, group).inc()

    def watch_outbox(self, source: Callable[[], OutboxState]) -> None:
        """Read ``source`` at each scrape; several relays' states are summed."""
        self._observed.add_outbox(source)

    def watch_consumer_lag(self, source: Callable[[], Iterable[ConsumerLag]]) -> None:
        """Read ``source`` at each scrape for the lag of each (group, topic, partition)."""
        self._observed.add_consumer_lag(source)

    def render(self) -> tuple[bytes, str]:
        """The Prometheus text exposition of this registry: body and content type."""
        return generate_latest(self.registry), CONTENT_TYPE_PLAIN_0_0_4


class _ObservedGauges(Collector):
    """Gauges whose values come from their owners' callables, read at scrape time."""

    def __init__(self, service: str) -> None:
        self._service = service
        self._lock = threading.Lock()
        self._outbox: list[Callable[[], OutboxState]] = []
        self._consumer_lag: list[Callable[[], Iterable[ConsumerLag]]] = []

    def add_outbox(self, source: Callable[[], OutboxState]) -> None:
        with self._lock:
            self._outbox.append(source)

    def add_consumer_lag(self, source: Callable[[], Iterable[ConsumerLag]]) -> None:
        with self._lock:
            self._consumer_lag.append(source)

    def describe(self) -> Iterable[Metric]:
        # Declared without reading the sources, which may not be ready at registration.
        return [*self._families()]

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            outbox = list(self._outbox)
            consumer_lag = list(self._consumer_lag)
        lag, parked, consumers = self._families()
        states = [source() for source in outbox]
        if states:
            # A service without a relay has no outbox: no sample, rather than a false zero.
            lag.add_metric([self._service], sum(s.lag_events for s in states))
            parked.add_metric([self._service], sum(s.parked_streams for s in states))
        for source in consumer_lag:
            for row in source():
                consumers.add_metric(
                    [self._service, row.group, row.topic, str(row.partition)], row.messages
                )
        yield from (lag, parked, consumers)

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily, GaugeMetricFamily]:
        return (
            GaugeMetricFamily(
                "evp_outbox_lag_events",
                "Events stored but not yet published by the relay.",
                labels=["service"],
            ),
            GaugeMetricFamily(
                "evp_outbox_parked_streams",
                "Streams the relay parked after an event it could not publish.",
                labels=["service"],
            ),
            GaugeMetricFamily(
                "evp_consumer_lag_messages",
                "Messages a consumer group has yet to read, per partition.",
                labels=["service", "group", "topic", "partition"],
            ),
        )
