"""The app database's migrations and the keys-file import on a real PostgreSQL."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from pydantic import SecretStr

from backend.appdb import current_revision, downgrade, head_revision, make_engine, upgrade
from backend.appdb.keys import list_keys, lookup_key
from backend.appdb.models import metadata
from backend.settings import Settings
from tests.unit.appdb.test_keys import LEGACY, write_legacy_file

pytestmark = pytest.mark.integration
TABLES = {"users", "user_depots", "sessions", "api_keys", "login_attempts"}


@pytest.fixture
def pg_settings(tmp_path: Path, pg_url: str) -> Settings:
    return Settings(env="test", warehouse_dir=tmp_path / "warehouse", app_db_url=SecretStr(pg_url))


def test_up_down_up_on_postgresql(pg_settings: Settings) -> None:
    engine = upgrade(pg_settings)
    assert engine.dialect.name == "postgresql"
    assert current_revision(engine) == head_revision()
    assert set(sa.inspect(engine).get_table_names()) >= TABLES
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
        # The engine's statement timeout reaches the server.
        assert conn.execute(sa.text("show statement_timeout")).scalar() == "15s"
    downgrade(pg_settings, "base", engine)
    assert current_revision(engine) is None
    assert not TABLES & set(sa.inspect(engine).get_table_names())
    upgrade(pg_settings, engine)
    assert set(sa.inspect(engine).get_table_names()) >= TABLES
    engine.dispose()


def test_workers_starting_together_migrate_once(pg_settings: Settings) -> None:
    errors: list[BaseException] = []

    def start() -> None:
        try:
            upgrade(pg_settings, make_engine(pg_settings)).dispose()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    engine = make_engine(pg_settings)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_the_old_keys_file_is_migrated_to_postgresql(pg_settings: Settings) -> None:
    write_legacy_file(pg_settings.api_keys_path, LEGACY)
    engine = upgrade(pg_settings)
    upgrade(pg_settings, engine)  # twice: nothing copied twice
    keys = {k.key_id: k for k in list_keys(engine)}
    assert set(keys) == {row[0] for row in LEGACY}
    for _, token, _, _, _, revoked in LEGACY:
        assert (lookup_key(engine, token) is not None) == (revoked is None)
    engine.dispose()
