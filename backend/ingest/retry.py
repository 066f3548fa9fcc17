"""Retrying what a later try can fix, with the same backoff for every source."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Full-jitter exponential backoff before retry number ``attempt`` (1-based): a
        random wait up to base * 2^(attempt-1), so parallel extractors do not retry in step."""
        return rng.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


class RetriesExhausted(RuntimeError):
    def __init__(self, what: str, attempts: int, last: BaseException):
        self.attempts = attempts
        super().__init__(f"{what} failed after {attempts} attempt(s): {last}")


def retry_call(
    call: Callable[[], T],
    *,
    what: str,
    transient: Callable[[BaseException], bool],
    policy: RetryPolicy,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> T:
    """``call()`` until it succeeds; errors that ``transient`` rejects are raised at once."""
    rng = rng or random.Random()
    for attempt in range(1, policy.attempts + 1):
        try:
            return call()
        except Exception as exc:
            if not transient(exc):
                raise
            if attempt == policy.attempts:
                raise RetriesExhausted(what, attempt, exc) from exc
            sleep(policy.backoff(attempt, rng))
    raise AssertionError("unreachable")  # the loop returns or raises
