"""A lock kept in the lake, so that two runs on one lake (two `nova run`, or `nova run`
beside Airflow, on one host or several) take turns.

The lock is a sequence of lease files ``<lake>/_locks/<name>/<generation>.json``; the
highest generation is the current lease. Taking the lock is creating the next generation
*exclusively* (locally a hard link, which fails if the name exists; on S3 a PUT with
``If-None-Match: *``), so of any number of contenders exactly one wins, whether the lock
was free, released or stale. Nobody but its owner ever writes a lease after creating it.

A lease names its owner and an expiry that the owner's heartbeat pushes forward. A holder
that crashed (SIGKILL, a lost machine) stops beating; once its lease has expired, the
next contender creates the next generation and carries on. A holder that was only
paused past its expiry finds a newer generation at its next beat and knows it lost the
lock: :meth:`LakeLock.check` raises before it publishes anything.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import pyarrow.fs as pafs

from backend.lake import delta
from backend.settings import Settings

log = logging.getLogger("nova.lock")
LOCKS_DIR = "_locks"


class LockTimeout(TimeoutError):
    """Another run held the lock for longer than we were willing to wait."""


class LockLost(RuntimeError):
    """Our lease expired and another run took the lock: stop before publishing."""


@dataclass(frozen=True)
class Lease:
    generation: int
    owner: str
    token: str
    expires_at: float  # seconds since the epoch
    released: bool = False

    def free(self, now: float) -> bool:
        return self.released or self.expires_at <= now

    def as_json(self) -> bytes:
        return json.dumps(
            {
                "generation": self.generation,
                "owner": self.owner,
                "token": self.token,
                "expires_at": self.expires_at,
                "expires_at_utc": datetime.fromtimestamp(self.expires_at, UTC).isoformat(),
                "released": self.released,
            }
        ).encode()

    @classmethod
    def from_json(cls, generation: int, data: bytes) -> Lease:
        raw: dict[str, Any] = json.loads(data)
        return cls(
            generation=generation,
            owner=str(raw.get("owner", "?")),
            token=str(raw.get("token", "")),
            expires_at=float(raw.get("expires_at", 0.0)),
            released=bool(raw.get("released", False)),
        )


def default_owner(label: str = "") -> str:
    """Who holds a lease, for people reading it: host, process and what it runs."""
    who = f"{socket.gethostname()}:{os.getpid()}"
    return f"{who} {label}".strip()


class _Store:
    """The three operations a lock needs, on a local lake or an S3 lake."""

    def __init__(self, uri: str, settings: Settings) -> None:
        self.uri = uri.rstrip("/")
        self.settings = settings
        self.fs, self.path = delta.filesystem(self.uri, settings)

    def generations(self) -> list[int]:
        infos = self.fs.get_file_info(pafs.FileSelector(self.path, allow_not_found=True))
        found = []
        for info in infos:
            stem = info.base_name.removesuffix(".json")
            if (
                info.type == pafs.FileType.File
                and info.base_name.endswith(".json")
                and stem.isdigit()
            ):
                found.append(int(stem))
        return sorted(found)

    def name(self, generation: int) -> str:
        return f"{generation:012d}.json"

    def read(self, generation: int) -> Lease | None:
        try:
            with self.fs.open_input_stream(f"{self.path}/{self.name(generation)}") as stream:
                return Lease.from_json(generation, stream.read())
        except FileNotFoundError:
            return None
        except ValueError:  # half a document cannot exist (atomic writes); be safe anyway
            return None

    def create(self, lease: Lease) -> bool:
        """Create the lease's file only if it does not exist; whether we created it."""
        target = f"{self.path}/{self.name(lease.generation)}"
        if delta.is_local(self.fs):
            Path(self.path).mkdir(parents=True, exist_ok=True)
            # Unique per attempt: the tasks of one DAG run share a token and may race here.
            tmp = f"{target}.{secrets.token_hex(6)}.tmp"
            Path(tmp).write_bytes(lease.as_json())
            try:
                os.link(tmp, target)  # atomic, and fails if the name exists
                return True
            except FileExistsError:
                return False
            finally:
                os.unlink(tmp)
        bucket, key = target.split("/", 1)
        try:
            self._s3().put_object(Bucket=bucket, Key=key, Body=lease.as_json(), IfNoneMatch="*")
            return True
        except Exception as exc:
            status = getattr(exc, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status in (409, 412):  # 412: exists; 409: a concurrent conditional write
                return False
            raise

    def overwrite(self, lease: Lease) -> None:
        """Rewrite our own lease (a heartbeat or the release): whole or not at all."""
        delta.write_json(
            f"{self.uri}/{self.name(lease.generation)}",
            json.loads(lease.as_json()),
            self.settings,
            indent=None,
        )

    def delete(self, generation: int) -> None:
        with contextlib.suppress(OSError):  # FileNotFoundError included
            self.fs.delete_file(f"{self.path}/{self.name(generation)}")

    def _s3(self) -> Any:
        import boto3

        s = self.settings
        return boto3.client(
            "s3",
            endpoint_url=s.aws_endpoint_url,
            region_name=s.aws_region,
            aws_access_key_id=s.aws_access_key_id.get_secret_value()
            if s.aws_access_key_id
            else None,
            aws_secret_access_key=s.aws_secret_access_key.get_secret_value()
            if s.aws_secret_access_key
            else None,
        )


class LakeLock:
    """``with LakeLock(settings, "run", owner=...):`` serializes runs on one lake."""

    def __init__(
        self,
        settings: Settings,
        name: str = "run",
        *,
        owner: str | None = None,
        ttl_seconds: float | None = None,
        wait_seconds: float | None = None,
        poll_seconds: float = 1.0,
        token: str | None = None,
        heartbeat: bool = True,
    ) -> None:
        self.store = _Store(delta.table_uri(LOCKS_DIR, name, settings=settings), settings)
        self.owner = owner or default_owner()
        self.ttl = ttl_seconds if ttl_seconds is not None else settings.run_lock_ttl_seconds
        self.wait = wait_seconds if wait_seconds is not None else settings.run_lock_wait_seconds
        self.poll = poll_seconds
        # A fixed token lets the separate processes of one Airflow DAG run share a lease;
        # they cannot beat, so that lease lives for its whole TTL (the DAG run's timeout).
        self.token = token
        self.beats = heartbeat
        self.lease: Lease | None = None
        self._lost: str | None = None
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    # --- taking and giving back -----------------------------------------------------

    def try_acquire(self) -> bool:
        """One attempt: take the lock if it is free, released or stale."""
        now = time.time()
        generations = self.store.generations()
        current = self.store.read(generations[-1]) if generations else None
        if generations and current is None:
            return False  # a lease being replaced right now: look again shortly
        if current is not None and not current.free(now):
            return False
        lease = Lease(
            generation=(current.generation + 1) if current else 1,
            owner=self.owner,
            token=self.token or secrets.token_hex(8),
            expires_at=now + self.ttl,
        )
        if not self.store.create(lease):
            return False  # another contender created that generation first
        if current is not None and not current.released:
            log.warning(
                "took over the stale lock %s from %s (expired %s)",
                self.store.uri,
                current.owner,
                datetime.fromtimestamp(current.expires_at, UTC).isoformat(),
            )
        self.lease = lease
        self._lost = None
        for old in generations[:-1]:  # keep the previous lease for the record, drop older
            self.store.delete(old)
        if self.beats:
            self._start_heartbeat()
        return True

    def resume(self) -> bool:
        """Adopt the current lease if it carries our token (another task of the same DAG
        run took it) and is still live; whether it did."""
        current = self.holder()
        if current is None or self.token is None or current.token != self.token:
            return False
        if current.free(time.time()):
            return False
        self.lease = current
        return True

    def acquire(self) -> Lease:
        """Wait (up to ``wait_seconds``) for the lock; LockTimeout names the holder."""
        deadline = time.monotonic() + self.wait
        while not self.try_acquire():
            if time.monotonic() >= deadline:
                holder = self.holder()
                raise LockTimeout(
                    f"the lake lock {self.store.uri} is held by "
                    f"{holder.owner if holder else 'another run'} (waited {self.wait:.0f} s); "
                    "a crashed holder's lock is taken over once it expires"
                )
            time.sleep(self.poll)
        assert self.lease is not None
        return self.lease

    def holder(self) -> Lease | None:
        generations = self.store.generations()
        return self.store.read(generations[-1]) if generations else None

    def release(self) -> None:
        self._stop_heartbeat()
        lease, self.lease = self.lease, None
        if lease is None or self._lost is not None or not self._still_ours(lease):
            return
        self.store.overwrite(
            Lease(lease.generation, lease.owner, lease.token, time.time(), released=True)
        )

    def check(self) -> None:
        """Raise LockLost if the lease is no longer ours (call before publishing)."""
        if self.lease is None:
            raise LockLost(f"the lake lock {self.store.uri} is not held")
        if self._lost is None and not self._still_ours(self.lease):
            self._lost = "a newer lease exists"
        if self._lost is not None:
            raise LockLost(f"lost the lake lock {self.store.uri}: {self._lost}")

    def _still_ours(self, lease: Lease) -> bool:
        generations = self.store.generations()
        if not generations or generations[-1] != lease.generation:
            return False
        current = self.store.read(lease.generation)
        return current is not None and current.token == lease.token

    # --- heartbeat ------------------------------------------------------------------

    def heartbeat(self) -> None:
        """Push our lease's expiry forward (the background thread calls this)."""
        lease = self.lease
        if lease is None:
            return
        if not self._still_ours(lease):
            self._lost = "a newer lease exists (ours had expired)"
            return
        renewed = Lease(lease.generation, lease.owner, lease.token, time.time() + self.ttl)
        self.store.overwrite(renewed)
        self.lease = renewed

    def _start_heartbeat(self) -> None:
        self._stop.clear()
        self._beat = threading.Thread(target=self._beat_loop, name="lake-lock", daemon=True)
        self._beat.start()

    def _beat_loop(self) -> None:
        while not self._stop.wait(self.ttl / 4):
            try:
                self.heartbeat()
            except Exception as exc:  # a store hiccup: try again at the next beat
                log.warning("lock heartbeat failed: %s", exc)

    def _stop_heartbeat(self) -> None:
        self._stop.set()
        if self._beat is not None and self._beat is not threading.current_thread():
            self._beat.join()
        self._beat = None

    def __enter__(self) -> LakeLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
