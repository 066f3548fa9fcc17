"""Migrations on SQLite: up, idempotent, matching the models, and down to nothing."""

from __future__ import annotations

import threading

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from backend.appdb import current_revision, downgrade, head_revision, make_engine, upgrade
from backend.appdb.models import metadata
from backend.settings import Settings

TABLES = {"users", "user_depots", "sessions", "api_keys", "login_attempts"}


def test_revisions_are_named_for_what_they_do() -> None:
    assert head_revision() == "0002_planning"


def test_upgrade_is_idempotent_and_matches_the_models(settings: Settings) -> None:
    engine = upgrade(settings)
    upgrade(settings, engine)
    assert current_revision(engine) == head_revision()
    assert set(sa.inspect(engine).get_table_names()) >= TABLES
    with engine.connect() as conn:
        # The migration creates exactly what the models declare (no drift either way).
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
        assert conn.execute(sa.text("pragma journal_mode")).scalar() == "wal"
        assert conn.execute(sa.text("pragma foreign_keys")).scalar() == 1
    engine.dispose()


def test_downgrade_removes_every_table_and_upgrade_restores_them(settings: Settings) -> None:
    engine = upgrade(settings)
    downgrade(settings, "base", engine)
    assert current_revision(engine) is None
    assert not TABLES & set(sa.inspect(engine).get_table_names())
    upgrade(settings, engine)
    assert set(sa.inspect(engine).get_table_names()) >= TABLES
    engine.dispose()


def test_processes_starting_together_migrate_once(settings: Settings) -> None:
    errors: list[BaseException] = []

    def start() -> None:
        try:
            upgrade(settings, make_engine(settings)).dispose()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert current_revision(make_engine(settings)) == head_revision()
