"""API keys in the app database, and the import of the old keys file."""

from __future__ import annotations

import hashlib
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from backend.appdb import upgrade
from backend.appdb.keys import (
    create_key,
    import_legacy_keys,
    key_is_live,
    list_keys,
    lookup_key,
    revoke_key,
)
from backend.settings import Settings

# The old file's schema, as the keys file of earlier releases wrote it.
LEGACY_SCHEMA = """
create table api_keys (
    key_id text primary key,
    key_hash text not null unique,
    role text not null check (role in ('viewer', 'admin')),
    name text not null,
    created_at text not null,
    revoked_at text
)
"""
LEGACY = [
    ("0a1b2c3d", "nova_0a1b2c3d_" + "A" * 43, "viewer", "erp sync", "2026-01-02T03:04:05+00:00", None),
    ("1a1b2c3d", "nova_1a1b2c3d_" + "B" * 43, "admin", "ops", "2026-02-02T03:04:05+00:00", None),
    ("2a1b2c3d", "nova_2a1b2c3d_" + "C" * 43, "viewer", "old bot", "2026-03-02T03:04:05+00:00",
     "2026-04-01T00:00:00+00:00"),
]  # fmt: skip


def write_legacy_file(path: Path, rows: list[tuple[str, str, str, str, str, str | None]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute(LEGACY_SCHEMA)
        conn.executemany(
            "insert into api_keys values (?, ?, ?, ?, ?, ?)",
            [(i, hashlib.sha256(t.encode()).hexdigest(), r, n, c, v) for i, t, r, n, c, v in rows],
        )


def test_create_lookup_revoke(engine: Engine) -> None:
    record, token = create_key(engine, role="planner", name="scheduler")
    assert token.startswith(f"nova_{record.key_id}_")
    found = lookup_key(engine, token)
    assert found is not None and found.role == "planner" and found.name == "scheduler"
    assert lookup_key(engine, token[:-1] + ("x" if token[-1] != "x" else "y")) is None
    assert lookup_key(engine, "junk") is None
    assert revoke_key(engine, record.key_id)
    assert not revoke_key(engine, record.key_id)  # already revoked
    assert lookup_key(engine, token) is None and not key_is_live(engine, record.key_id)
    with pytest.raises(ValueError):
        create_key(engine, role="root")  # type: ignore[arg-type]


def test_the_old_keys_file_is_migrated_hashes_kept_idempotent(settings: Settings) -> None:
    write_legacy_file(settings.api_keys_path, LEGACY)
    engine = upgrade(settings)
    keys = {k.key_id: k for k in list_keys(engine)}
    assert set(keys) == {row[0] for row in LEGACY}  # nothing lost
    for key_id, token, role, name, _, revoked in LEGACY:
        assert (keys[key_id].role, keys[key_id].name) == (role, name)
        # Hashes kept: the tokens services already hold still work (or stay revoked).
        assert (lookup_key(engine, token) is not None) == (revoked is None)
    assert keys["2a1b2c3d"].revoked_at is not None
    assert keys["0a1b2c3d"].created_at.isoformat() == "2026-01-02T03:04:05+00:00"
    # Idempotent: upgrading again copies nothing twice and revives nothing.
    revoke_key(engine, "0a1b2c3d")
    upgrade(settings, engine)
    assert import_legacy_keys(engine, settings.api_keys_path) == 0
    assert len(list_keys(engine)) == len(LEGACY)
    assert lookup_key(engine, LEGACY[0][1]) is None  # revoked here, stays revoked
    engine.dispose()


def test_a_key_revoked_in_the_old_file_later_is_revoked_here_too(settings: Settings) -> None:
    write_legacy_file(settings.api_keys_path, LEGACY[:1])
    engine = upgrade(settings)
    assert lookup_key(engine, LEGACY[0][1]) is not None
    with closing(sqlite3.connect(settings.api_keys_path)) as conn, conn:
        conn.execute("update api_keys set revoked_at = '2026-05-01T00:00:00+00:00'")
    assert import_legacy_keys(engine, settings.api_keys_path) == 1
    assert lookup_key(engine, LEGACY[0][1]) is None
    engine.dispose()


def test_no_old_file_is_nothing_to_import(engine: Engine, tmp_path: Path) -> None:
    assert import_legacy_keys(engine, tmp_path / "absent.sqlite") == 0
    assert list_keys(engine) == []
