"""Failed sign-ins: the limit per account and per address, and when to retry."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine

from backend.appdb.base import utcnow
from backend.appdb.login_attempts import forget_failures, record_failure, retry_after

WINDOW = timedelta(minutes=15)


def wait(engine: Engine, email: str, address: str, now) -> int:  # type: ignore[no-untyped-def]
    return retry_after(engine, email=email, client_address=address, now=now, window=WINDOW,
                       per_account=3, per_address=5)  # fmt: skip


def test_an_account_is_held_after_the_limit_until_the_oldest_failure_ages_out(
    engine: Engine,
) -> None:
    start = utcnow()
    for n in range(3):
        assert wait(engine, "ana@x.com", "10.0.0.1", start) == 0
        record_failure(
            engine,
            email="ana@x.com",
            client_address=f"10.0.0.{n}",
            now=start + timedelta(minutes=n),
        )
    now = start + timedelta(minutes=3)
    assert wait(engine, "ana@x.com", "10.9.9.9", now) == 12 * 60  # the first failure leaves at +15
    assert wait(engine, "bo@x.com", "10.9.9.9", now) == 0  # another account is not held
    assert wait(engine, "ana@x.com", "10.9.9.9", start + timedelta(minutes=15, seconds=1)) == 0


def test_an_address_is_held_across_accounts(engine: Engine) -> None:
    now = utcnow()
    for n in range(5):
        record_failure(engine, email=f"user{n}@x.com", client_address="10.0.0.7", now=now)
    assert wait(engine, "new@x.com", "10.0.0.7", now) > 0
    assert wait(engine, "new@x.com", "10.0.0.8", now) == 0


def test_a_success_forgets_the_accounts_failures(engine: Engine) -> None:
    now = utcnow()
    for _ in range(3):
        record_failure(engine, email="ana@x.com", client_address="10.0.0.1", now=now)
    forget_failures(engine, email="ana@x.com", before=now - WINDOW)
    assert wait(engine, "ana@x.com", "10.0.0.2", now) == 0
