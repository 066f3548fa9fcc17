"""Engines of the app database: SQLite by default, PostgreSQL in the stack."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from backend.settings import Settings

SQLITE_BUSY_MS = 5_000


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        # WAL: readers (API workers) never block the writer (the CLI, a sign-in).
        cursor.execute("pragma journal_mode=wal")
        cursor.execute(f"pragma busy_timeout={SQLITE_BUSY_MS}")
        cursor.execute("pragma foreign_keys=on")
    finally:
        cursor.close()


def make_engine(settings: Settings, url: str | None = None) -> Engine:
    """An engine for ``url`` (default: the settings' app database), with timeouts."""
    target = sa.make_url(url or settings.app_db_uri)
    if target.get_backend_name() == "sqlite":
        if target.database and target.database != ":memory:":
            from pathlib import Path

            Path(target.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(target, connect_args={"timeout": SQLITE_BUSY_MS / 1000})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if target.get_backend_name() == "postgresql":
        if target.drivername == "postgresql":  # psycopg (3) is the driver the project ships
            target = target.set(drivername="postgresql+psycopg")
        connect_args = {
            "connect_timeout": max(1, round(settings.app_db_connect_timeout)),
            "options": f"-c statement_timeout={settings.app_db_statement_timeout_ms}",
        }
        return sa.create_engine(target, connect_args=connect_args, pool_pre_ping=True)
    raise ValueError(f"unsupported app database backend {target.get_backend_name()!r}")
