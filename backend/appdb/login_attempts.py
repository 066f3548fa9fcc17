"""Failed sign-ins, counted per account and per client address.

Kept in the app database (not in one process's memory) so the limit holds across API
workers. A successful sign-in forgets the account's failures; the address's stay until
they leave the window.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import InstrumentedAttribute, Mapped, Session, mapped_column

from backend.appdb.base import Base, UtcDateTime


class LoginAttempt(Base):
    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(sa.String(254), index=True)
    client_address: Mapped[str] = mapped_column(sa.String(64), index=True)
    attempted_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


def _retry_after(
    session: Session, column: InstrumentedAttribute[str], value: str, limit: int, since: datetime,
    window: timedelta, now: datetime,
) -> int:  # fmt: skip
    """Seconds until fewer than ``limit`` failures of ``value`` remain in the window."""
    times = session.scalars(
        sa.select(LoginAttempt.attempted_at)
        .where(column == value, LoginAttempt.attempted_at > since)
        .order_by(LoginAttempt.attempted_at.desc())
        .limit(limit)
    ).all()
    if len(times) < limit:
        return 0
    # The limit-th newest failure must age out of the window before one more try.
    return max(1, math.ceil((times[-1] + window - now).total_seconds()))


def retry_after(
    engine: Engine,
    *,
    email: str,
    client_address: str,
    now: datetime,
    window: timedelta,
    per_account: int,
    per_address: int,
) -> int:
    """0 when a sign-in may be tried now, otherwise the seconds to wait."""
    since = now - window
    with Session(engine) as session:
        return max(
            _retry_after(session, LoginAttempt.email, email, per_account, since, window, now),
            _retry_after(
                session, LoginAttempt.client_address, client_address, per_address, since,
                window, now,
            ),
        )  # fmt: skip


def record_failure(engine: Engine, *, email: str, client_address: str, now: datetime) -> None:
    with Session(engine) as session, session.begin():
        session.add(LoginAttempt(email=email, client_address=client_address, attempted_at=now))


def forget_failures(engine: Engine, *, email: str, before: datetime) -> None:
    """After a successful sign-in: the account's failures no longer count (and old rows
    of every account are pruned, so the table stays small)."""
    with Session(engine) as session, session.begin():
        session.execute(sa.delete(LoginAttempt).where(LoginAttempt.email == email))
        session.execute(sa.delete(LoginAttempt).where(LoginAttempt.attempted_at < before))
