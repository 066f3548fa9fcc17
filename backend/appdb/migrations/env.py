"""Alembic environment: migrates over the connection given by backend.appdb.migrate.

Generic on purpose: each revision states its own operations; ``target_metadata`` (every
aggregate's models) serves ``alembic revision --autogenerate`` when writing a new one.
"""

from __future__ import annotations

from alembic import context

from backend.appdb.models import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through backend.appdb.upgrade (no alembic.ini here)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite alters tables by copying them: batch mode lets later revisions alter columns.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
