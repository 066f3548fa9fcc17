"""Alembic migrations of the app database, run from code (no alembic.ini).

``upgrade(settings)`` is idempotent and safe to call from several processes at once (API
workers starting together): it holds a PostgreSQL advisory lock, or a file lock beside a
SQLite database, while it migrates. After the schema, it imports the old API keys file.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from backend.appdb.engine import make_engine
from backend.settings import Settings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# An arbitrary constant naming "the app database's migration" among advisory locks.
ADVISORY_LOCK_ID = 0x6E6F7661


def alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # env.py migrates over this connection: the URL (and its password) stays out of config.
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@contextlib.contextmanager
def _migration_lock(engine: Engine) -> Iterator[Connection]:
    """A connection holding the database's migration lock."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(sa.text("select pg_advisory_lock(:id)"), {"id": ADVISORY_LOCK_ID})
            conn.commit()
            try:
                yield conn
            finally:
                conn.execute(sa.text("select pg_advisory_unlock(:id)"), {"id": ADVISORY_LOCK_ID})
                conn.commit()
        return
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        with open(f"{database}.migrate.lock", "a") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                with engine.connect() as conn:
                    yield conn
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)
        return
    with engine.connect() as conn:
        yield conn


def migrate(engine: Engine, revision: str = "head", *, down: bool = False) -> None:
    """Upgrade (or downgrade) the schema of ``engine``'s database to ``revision``."""
    with _migration_lock(engine) as conn:
        config = alembic_config(conn)
        if down:
            command.downgrade(config, revision)
        else:
            command.upgrade(config, revision)
        conn.commit()


def upgrade(settings: Settings, engine: Engine | None = None) -> Engine:
    """Bring the app database to the latest schema and import the old keys file.

    Returns the engine (a new one unless given), ready for use.
    """
    from backend.appdb.keys import import_legacy_keys

    engine = engine or make_engine(settings)
    migrate(engine)
    import_legacy_keys(engine, settings.api_keys_path)
    return engine


def downgrade(settings: Settings, revision: str, engine: Engine | None = None) -> None:
    """Take the schema down to ``revision`` ("base": no tables)."""
    own = engine is None
    engine = engine or make_engine(settings)
    try:
        migrate(engine, revision, down=True)
    finally:
        if own:
            engine.dispose()
