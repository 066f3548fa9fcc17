"""In-memory copies of small pinned gold tables: exact per version, bounded, large ones not."""

from __future__ import annotations

import pyarrow as pa
from deltalake import write_deltalake

from backend.lake import delta
from backend.lake.duck import connect
from backend.lake.reader import GoldReader, SnapshotCache
from backend.settings import Settings


def _write(settings: Settings, rows: int, start: int = 0) -> int:
    uri = delta.table_uri("gold", "fct_small", settings=settings)
    table = pa.table({"n": list(range(start, start + rows))})
    write_deltalake(uri, table, mode="overwrite")
    from deltalake import DeltaTable

    return DeltaTable(uri).version()


def test_a_pinned_version_is_copied_once_and_answers_like_the_lake(settings: Settings) -> None:
    cache = SnapshotCache(max_bytes=10_000_000)
    versions = [_write(settings, 5, start=10 * i) for i in range(3)]
    sql = "select sum(n) as total, count(*) as rows from delta_scan($t_fct_small)"
    for version in versions:
        pinned = GoldReader(settings, {"fct_small": version}, snapshots=cache)
        plain = GoldReader(settings, {"fct_small": version})
        assert pinned.rows(sql, tables=["fct_small"]) == plain.rows(sql, tables=["fct_small"])
    # Only the two newest versions stay in memory.
    kept = {version for (_, version), name in cache._tables.items() if name}
    assert kept == set(versions[-2:])
    conn = connect(settings=settings)
    try:
        names = {r[0] for r in conn.execute("select table_name from duckdb_tables()").fetchall()}
    finally:
        conn.close()
    assert sum(name.startswith("gold_snapshot_") and name.endswith(f"_v{versions[0]}")
               for name in names) == 0  # fmt: skip


def test_a_table_over_the_size_limit_is_scanned_in_place(settings: Settings) -> None:
    cache = SnapshotCache(max_bytes=1)
    version = _write(settings, 50)
    reader = GoldReader(settings, {"fct_small": version}, snapshots=cache)
    rows = reader.rows("select count(*) as n from delta_scan($t_fct_small)", tables=["fct_small"])
    assert rows == [{"n": 50}]
    assert cache._tables == {(reader.uri("fct_small"), version): None}
