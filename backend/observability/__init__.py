"""Logs and metrics of every `nova` process: structured logs bound to the run, step and
source (:mod:`backend.observability.logs`), and the Prometheus metrics the API serves,
including the pipeline's, read from the run reports (:mod:`backend.observability.metrics`)."""
