"""The lake's run lock: one holder at a time, a crashed holder's lock taken over, a holder
that lost its lease told so before it publishes."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from backend.lake.lock import LakeLock, LockLost, LockTimeout
from backend.settings import Settings

pytestmark = pytest.mark.reliability


def _settings(tmp_path: Path) -> Settings:
    return Settings(env="test", lake_root=str(tmp_path / "lake"), warehouse_dir=tmp_path / "wh")


def test_a_held_lock_is_not_taken_until_released(tmp_path: Path):
    settings = _settings(tmp_path)
    first = LakeLock(settings, owner="first", ttl_seconds=60)
    second = LakeLock(settings, owner="second", ttl_seconds=60, wait_seconds=0)
    first.acquire()
    assert not second.try_acquire()
    with pytest.raises(LockTimeout, match="held by first"):
        second.acquire()
    first.check()  # still ours
    first.release()
    assert second.try_acquire()
    assert second.holder() is not None and second.holder().owner == "second"  # type: ignore[union-attr]
    second.release()


def test_contenders_take_turns(tmp_path: Path):
    """Eight threads, each with its own lock object, never overlap inside the lock."""
    settings = _settings(tmp_path)
    inside: list[str] = []
    overlaps: list[str] = []
    guard = threading.Lock()

    def work(n: int) -> None:
        with LakeLock(settings, owner=f"w{n}", ttl_seconds=60, poll_seconds=0.01):
            with guard:
                if inside:
                    overlaps.append(f"w{n} entered while {inside} held it")
                inside.append(f"w{n}")
            time.sleep(0.02)
            with guard:
                inside.remove(f"w{n}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert overlaps == []
    assert inside == []


HOLDER = """
import sys, time
from backend.lake.lock import LakeLock
from backend.settings import Settings
lock = LakeLock(Settings(env="test", lake_root=sys.argv[1], warehouse_dir=sys.argv[2]),
                owner="doomed", ttl_seconds=float(sys.argv[3]))
lock.acquire()
print("held", flush=True)
time.sleep(600)
"""


def test_a_lock_of_a_killed_holder_is_taken_over_once_it_expires(tmp_path: Path):
    settings = _settings(tmp_path)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, settings.lake_uri, str(tmp_path / "wh"), "2"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        waiting = LakeLock(settings, owner="next", ttl_seconds=60, wait_seconds=0)
        assert not waiting.try_acquire()  # alive and beating: not stale
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        assert waiting.holder().owner == "doomed"  # type: ignore[union-attr]
        recovered = LakeLock(settings, owner="next", ttl_seconds=60, wait_seconds=30)
        recovered.acquire()  # waits for the dead lease to expire, then takes over
        assert recovered.holder().owner == "next"  # type: ignore[union-attr]
        recovered.release()
    finally:
        holder.kill()
        holder.wait()


def test_a_holder_past_its_expiry_learns_it_lost_the_lock(tmp_path: Path):
    settings = _settings(tmp_path)
    paused = LakeLock(settings, owner="paused", ttl_seconds=0.2, heartbeat=False)
    paused.acquire()
    time.sleep(0.3)  # a process stopped (GC, SIGSTOP) past its lease
    taker = LakeLock(settings, owner="taker", ttl_seconds=60, wait_seconds=0)
    assert taker.try_acquire()
    with pytest.raises(LockLost):
        paused.check()
    paused.release()  # must not release the taker's lease
    assert taker.holder().owner == "taker"  # type: ignore[union-attr]
    assert not LakeLock(settings, owner="third", wait_seconds=0).try_acquire()
    taker.check()
    taker.release()


def test_one_dag_run_shares_a_lease_by_token(tmp_path: Path):
    settings = _settings(tmp_path)
    first_task = LakeLock(settings, owner="dag", token="run-1", ttl_seconds=60, heartbeat=False)
    first_task.acquire()
    later_task = LakeLock(settings, owner="dag", token="run-1", heartbeat=False)
    assert later_task.resume()
    later_task.check()
    assert not LakeLock(settings, owner="x", token="run-2").resume()
    later_task.release()
    assert LakeLock(settings, owner="nova run", wait_seconds=0).try_acquire()
