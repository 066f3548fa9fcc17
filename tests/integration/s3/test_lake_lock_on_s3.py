"""The lake's run lock on an object store: exclusive creation by a conditional PUT."""

from __future__ import annotations

import threading
import time

import pytest

from backend.lake.lock import LakeLock, LockLost
from backend.settings import Settings

pytestmark = [pytest.mark.s3, pytest.mark.integration, pytest.mark.reliability]


def test_one_holder_at_a_time_and_a_stale_lease_taken_over(s3_settings: Settings):
    first = LakeLock(s3_settings, owner="first", ttl_seconds=60)
    first.acquire()
    assert not LakeLock(s3_settings, owner="second", wait_seconds=0).try_acquire()
    first.release()

    crashed = LakeLock(s3_settings, owner="crashed", ttl_seconds=0.5, heartbeat=False)
    crashed.acquire()
    time.sleep(0.6)  # never beats again: its lease expires
    taker = LakeLock(s3_settings, owner="taker", ttl_seconds=60, wait_seconds=0)
    assert taker.try_acquire()
    with pytest.raises(LockLost):
        crashed.check()
    taker.release()


def test_contenders_on_s3_never_overlap(s3_settings: Settings):
    inside: list[str] = []
    overlaps: list[str] = []
    guard = threading.Lock()

    def work(n: int) -> None:
        with LakeLock(s3_settings, owner=f"w{n}", ttl_seconds=60, poll_seconds=0.05):
            with guard:
                if inside:
                    overlaps.append(f"w{n} with {inside}")
                inside.append(f"w{n}")
            time.sleep(0.05)
            with guard:
                inside.remove(f"w{n}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert overlaps == []
