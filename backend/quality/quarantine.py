"""Check a window of bronze against its contract and quarantine the rows that fail.

Bronze keeps every raw row; quarantine records which rows failed which rule and why,
and staging models leave those rows out. Re-validating a window replaces the window's
quarantine rows for that source and entity, so a re-run never counts a row twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

from backend.ingest.base import bronze_uri
from backend.ingest.sql_readers import TYPE_ERRORS
from backend.lake import delta
from backend.lake.duck import connect
from backend.lake.sql import plain_name, quote_name
from backend.quality.contracts import CONTRACTS, SHARED_CTES, TYPED_VALUES, Rule, references_of
from backend.quality.expectations import has_suite, quarantine_rows, window_rows
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
    if not delta.table_exists(uri, settings):
        write_deltalake(
            uri,
            QUARANTINE_SCHEMA.empty_table(),
            mode="append",
            partition_by=["_ingest_date"],
            storage_options=delta.storage_options(settings),
        )


def failing_rows(
    source: str, entity: str, bronze: str | pa.Table, start: date, end: date, settings: Settings
) -> pa.Table:
    """One output row per (bronze row of the window, broken rule).

    ``bronze`` is a Delta table URI (read with one DuckDB scan) or an Arrow table.
    Every rule is evaluated in that single scan; the record JSON is built only for the
    rows that fail. A relationship accepts only parent rows that are not quarantined, so
    validate parents before their children (``validate_window`` follows the contract's
    order).
    """
    rules: tuple[Rule, ...] = CONTRACTS.get(source, {}).get(entity, ())
    conn = connect(settings=settings)
    try:
        if isinstance(bronze, pa.Table):
            conn.register("bronze_table", bronze)
            scan, scan_params = "bronze_table", []
        else:
            scan, scan_params = "delta_scan(?)", [bronze]
        columns = [
            row[0] for row in conn.execute(f"describe select * from {scan}", scan_params).fetchall()
        ]
        if TYPE_ERRORS in columns:
            rules = (*rules, TYPED_VALUES)
        rules = tuple(
            rule
            for rule in rules
            if rule.only_if_any is None
            or conn.execute(
                f"select exists (select 1 from {scan} where {delta.PARTITION_COLUMN} "
                f"between ? and ? and ({rule.only_if_any}))",
                [*scan_params, start, end],
            ).fetchone()
            == (True,)
        )
        if not rules:
            return QUARANTINE_SCHEMA.empty_table()
        ctes = ["run_params as (select ?::date as window_start, ?::date as run_date)"]
        params: list[object] = [start, end]
        quarantine = quarantine_uri(settings)
        if delta.table_exists(quarantine, settings):
            ctes.append(
                "quarantined as (select entity, _row_id from delta_scan(?) where source = ?)"
            )
            params += [quarantine, source]
        else:
            ctes.append(
                "quarantined as (select null::varchar as entity, null::varchar as _row_id where false)"
            )
        # Referenced keys are read by the same query (one DuckDB scan of the key and the
        # row id), faster than loading those tables through deltalake first.
        for referenced, key in sorted(references_of(rules)):
            uri = bronze_uri(source, referenced, settings)
            name = plain_name(referenced)
            if delta.table_exists(uri, settings):
                ctes.append(
                    f"ref_{name} as (select p.{quote_name(key)} from delta_scan(?) p "
                    "where not exists (select 1 from quarantined q "
                    f"where q.entity = '{name}' and q._row_id = p._row_id))"
                )
                params.append(uri)
            else:
                ctes.append(
                    f"ref_{name} as (select null::varchar as {quote_name(key)} where false)"
                )
        missing_notes = "" if TYPE_ERRORS in columns else f", null::varchar as {TYPE_ERRORS}"
        ctes.append(f"bronze_rows as (select *{missing_notes} from {scan})")
        params += scan_params
        for needed in sorted({n for rule in rules for n in rule.needs}):
            ctes.append(SHARED_CTES[needed].strip())
        conn.register(
            "rules",
            pa.table(
                {
                    "rule_index": list(range(len(rules))),
                    "rule": [r.name for r in rules],
                    "reason": [r.reason for r in rules],
                }
            ),
        )
        raw = [c for c in columns if not c.startswith("_")]
        flags = ", ".join(
            f"case when {rule.broken_when} then {i} end" for i, rule in enumerate(rules)
        )
        details = " ".join(
            f"when {i} then {rule.detail}" for i, rule in enumerate(rules) if rule.detail
        )
        reason = (
            f"r.reason || coalesce(': ' || (case b.rule_index {details} end), '')"
            if details
            else "r.reason"
        )
        record = ", ".join(f"{quote_name(c)} := b.{quote_name(c)}" for c in raw)
        query = f"""
            with {", ".join(ctes)},
            flagged as (
                select b.*, list_filter([{flags}], x -> x is not null) as broken
                from bronze_rows b
                where b.{delta.PARTITION_COLUMN} between ? and ?
            ),
            failed as (
                select * exclude (broken), unnest(broken) as rule_index
                from flagged where len(broken) > 0
            )
            select ? as source, ? as entity, b._row_id, r.rule, {reason} as reason,
                to_json(struct_pack({record}))::varchar as record,
                b._batch_id, b._ingested_at, b.{delta.PARTITION_COLUMN}
            from failed b join rules r using (rule_index)
            order by b.{delta.PARTITION_COLUMN}, b._row_id, r.rule
        """
        result = conn.execute(query, [*params, start, end, source, entity]).to_arrow_table()
    finally:
        conn.close()
    return result.cast(QUARANTINE_SCHEMA)


def _table_columns(uri: str, settings: Settings) -> list[str]:
    schema = DeltaTable(uri, storage_options=delta.storage_options(settings)).schema()
    return list(schema.to_arrow().names)


def validate_window(
    source: str,
    entities: list[str],
    start: date,
    end: date,
    settings: Settings,
    written: Mapping[str, pa.Table] | None = None,
) -> dict[str, int]:
    """Validate the window's bronze partitions; returns quarantined rows per entity.

    ``written``: tables this process just wrote as the window's partitions (the extract
    step's), checked instead of reading the partitions back (about a second per table
    of a three-year backfill: a thousand partition files). Used only where its columns
    are the table's, so a quarantine record reads the same either way."""
    ensure_quarantine_table(settings)
    counts: dict[str, int] = {}
    for entity in entities:
        uri = bronze_uri(source, entity, settings)
        if not delta.table_exists(uri, settings):
            continue
        if has_suite(source):  # external sources: the GE suites, evaluated in Arrow
            rows = (written or {}).get(entity)
            if rows is None or rows.schema.names != _table_columns(uri, settings):
                rows = window_rows(uri, start, end, settings)
            failed = quarantine_rows(source, entity, rows, QUARANTINE_SCHEMA)
        else:
            failed = failing_rows(source, entity, uri, start, end, settings)
        predicate = (
            f"source = '{plain_name(source)}' AND entity = '{plain_name(entity)}' AND "
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
