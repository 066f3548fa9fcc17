"""Prometheus metrics of the event consumers (served by the API's /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

ALERTS_FANNED = Counter("nova_alerts_received_total", "Alerts received from Kafka by the API")
CONSUMER_LAG = Gauge(
    "nova_kafka_consumer_lag", "Messages behind the end of the topic", ["consumer", "topic"]
)
