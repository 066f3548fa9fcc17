"""Bearer API keys with roles, stored hashed in a small SQLite file.

The file (``Settings.api_keys_path``, by default ``<warehouse_dir>/api_keys.sqlite``) is
reachable by both the API and the ``nova apikey`` CLI without any server. A key is
``nova_<key id>_<secret>`` with 32 random bytes of secret; only its SHA-256 is stored.
A fast hash is enough here (unlike passwords, the keys are random and long), and lets the
API check a key on every request; verified keys are remembered for a few seconds so
revocation takes effect within ``ttl`` seconds.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

Role = Literal["viewer", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "admin")
PREFIX = "nova"

SCHEMA = """
create table if not exists api_keys (
    key_id text primary key,
    key_hash text not null unique,
    role text not null check (role in ('viewer', 'admin')),
    name text not null,
    created_at text not null,
    revoked_at text
)
"""


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    role: Role
    name: str
    created_at: str
    revoked_at: str | None = None


def hash_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=5)
    conn.execute(SCHEMA)
    return conn


def create_key(path: Path, *, role: Role, name: str = "") -> tuple[ApiKey, str]:
    """Create a key; returns its record and the token, which is shown once and never stored."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {ROLES}")
    key_id = secrets.token_hex(4)
    token = f"{PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    record = ApiKey(key_id, role, name, datetime.now(UTC).isoformat(timespec="seconds"))
    with closing(_connect(path)) as conn, conn:
        conn.execute(
            "insert into api_keys (key_id, key_hash, role, name, created_at) values (?, ?, ?, ?, ?)",
            (record.key_id, hash_key(token), role, name, record.created_at),
        )
    return record, token


def revoke_key(path: Path, key_id: str) -> bool:
    with closing(_connect(path)) as conn, conn:
        done = conn.execute(
            "update api_keys set revoked_at = ? where key_id = ? and revoked_at is null",
            (datetime.now(UTC).isoformat(timespec="seconds"), key_id),
        )
    return done.rowcount > 0


def list_keys(path: Path) -> list[ApiKey]:
    with closing(_connect(path)) as conn:
        rows = conn.execute(
            "select key_id, role, name, created_at, revoked_at from api_keys order by created_at, key_id"
        ).fetchall()
    return [ApiKey(*row) for row in rows]


def lookup(path: Path, token: str) -> ApiKey | None:
    """The live key whose hash matches ``token``, or None."""
    with closing(_connect(path)) as conn:
        row = conn.execute(
            "select key_id, role, name, created_at, revoked_at from api_keys "
            "where key_hash = ? and revoked_at is null",
            (hash_key(token),),
        ).fetchone()
    return ApiKey(*row) if row else None


class KeyVerifier:
    """Checks tokens against the key file, remembering answers for ``ttl`` seconds."""

    def __init__(self, path: Path, ttl: float = 10.0, max_entries: int = 10_000) -> None:
        self.path = path
        self.ttl = ttl
        self.max_entries = max_entries
        self._seen: dict[str, tuple[float, ApiKey | None]] = {}

    def cached(self, token: str) -> tuple[bool, ApiKey | None]:
        entry = self._seen.get(token)
        if entry and entry[0] > time.monotonic():
            return True, entry[1]
        return False, None

    def verify(self, token: str) -> ApiKey | None:
        """Blocking (SQLite): run it in a worker thread."""
        key = lookup(self.path, token) if token.startswith(f"{PREFIX}_") else None
        if len(self._seen) >= self.max_entries:
            self._seen.clear()
        self._seen[token] = (time.monotonic() + self.ttl, key)
        return key
