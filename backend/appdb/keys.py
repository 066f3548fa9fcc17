"""API keys for services: ``nova_<key id>_<secret>``, stored as the SHA-256 of the token.

A fast hash is enough (unlike passwords, keys are 32 random bytes) and lets the API check
a key on every request. Keys made before the app database lived in a SQLite file of their
own (``Settings.api_keys_path``): :func:`import_legacy_keys` copies them in, hashes kept.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, Session, mapped_column

from backend.appdb.base import Base, UtcDateTime, utcnow

Role = Literal["viewer", "planner", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "planner", "admin")
PREFIX = "nova"
# Every key ever issued has this shape; anything else is refused without a lookup.
TOKEN_SHAPE = re.compile(rf"{PREFIX}_([0-9a-f]{{8}})_[A-Za-z0-9_-]{{43}}")


class ApiKey(Base):
    __tablename__ = "api_keys"
    __table_args__ = (sa.CheckConstraint("role in ('viewer', 'planner', 'admin')", name="role"),)

    key_id: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    role: Mapped[str] = mapped_column(sa.String(16))
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    role: Role
    name: str
    created_at: datetime
    revoked_at: datetime | None = None

    @classmethod
    def of(cls, row: ApiKey) -> KeyInfo:
        role: Role = row.role  # type: ignore[assignment]  # checked by the table
        return cls(row.key_id, role, row.name, row.created_at, row.revoked_at)


def hash_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def key_id_of(token: str) -> str | None:
    """The key id of a well-formed token, or None for anything else."""
    match = TOKEN_SHAPE.fullmatch(token)
    return match.group(1) if match else None


def create_key(engine: Engine, *, role: Role, name: str = "") -> tuple[KeyInfo, str]:
    """Create a key; returns its record and the token, shown once and never stored."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {ROLES}")
    key_id = secrets.token_hex(4)
    token = f"{PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    row = ApiKey(key_id=key_id, key_hash=hash_key(token), role=role, name=name,
                 created_at=utcnow().replace(microsecond=0))  # fmt: skip
    with Session(engine) as session, session.begin():
        session.add(row)
        session.flush()
        return KeyInfo.of(row), token


def list_keys(engine: Engine) -> list[KeyInfo]:
    with Session(engine) as session:
        rows = session.scalars(sa.select(ApiKey).order_by(ApiKey.created_at, ApiKey.key_id))
        return [KeyInfo.of(r) for r in rows]


def revoke_key(engine: Engine, key_id: str) -> bool:
    """Revoke a live key; False when there is no live key of that id."""
    with Session(engine) as session, session.begin():
        done = session.execute(
            sa.update(ApiKey)
            .where(ApiKey.key_id == key_id, ApiKey.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        return bool(done.rowcount)  # type: ignore[attr-defined]


def lookup_key(engine: Engine, token: str) -> KeyInfo | None:
    """The live key of ``token``, or None (malformed tokens cost no query)."""
    key_id = key_id_of(token)
    if key_id is None:
        return None
    with Session(engine) as session:
        row = session.get(ApiKey, key_id)
        if row is None or row.revoked_at is not None:
            return None
        return KeyInfo.of(row) if hmac.compare_digest(row.key_hash, hash_key(token)) else None


def key_is_live(engine: Engine, key_id: str) -> bool:
    with Session(engine) as session:
        row = session.get(ApiKey, key_id)
        return row is not None and row.revoked_at is None


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def import_legacy_keys(engine: Engine, path: Path) -> int:
    """Copy the keys of the old keys file into the app database; returns how many changed.

    Idempotent: a key already here is not copied again; one revoked in the file is revoked
    here too (a revocation is never undone). The file is left in place, untouched.
    """
    if not path.is_file():
        return 0
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        has_table = conn.execute(
            "select 1 from sqlite_master where type = 'table' and name = 'api_keys'"
        ).fetchone()
        rows = (
            conn.execute(
                "select key_id, key_hash, role, name, created_at, revoked_at from api_keys"
            ).fetchall()
            if has_table
            else []
        )
    changed = 0
    with Session(engine) as session, session.begin():
        for key_id, key_hash, role, name, created_at, revoked_at in rows:
            existing = session.get(ApiKey, key_id)
            if existing is None:
                session.add(
                    ApiKey(key_id=key_id, key_hash=key_hash, role=role, name=name or "",
                           created_at=_parse_time(created_at) or utcnow(),
                           revoked_at=_parse_time(revoked_at))
                )  # fmt: skip
                changed += 1
            elif revoked_at and existing.revoked_at is None:
                existing.revoked_at = _parse_time(revoked_at)
                changed += 1
    return changed
