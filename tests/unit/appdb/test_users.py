"""Accounts: argon2 passwords, depot scope, disable and password changes end sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from backend.appdb.base import utcnow
from backend.appdb.passwords import PasswordTooShort, check_strength, verify_password
from backend.appdb.sessions import UserSession, create_session, resolve_session, session_is_live
from backend.appdb.users import (
    UserExists,
    create_user,
    get_user,
    list_users,
    set_disabled,
    set_password,
)

IDLE = timedelta(minutes=30)


def test_create_and_list_with_a_depot_scope(engine: Engine) -> None:
    user = create_user(engine, email=" Ana@Example.COM ", password="correct horse battery",
                       role="planner", depots=["DEP02", "DEP01", "DEP01"])  # fmt: skip
    assert (user.email, user.role, user.depots) == (
        "ana@example.com",
        "planner",
        ("DEP01", "DEP02"),
    )
    every = create_user(engine, email="bo@example.com", password="x" * 12, role="viewer")
    assert every.depots is None  # no depots: every depot
    assert [u.email for u in list_users(engine)] == ["ana@example.com", "bo@example.com"]
    with pytest.raises(UserExists):
        create_user(engine, email="ANA@example.com", password="y" * 12, role="viewer")
    with pytest.raises(ValueError):
        create_user(engine, email="not-an-email", password="y" * 12, role="viewer")


def test_passwords_are_argon2_hashes_never_the_password(engine: Engine) -> None:
    create_user(engine, email="ana@example.com", password="correct horse battery", role="viewer")
    found = get_user(engine, "ana@example.com")
    assert found is not None
    _, stored = found
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert verify_password(stored, "correct horse battery")
    assert not verify_password(stored, "wrong horse battery")
    assert not verify_password(None, "correct horse battery")  # unknown account
    with pytest.raises(PasswordTooShort):
        check_strength("short", 12)


def test_disabling_a_user_revokes_every_session(engine: Engine) -> None:
    user = create_user(engine, email="ana@example.com", password="p" * 12, role="viewer")
    now = utcnow()
    first = create_session(engine, user_id=user.id, token_hash="a" * 64, now=now,
                           lifetime=timedelta(hours=1))  # fmt: skip
    assert resolve_session(engine, "a" * 64, now=now, idle=IDLE) is not None
    assert set_disabled(engine, "ana@example.com", True)
    assert resolve_session(engine, "a" * 64, now=now, idle=IDLE) is None
    assert not session_is_live(engine, first, now=now, idle=IDLE)
    # Enabling again does not revive the old session: they sign in again.
    assert set_disabled(engine, "ana@example.com", False)
    assert not session_is_live(engine, first, now=now, idle=IDLE)
    assert not set_disabled(engine, "nobody@example.com", True)


def test_sessions_expire_idle_and_absolute_and_a_new_password_revokes_them(engine: Engine) -> None:
    user = create_user(engine, email="ana@example.com", password="p" * 12, role="viewer")
    now = utcnow()
    create_session(
        engine, user_id=user.id, token_hash="b" * 64, now=now, lifetime=timedelta(hours=1)
    )
    live = resolve_session(engine, "b" * 64, now=now + timedelta(minutes=20), idle=IDLE)
    assert live is not None and live.user.email == "ana@example.com"
    # Used at +20 min (touched): still live at +45, idle-expired 30 min after the last use.
    assert resolve_session(engine, "b" * 64, now=now + timedelta(minutes=45), idle=IDLE)
    assert resolve_session(engine, "b" * 64, now=now + timedelta(minutes=76), idle=IDLE) is None
    create_session(
        engine, user_id=user.id, token_hash="c" * 64, now=now, lifetime=timedelta(hours=1)
    )
    for minutes in range(0, 60, 20):  # kept busy, it still ends at the absolute expiry
        assert resolve_session(engine, "c" * 64, now=now + timedelta(minutes=minutes), idle=IDLE)
    assert resolve_session(engine, "c" * 64, now=now + timedelta(minutes=61), idle=IDLE) is None
    create_session(
        engine, user_id=user.id, token_hash="d" * 64, now=now, lifetime=timedelta(hours=1)
    )
    assert set_password(engine, "ana@example.com", "q" * 12)
    assert resolve_session(engine, "d" * 64, now=now, idle=IDLE) is None


def test_signing_in_again_clears_the_users_ended_sessions(engine: Engine) -> None:
    user = create_user(engine, email="ana@example.com", password="p" * 12, role="viewer")
    start = utcnow()
    old = create_session(engine, user_id=user.id, token_hash="e" * 64, now=start,
                         lifetime=timedelta(hours=1))  # fmt: skip
    live = create_session(engine, user_id=user.id, token_hash="f" * 64,
                          now=start + timedelta(minutes=30), lifetime=timedelta(hours=1))  # fmt: skip
    later = start + timedelta(minutes=61)
    create_session(
        engine, user_id=user.id, token_hash="0" * 64, now=later, lifetime=timedelta(hours=1)
    )
    with Session(engine) as session:
        ids = set(session.scalars(sa.select(UserSession.id)))
    assert old not in ids and live in ids
