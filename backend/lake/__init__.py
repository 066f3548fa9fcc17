"""Delta Lake IO: layer paths, idempotent writes and DuckDB reads."""
