"""Read-only queries over gold Delta tables for services (the API, the stream processor).

Every query reads the published Delta tables through DuckDB's ``delta_scan``; it never
opens the dbt DuckDB file, which has one writer at a time. Table locations and every
value are bound parameters (``$name``): no caller text is ever formatted into SQL.

A reader made with :meth:`GoldReader.published` (or given ``versions``) reads a snapshot:
each table at the Delta version the last publish step recorded in ``gold/_version.json``,
so one response never mixes a table of the new run with one of the previous run, and
marts that ``transform`` rewrites are not served before ``publish``. Routes keep writing
``delta_scan($t_<table>)``; the reader pins the version itself.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb

from backend.lake import delta
from backend.lake.duck import connect
from backend.settings import Settings

VERSION_FILE = "_version.json"
# `delta_scan($t_<table>)` as every query writes it; the reader adds the pinned version.
_SCAN = re.compile(r"delta_scan\(\s*\$t_(\w+)\s*\)")


class QueryTimeout(TimeoutError):
    """A gold query ran past its time limit and was interrupted."""


class SnapshotCache:
    """Small gold tables of a pinned snapshot, copied once into the process's in-memory
    DuckDB database.

    Each ``delta_scan`` opens the table's Delta log and its Parquet footers: for the small
    marts a request reads (work list, reorder points, dims) that costs more than the query.
    A pinned version never changes, so its copy is exact for as long as it is kept: tables
    whose files total at most ``max_bytes`` are copied on first use, and the two newest
    versions of each table are kept (a request still on the previous snapshot keeps its
    copy). Large facts (daily demand, forecasts) are always scanned in place.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._tables: dict[tuple[str, int], str | None] = {}  # (uri, version) -> table name
        self._versions: dict[str, list[int]] = {}

    def table(
        self, conn: duckdb.DuckDBPyConnection, uri: str, version: int, settings: Settings
    ) -> str | None:
        """The in-memory copy of ``uri`` at ``version`` (made now if small), or None."""
        key = (uri, version)
        if key in self._tables:
            return self._tables[key]
        with self._lock:
            if key in self._tables:
                return self._tables[key]
            from deltalake import DeltaTable

            files = DeltaTable(
                uri, version=version, storage_options=delta.storage_options(settings)
            ).get_add_actions(flatten=True)
            size = sum(int(v) for v in files.column("size_bytes").to_pylist())
            name: str | None = None
            if size <= self.max_bytes:
                name = f"gold_snapshot_{hashlib.blake2b(uri.encode(), digest_size=6).hexdigest()}_v{version}"
                conn.execute(
                    f"create or replace table {name} as "
                    "select * from delta_scan($uri, version := $version)",
                    {"uri": uri, "version": version},
                )
                kept = self._versions.setdefault(uri, [])
                kept.append(version)
                for old in sorted(kept)[:-2]:
                    old_name = self._tables.pop((uri, old), None)
                    kept.remove(old)
                    if old_name:
                        conn.execute(f"drop table if exists {old_name}")
            self._tables[key] = name
            return name


# One per process: the API's worker threads share the in-memory database's copies.
_SNAPSHOTS: SnapshotCache | None = None


def snapshot_cache(max_bytes: int) -> SnapshotCache:
    global _SNAPSHOTS
    if _SNAPSHOTS is None or _SNAPSHOTS.max_bytes != max_bytes:
        _SNAPSHOTS = SnapshotCache(max_bytes)
    return _SNAPSHOTS


@dataclass(frozen=True)
class Page:
    rows: list[dict[str, Any]]
    count: int


class GoldReader:
    """Runs parameterised SQL over gold tables. Blocking: call it from a worker thread.

    ``versions`` (table -> Delta version) pins a snapshot: a table outside it counts as not
    published. Without it every table is read at its latest version (the pipeline's own
    reads, before it publishes). ``timeout_seconds`` interrupts a query that runs longer.
    """

    def __init__(
        self,
        settings: Settings,
        versions: Mapping[str, int] | None = None,
        *,
        timeout_seconds: float | None = None,
        snapshots: SnapshotCache | None = None,
    ) -> None:
        self.settings = settings
        self.versions = dict(versions) if versions is not None else None
        self.timeout_seconds = timeout_seconds
        # In-memory copies of small pinned tables (the API); None: always scan the lake.
        self.snapshots = snapshots if versions is not None else None

    @classmethod
    def published(
        cls,
        settings: Settings,
        payload: Mapping[str, Any] | None = None,
        *,
        timeout_seconds: float | None = None,
        snapshots: SnapshotCache | None = None,
    ) -> GoldReader:
        """A reader of the snapshot that ``payload`` (default: the gold version file now)
        recorded. A version without table versions (written before snapshots existed, or
        by hand) reads the latest version of each table."""
        if payload is None:
            payload = read_gold_version(settings)
        tables = (payload or {}).get("tables")
        versions = (
            {str(k): int(v) for k, v in tables.items()} if isinstance(tables, Mapping) else None
        )
        return cls(settings, versions, timeout_seconds=timeout_seconds, snapshots=snapshots)

    def uri(self, table: str) -> str:
        return delta.table_uri("gold", table, settings=self.settings)

    def exists(self, table: str) -> bool:
        if self.versions is not None and table not in self.versions:
            return False
        return delta.table_exists(self.uri(table), self.settings)

    def _pin(
        self, sql: str, tables: Sequence[str], conn: duckdb.DuckDBPyConnection | None = None
    ) -> tuple[str, dict[str, Any]]:
        """``sql`` with every scan of a pinned table reading its snapshot version, or that
        version's in-memory copy; and the parameters the scans left in it need (each scanned
        table's location, and its version when pinned)."""
        locations = {f"t_{name}": self.uri(name) for name in tables}
        if self.versions is None:
            return sql, locations
        pinned = {name: self.versions[name] for name in tables if name in self.versions}
        copies: dict[str, str] = {}
        if self.snapshots is not None and conn is not None:
            for name, version in pinned.items():
                copy = self.snapshots.table(conn, self.uri(name), version, self.settings)
                if copy is not None:
                    copies[name] = copy
        # A copied table is read by its in-memory name: its location is not a parameter.
        bound: dict[str, Any] = {k: v for k, v in locations.items() if k[2:] not in copies}

        def pin(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in copies:
                return copies[name]  # our own generated identifier, never input
            if name not in pinned:
                return match.group(0)
            bound[f"v_{name}"] = pinned[name]
            return f"delta_scan($t_{name}, version := $v_{name})"

        return _SCAN.sub(pin, sql), bound

    def rows(
        self, sql: str, *, tables: Sequence[str], params: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Rows of ``sql`` as dicts; ``$t_<table>`` in the SQL is the table's Delta URI.

        A missing table gives no rows (the forecast marts may not be published yet).
        """
        if not all(self.exists(name) for name in tables):
            return []
        conn = connect(settings=self.settings)
        try:
            sql, bound = self._pin(sql, tables, conn)
        except BaseException:
            conn.close()
            raise
        timer = None
        timed_out = threading.Event()
        if self.timeout_seconds is not None:

            def interrupt() -> None:
                timed_out.set()
                conn.interrupt()

            timer = threading.Timer(self.timeout_seconds, interrupt)
            timer.daemon = True
            timer.start()
        try:
            result = conn.execute(sql, {**bound, **(params or {})})
            columns = [d[0] for d in result.description or []]
            return [dict(zip(columns, row, strict=True)) for row in result.fetchall()]
        except duckdb.InterruptException as exc:
            if timed_out.is_set():
                raise QueryTimeout(
                    f"gold query interrupted after {self.timeout_seconds:g} s"
                ) from exc
            raise
        finally:
            if timer is not None:
                timer.cancel()
            conn.close()

    def page(
        self,
        select: str,
        *,
        tables: Sequence[str],
        params: Mapping[str, Any],
        order_by: str,
        limit: int,
        offset: int,
    ) -> Page:
        """One page of ``select`` (ordered by ``order_by``, fixed text) and the total count."""
        if not all(self.exists(name) for name in tables):
            return Page([], 0)
        bound = {**params, "limit": limit, "offset": offset}
        # One scan gives the page and the total; past the last page, count separately.
        rows = self.rows(
            f"select *, count(*) over () as _total from ({select}) "
            f"order by {order_by} limit $limit offset $offset",
            tables=tables,
            params=bound,
        )
        if rows:
            total = int(rows[0]["_total"])
            for row in rows:
                del row["_total"]
            return Page(rows, total)
        counted = self.rows(f"select count(*) as n from ({select})", tables=tables, params=params)
        return Page([], int(counted[0]["n"]) if counted else 0)


class Where:
    """A conjunction of fixed SQL clauses whose values are bound as named parameters."""

    def __init__(self) -> None:
        self.clauses: list[str] = []
        self.params: dict[str, Any] = {}

    def add(self, clause: str, **values: Any) -> Where:
        """Add ``clause`` (our text, with ``$name`` markers) when every value is given."""
        if all(v is not None for v in values.values()):
            self.clauses.append(clause)
            self.params.update(values)
        return self

    @property
    def sql(self) -> str:
        return " and ".join(self.clauses) if self.clauses else "true"


# --- gold version -------------------------------------------------------------------


def version_uri(settings: Settings) -> str:
    return delta.table_uri("gold", VERSION_FILE, settings=settings)


def read_gold_version(settings: Settings) -> dict[str, Any] | None:
    """The version the last publish step wrote, or None before the first publish."""
    try:
        payload = delta.read_json(version_uri(settings), settings)
    except (FileNotFoundError, ValueError):  # ValueError: not JSON
        return None
    return payload if isinstance(payload, dict) else None


def write_gold_version(
    settings: Settings, version: str, detail: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Publish a new gold version: readers that key caches on it turn them over.

    Written whole (a temp file and a rename locally, one PUT on S3), so a reader never
    sees half a document.
    """
    payload = {"version": version, "published_at": datetime.now(UTC).isoformat(), **(detail or {})}
    delta.write_json(version_uri(settings), payload, settings, indent=None)
    return payload
