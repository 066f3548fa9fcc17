"""Delta table IO used by every layer: paths, idempotent partition writes, reads."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from functools import lru_cache
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
    """delta-rs options for the lake of ``settings`` (default: the process's settings):
    None for a local lake, the endpoint and keys for an s3:// lake."""
    return (settings or get_settings()).lake_storage_options


def table_exists(uri: str, settings: Settings | None = None) -> bool:
    return DeltaTable.is_deltatable(uri, storage_options=storage_options(settings))


def read_table(
    uri: str, *, columns: list[str] | None = None, settings: Settings | None = None
) -> pa.Table:
    table = DeltaTable(uri, storage_options=storage_options(settings))
    return table.to_pyarrow_table(columns=columns)


def date_range_predicate(start: date, end: date, column: str = PARTITION_COLUMN) -> str:
    """Predicate selecting the partitions of ``[start, end]``.

    Built from ``date`` objects only, so no caller-supplied text reaches the predicate.
    """
    if not (isinstance(start, date) and isinstance(end, date)):
        raise TypeError("start and end must be dates")
    return f"{column} >= '{start.isoformat()}' AND {column} <= '{end.isoformat()}'"


def overwrite_partitions(
    uri: str, data: pa.Table, start: date, end: date, settings: Settings | None = None
) -> int:
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
        storage_options=storage_options(settings),
    )
    return data.num_rows


# --- files that are not Delta tables (run reports, the gold version) ------------------


def filesystem(uri: str, settings: Settings | None = None) -> tuple[pafs.FileSystem, str]:
    """The pyarrow filesystem holding ``uri`` and the path of ``uri`` on it.

    An ``s3://`` URI gets an S3 filesystem built from the lake's AWS settings (endpoint,
    keys, region), the same store delta-rs and DuckDB reach; anything else is resolved
    by pyarrow (a local path).
    """
    if uri.startswith("s3://"):
        s = settings or get_settings()
        endpoint = s.aws_endpoint
        fs = _s3_filesystem(
            s.aws_access_key_id.get_secret_value() if s.aws_access_key_id else None,
            s.aws_secret_access_key.get_secret_value() if s.aws_secret_access_key else None,
            s.aws_region,
            endpoint[1] if endpoint else None,
            endpoint[0] if endpoint else "https",
        )
        return fs, uri.removeprefix("s3://").rstrip("/")
    return pafs.FileSystem.from_uri(uri)


@lru_cache(maxsize=8)
def _s3_filesystem(
    access_key: str | None, secret_key: str | None, region: str, endpoint: str | None, scheme: str
) -> pafs.S3FileSystem:
    # One client per store: the API reads the gold version every second.
    return pafs.S3FileSystem(
        access_key=access_key,
        secret_key=secret_key,
        region=region,
        endpoint_override=endpoint,
        scheme=scheme,
    )


def is_local(fs: pafs.FileSystem) -> bool:
    return isinstance(fs, pafs.LocalFileSystem)


def list_dir(
    uri: str, settings: Settings | None = None, *, recursive: bool = False
) -> list[pafs.FileInfo]:
    """Entries under ``uri`` (none when it does not exist). On an object store a
    "directory" is a key prefix: it exists while something lies under it."""
    fs, path = filesystem(uri, settings)
    return fs.get_file_info(pafs.FileSelector(path, recursive=recursive, allow_not_found=True))


def is_dir(uri: str, settings: Settings | None = None) -> bool:
    fs, path = filesystem(uri, settings)
    return fs.get_file_info(path).type == pafs.FileType.Directory


def read_json(uri: str, settings: Settings | None = None) -> Any:
    """The JSON document at ``uri``; FileNotFoundError when there is none."""
    fs, path = filesystem(uri, settings)
    with fs.open_input_stream(path) as stream:
        return json.loads(stream.read())


def write_json(
    uri: str,
    payload: Mapping[str, Any],
    settings: Settings | None = None,
    *,
    indent: int | None = 2,
) -> None:
    """Write a JSON document next to the tables, local or object store, so that a reader
    never sees half of it: locally through a temp file and a rename; on an object store
    one PUT is already all-or-nothing (and a rename there is a copy)."""
    fs, path = filesystem(uri, settings)
    data = json.dumps(payload, indent=indent, default=str).encode()
    if not is_local(fs):
        with fs.open_output_stream(path) as out:
            out.write(data)
        return
    fs.create_dir(path.rsplit("/", 1)[0], recursive=True)
    tmp = f"{path}.tmp"
    with fs.open_output_stream(tmp) as out:
        out.write(data)
    fs.move(tmp, path)
