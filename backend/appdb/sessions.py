"""Sign-in sessions, stored by the SHA-256 of their token (the cookie carries the token).

A session ends at the first of: ``expires_at`` (absolute), ``idle`` after ``last_seen_at``,
its revocation (sign-out, a password change), or its user being disabled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, Session, mapped_column, selectinload

from backend.appdb.base import Base, UtcDateTime, new_id
from backend.appdb.users import User, UserInfo

# last_seen_at is written at most this often per session: the idle clock needs minutes,
# not a write on every request.
TOUCH_EVERY = timedelta(seconds=60)


class UserSession(Base):
    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default=new_id)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[str] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    client_address: Mapped[str | None] = mapped_column(sa.String(64))


@dataclass(frozen=True)
class LiveSession:
    session_id: str
    user: UserInfo
    expires_at: datetime  # the earlier of the absolute and the idle expiry


def create_session(
    engine: Engine,
    *,
    user_id: str,
    token_hash: str,
    now: datetime,
    lifetime: timedelta,
    client_address: str | None = None,
) -> str:
    """Store a new session; returns its id."""
    with Session(engine) as session, session.begin():
        row = UserSession(
            token_hash=token_hash,
            user_id=user_id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime,
            client_address=client_address,
        )
        session.add(row)
        session.flush()
        return row.id


def _live(row: UserSession | None, user: User | None, now: datetime, idle: timedelta) -> bool:
    return (
        row is not None
        and user is not None
        and row.revoked_at is None
        and user.disabled_at is None
        and now < row.expires_at
        and now < row.last_seen_at + idle
    )


def resolve_session(
    engine: Engine, token_hash: str, *, now: datetime, idle: timedelta
) -> LiveSession | None:
    """The live session of ``token_hash`` (and its user), touching its idle clock."""
    with Session(engine) as session, session.begin():
        row = session.scalars(
            sa.select(UserSession).where(UserSession.token_hash == token_hash)
        ).one_or_none()
        if row is None:
            return None
        user = session.scalars(
            sa.select(User).where(User.id == row.user_id).options(selectinload(User.depot_rows))
        ).one_or_none()
        if user is None or not _live(row, user, now, idle):
            return None
        if now - row.last_seen_at >= TOUCH_EVERY:
            row.last_seen_at = now
        return LiveSession(row.id, UserInfo.of(user), min(row.expires_at, row.last_seen_at + idle))


def session_is_live(engine: Engine, session_id: str, *, now: datetime, idle: timedelta) -> bool:
    """Whether a session still holds (the WebSocket's periodic re-check; reads only)."""
    with Session(engine) as session:
        row = session.get(UserSession, session_id)
        user = session.get(User, row.user_id) if row is not None else None
        return _live(row, user, now, idle)


def revoke_session(engine: Engine, session_id: str, *, now: datetime) -> None:
    with Session(engine) as session, session.begin():
        session.execute(
            sa.update(UserSession)
            .where(UserSession.id == session_id, UserSession.revoked_at.is_(None))
            .values(revoked_at=now)
        )
