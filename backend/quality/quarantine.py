"""Check a window of bronze against its contract and quarantine the rows that fail.

Bronze keeps every raw row; quarantine records which rows failed which rule and why,
and staging models leave those rows out. Re-validating a window replaces the window's
quarantine rows for that source and entity, so a re-run never counts a row twice.
"""

from __future__ import annotations

from datetime import date

import pyarrow as pa
from deltalake import write_deltalake

from backend.ingest.base import bronze_uri
from backend.lake import delta
from backend.lake.duck import connect
from backend.quality.contracts import CONTRACTS, Rule, references_of
from backend.settings import Settings

QUARANTINE_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("entity", pa.string()),
        ("_row_id", pa.string()),
        ("rule", pa.string()),
        ("reason", pa.string()),
        ("record", pa.string()),
        ("_batch_id", pa.string()),
        ("_ingested_at", pa.timestamp("us", tz="UTC")),
        ("_ingest_date", pa.date32()),
    ]
)


def quarantine_uri(settings: Settings) -> str:
    return delta.table_uri("quarantine", settings=settings)


def ensure_quarantine_table(settings: Settings) -> None:
    """Create the (empty) quarantine table, so readers never meet a missing table."""
    uri = quarantine_uri(settings)
    if not delta.table_exists(uri):
        write_deltalake(
            uri,
            QUARANTINE_SCHEMA.empty_table(),
            mode="append",
            partition_by=["_ingest_date"],
            storage_options=delta.storage_options(settings),
        )


def failing_rows(source: str, entity: str, rows: pa.Table, settings: Settings) -> pa.Table:
    """One output row per (input row, broken rule)."""
    rules: tuple[Rule, ...] = CONTRACTS.get(source, {}).get(entity, ())
    if not rules or rows.num_rows == 0:
        return QUARANTINE_SCHEMA.empty_table()
    conn = connect()
    try:
        conn.register("bronze_rows", rows)
        for referenced, key in references_of(rules):
            uri = bronze_uri(source, referenced, settings)
            keys = (
                delta.read_table(uri, columns=[key])
                if delta.table_exists(uri)
                else pa.table({key: pa.array([], pa.string())})
            )
            conn.register(f"ref_{referenced}", keys)
        raw = [c for c in rows.column_names if not c.startswith("_")]
        record = "to_json(struct_pack(" + ", ".join(f'"{c}" := "{c}"' for c in raw) + "))::varchar"
        selects = [
            f"select ? as source, ? as entity, _row_id, ? as rule, ? as reason, {record} as record, "
            f"_batch_id, _ingested_at, _ingest_date from bronze_rows where {rule.broken_when}"
            for rule in rules
        ]
        params: list[object] = []
        for rule in rules:
            params += [source, entity, rule.name, rule.reason]
        result = conn.execute(" union all ".join(selects), params).to_arrow_table()
    finally:
        conn.close()
    return result.cast(QUARANTINE_SCHEMA)


def validate_window(
    source: str, entities: list[str], start: date, end: date, settings: Settings
) -> dict[str, int]:
    """Validate the window's bronze partitions; returns quarantined rows per entity."""
    ensure_quarantine_table(settings)
    counts: dict[str, int] = {}
    for entity in entities:
        rows = delta.read_partitions(bronze_uri(source, entity, settings), start, end)
        failed = failing_rows(source, entity, rows, settings)
        predicate = (
            f"source = '{_plain(source)}' AND entity = '{_plain(entity)}' AND "
            + delta.date_range_predicate(start, end)
        )
        write_deltalake(
            quarantine_uri(settings),
            failed,
            mode="overwrite",
            predicate=predicate,
            partition_by=["_ingest_date"],
            storage_options=delta.storage_options(settings),
        )
        counts[entity] = failed.num_rows
    return counts


def _plain(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"not a plain name: {name!r}")
    return name
