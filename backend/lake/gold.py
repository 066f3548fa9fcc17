"""Reading what the pipeline published: gold tables and run reports."""

from __future__ import annotations

import json
import logging
import math
from typing import Any

import pyarrow.fs as pafs
from deltalake import DeltaTable

from backend.lake import delta
from backend.lake.duck import connect
from backend.lake.sql import quote_name
from backend.settings import Settings

log = logging.getLogger("nova.gold")


def gold_tables(settings: Settings) -> list[str]:
    root = delta.table_uri("gold", settings=settings)
    return sorted(
        info.base_name
        for info in delta.list_dir(root, settings)
        if info.type == pafs.FileType.Directory
        and delta.table_exists(f"{root}/{info.base_name}", settings)
    )


def gold_summary(settings: Settings) -> list[dict[str, Any]]:
    """Each gold table's row count read twice, by deltalake and by DuckDB's delta_scan."""
    conn = connect(settings=settings)
    rows = []
    try:
        for name in gold_tables(settings):
            uri = delta.table_uri("gold", name, settings=settings)
            table = DeltaTable(uri, storage_options=delta.storage_options(settings))
            dataset = table.to_pyarrow_dataset()
            count = conn.execute("select count(*) from delta_scan(?)", [uri]).fetchone()
            rows.append(
                {
                    "table": name,
                    "rows_deltalake": dataset.count_rows(),
                    "rows_duckdb": count[0] if count else 0,
                    "columns": len(dataset.schema),
                    "version": table.version(),
                }
            )
    finally:
        conn.close()
    return rows


def latest_report(settings: Settings) -> dict[str, Any] | None:
    fs, root = delta.filesystem(delta.table_uri("reports", settings=settings), settings)
    infos = fs.get_file_info(pafs.FileSelector(root, recursive=True, allow_not_found=True))
    files = [i for i in infos if i.type == pafs.FileType.File and i.path.endswith(".json")]
    if not files:
        return None
    # Sort by the run id's UTC stamp rather than file times, which object stores may lack.
    newest = max(files, key=lambda i: (i.base_name.split("-")[2], i.path))
    with fs.open_input_stream(newest.path) as stream:
        payload: dict[str, Any] = json.loads(stream.read())
    return payload


def content_hash(uri: str, settings: Settings | None = None) -> tuple[int, str]:
    """Row count and an order-independent hash of a Delta table's content columns.

    Audit columns (names starting with ``_``) are left out: they record when and by which
    run a row was written, while the content must not change when a date is re-run.
    """
    conn = connect(settings=settings)
    try:
        columns = [
            row[0] for row in conn.execute("describe select * from delta_scan(?)", [uri]).fetchall()
        ]
        content = ", ".join(quote_name(c) for c in columns if not c.startswith("_"))
        row = conn.execute(
            f"select count(*), coalesce(md5(string_agg(h, ',' order by h)), '') from "
            f"(select md5(to_json(struct_pack({content}))::varchar) as h from delta_scan(?))",
            [uri],
        ).fetchone()
    finally:
        conn.close()
    assert row is not None
    return int(row[0]), str(row[1])


# --- retention of old gold versions -----------------------------------------------------


def retention_floor_hours(settings: Settings) -> int:
    """The least retention that keeps every file a reader of the previous published
    snapshot may still open: an API process learns of a new version up to one poll
    interval late, a request that began just before may be queued behind another poll,
    and its query then runs up to the query time limit. Twice the poll plus the longest
    query, rounded up to whole hours (Delta's unit), and never under one hour."""
    seconds = 2 * settings.gold_version_poll_seconds + settings.api_query_timeout_seconds
    return max(1, math.ceil(seconds / 3600))


def effective_retention_hours(requested: int, settings: Settings) -> int:
    """``requested`` (NOVA_GOLD_RETENTION_HOURS), raised to the floor with a warning."""
    floor = retention_floor_hours(settings)
    if requested < floor:
        log.warning(
            "NOVA_GOLD_RETENTION_HOURS=%s is below the floor of %s h (2 x the API's gold "
            "version poll + its query time limit): using %s h",
            requested,
            floor,
            floor,
        )
        return floor
    return requested


def published_table_version(lake_uri: str, table: str, settings: Settings) -> int | None:
    """The Delta version of ``table`` in the published gold snapshot, if it has one."""
    try:
        payload = delta.read_json(f"{lake_uri}/gold/_version.json", settings)
    except (FileNotFoundError, ValueError):
        return None
    tables = payload.get("tables") if isinstance(payload, dict) else None
    if isinstance(tables, dict) and table in tables:
        return int(tables[table])
    return None


def vacuum_gold_table(
    uri: str,
    *,
    retention_hours: int,
    keep_version: int | None,
    storage_options: dict[str, str] | None,
) -> list[str]:
    """Delete files of old versions of a gold table, except those of ``keep_version`` (the
    published snapshot, whatever its age: runs may fail for days while the API serves
    it); returns the files deleted."""
    return DeltaTable(uri, storage_options=storage_options).vacuum(
        retention_hours=retention_hours,
        enforce_retention_duration=False,
        dry_run=False,
        keep_versions=[keep_version] if keep_version is not None else None,
    )
