"""Delta table IO used by every layer: paths, idempotent partition writes, reads."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs
from deltalake import DeltaTable, write_deltalake

from backend.settings import Settings, get_settings

PARTITION_COLUMN = "_ingest_date"


def table_uri(*parts: str, settings: Settings | None = None) -> str:
    """URI of a table or file under the lake root, e.g. ``table_uri("bronze", "erp", "items")``."""
    root = (settings or get_settings()).lake_uri
    return "/".join([root, *parts])


def storage_options(settings: Settings | None = None) -> dict[str, str] | None:
    """Options for delta-rs; None for a local lake (object-store options come with S3 support)."""
    return None


def table_exists(uri: str) -> bool:
    return DeltaTable.is_deltatable(uri, storage_options=storage_options())


def read_table(uri: str, *, columns: list[str] | None = None) -> pa.Table:
    return DeltaTable(uri, storage_options=storage_options()).to_pyarrow_table(columns=columns)


def date_range_predicate(start: date, end: date, column: str = PARTITION_COLUMN) -> str:
    """Predicate selecting the partitions of ``[start, end]``.

    Built from ``date`` objects only, so no caller-supplied text reaches the predicate.
    """
    if not (isinstance(start, date) and isinstance(end, date)):
        raise TypeError("start and end must be dates")
    return f"{column} >= '{start.isoformat()}' AND {column} <= '{end.isoformat()}'"


def overwrite_partitions(uri: str, data: pa.Table, start: date, end: date) -> int:
    """Replace exactly the ``_ingest_date`` partitions in ``[start, end]`` with ``data``.

    This is what makes a re-run of a date idempotent: the date's rows are replaced, never
    appended a second time, and every other partition is left untouched.
    """
    if data.num_rows:
        days = pa.compute.min_max(data[PARTITION_COLUMN]).as_py()
        if days["min"] < start or days["max"] > end:
            raise ValueError(f"rows outside [{start}, {end}] would escape the overwrite: {days}")
    write_deltalake(
        uri,
        data,
        mode="overwrite",
        partition_by=[PARTITION_COLUMN],
        predicate=date_range_predicate(start, end),
        storage_options=storage_options(),
    )
    return data.num_rows


def _filesystem(uri: str) -> tuple[pafs.FileSystem, str]:
    return pafs.FileSystem.from_uri(uri)


def write_json(uri: str, payload: Mapping[str, Any]) -> None:
    """Write a JSON document (a run report) next to the tables, local or object store."""
    fs, path = _filesystem(uri)
    fs.create_dir(path.rsplit("/", 1)[0], recursive=True)
    with fs.open_output_stream(path) as out:
        out.write(json.dumps(payload, indent=2, default=str).encode())
