"""Prometheus metrics of the event consumers: the API's alert feed (served by the API's
/metrics) and `nova stream` (served by its own /metrics, ``NOVA_STREAM_METRICS_PORT``)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

ALERTS_FANNED = Counter("nova_alerts_received_total", "Alerts received from Kafka by the API")
# Per partition; each API worker consumes every partition of the alerts topic, so with
# several workers the served value is the worst live worker's.
CONSUMER_LAG = Gauge(
    "nova_kafka_consumer_lag",
    "Messages behind the end of the partition",
    ["consumer", "topic", "partition"],
    multiprocess_mode="livemax",
)
