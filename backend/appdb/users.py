"""People: accounts with an argon2 password, a role and an optional depot scope."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, selectinload

from backend.appdb.base import Base, UtcDateTime, new_id, utcnow
from backend.appdb.passwords import hash_password

Role = Literal["viewer", "planner", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "planner", "admin")


class User(Base):
    __tablename__ = "users"
    __table_args__ = (sa.CheckConstraint("role in ('viewer', 'planner', 'admin')", name="role"),)

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    depot_rows: Mapped[list[UserDepot]] = relationship(
        cascade="all, delete-orphan", order_by="UserDepot.depot_id"
    )

    @property
    def depots(self) -> tuple[str, ...] | None:
        """The depot scope: None (no rows) means every depot."""
        return tuple(row.depot_id for row in self.depot_rows) or None


class UserDepot(Base):
    """One depot a scoped user may see."""

    __tablename__ = "user_depots"

    user_id: Mapped[str] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    depot_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)


@dataclass(frozen=True)
class UserInfo:
    """A user as the CLI and the API see it (never the password hash)."""

    id: str
    email: str
    role: Role
    depots: tuple[str, ...] | None
    created_at: datetime
    disabled_at: datetime | None

    @classmethod
    def of(cls, user: User) -> UserInfo:
        role: Role = user.role  # type: ignore[assignment]  # checked by the table
        return cls(user.id, user.email, role, user.depots, user.created_at, user.disabled_at)


class UserExists(ValueError):
    pass


def normalize_email(email: str) -> str:
    return email.strip().lower()


def _by_email(session: Session, email: str) -> User | None:
    query = (
        sa.select(User)
        .where(User.email == normalize_email(email))
        .options(selectinload(User.depot_rows))
    )
    return session.scalars(query).one_or_none()


def create_user(
    engine: Engine,
    *,
    email: str,
    password: str,
    role: Role,
    depots: Sequence[str] | None = None,
) -> UserInfo:
    """Create an account; the password must already meet the length rule."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {ROLES}")
    address = normalize_email(email)
    if "@" not in address or len(address) > 254:
        raise ValueError(f"{email!r} is not an email address")
    with Session(engine) as session, session.begin():
        if _by_email(session, address) is not None:
            raise UserExists(f"a user {address} already exists")
        user = User(
            email=address,
            password_hash=hash_password(password),
            role=role,
            depot_rows=[UserDepot(depot_id=d) for d in sorted(set(depots or ()))],
        )
        session.add(user)
        session.flush()
        return UserInfo.of(user)


def list_users(engine: Engine) -> list[UserInfo]:
    with Session(engine) as session:
        users = session.scalars(
            sa.select(User).options(selectinload(User.depot_rows)).order_by(User.email)
        )
        return [UserInfo.of(u) for u in users]


def get_user(engine: Engine, email: str) -> tuple[UserInfo, str] | None:
    """The user and their password hash, for signing in."""
    with Session(engine) as session:
        user = _by_email(session, email)
        return (UserInfo.of(user), user.password_hash) if user else None


def set_disabled(engine: Engine, email: str, disabled: bool) -> bool:
    """Disable (also revoking every session) or enable an account; False if no such user."""
    from backend.appdb.sessions import UserSession

    with Session(engine) as session, session.begin():
        user = _by_email(session, email)
        if user is None:
            return False
        now = utcnow()
        user.disabled_at = now if disabled else None
        if disabled:
            session.execute(
                sa.update(UserSession)
                .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
                .values(revoked_at=now)
            )
        return True


def set_password(engine: Engine, email: str, password: str) -> bool:
    """Replace a password hash; the user's other sessions are revoked."""
    from backend.appdb.sessions import UserSession

    with Session(engine) as session, session.begin():
        user = _by_email(session, email)
        if user is None:
            return False
        user.password_hash = hash_password(password)
        session.execute(
            sa.update(UserSession)
            .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        return True


def rehash_password(engine: Engine, user_id: str, password: str) -> None:
    """Store a fresh hash after argon2's parameters changed (on a successful sign-in)."""
    with Session(engine) as session, session.begin():
        session.execute(
            sa.update(User).where(User.id == user_id).values(password_hash=hash_password(password))
        )
