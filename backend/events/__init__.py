"""Kafka events: the alert outbox, the API's alert feed and the real-time stock stream."""
