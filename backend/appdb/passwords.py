"""Password hashing with argon2id (argon2-cffi's defaults, RFC 9106's low-memory profile)."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

HASHER = PasswordHasher()


class PasswordTooShort(ValueError):
    pass


def check_strength(password: str, min_length: int) -> None:
    if len(password) < min_length:
        raise PasswordTooShort(f"a password needs at least {min_length} characters")


def hash_password(password: str) -> str:
    return HASHER.hash(password)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return HASHER.hash("not a password: equalizes the time of unknown-account sign-ins")


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; with no hash (unknown account) a dummy hash is
    checked instead, so the answer takes as long either way."""
    try:
        return HASHER.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return HASHER.check_needs_rehash(stored_hash)
