"""What every source shares: the extract interface, the registry and the bronze writer."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable, write_deltalake

from backend.lake import delta
from backend.lake.duck import connect
from backend.lake.sql import quote_name
from backend.settings import Settings


@dataclass(frozen=True)
class ExtractWindow:
    """The run's dates: one day for a daily run, a range for a backfill (one batch)."""

    start: date
    end: date
    batch_id: str
    settings: Settings

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"window end {self.end} is before its start {self.start}")


@dataclass
class EntityExtract:
    """Raw rows of one entity; ``partition`` gives each row's ``_ingest_date``."""

    entity: str
    rows: pa.Table
    partition: pa.Array
    details: dict[str, object] = field(default_factory=dict)


class Source(ABC):
    """A source system. Subclasses declare their entities' schemas and extract a window."""

    name: str
    schemas: dict[str, pa.Schema]
    # Columns every entity's bronze carries besides the declared ones and the audit ones.
    extra_fields: tuple[pa.Field, ...] = ()

    @abstractmethod
    def extract(self, window: ExtractWindow) -> list[EntityExtract]:
        """Read the window from the source; nothing is written here."""

    def commit(self, window: ExtractWindow, extracts: list[EntityExtract]) -> None:  # noqa: B027
        """Record source state (watermarks) once bronze holds the window."""


SOURCES: dict[str, Callable[[], Source]] = {}


def register(name: str) -> Callable[[Callable[[], Source]], Callable[[], Source]]:
    def wrap(factory: Callable[[], Source]) -> Callable[[], Source]:
        if name in SOURCES:
            raise ValueError(f"source {name!r} registered twice")
        SOURCES[name] = factory
        return factory

    return wrap


def _load_sources() -> None:
    """Import every source module: each registers itself."""
    import backend.ingest.anatel
    import backend.ingest.appdb_orders
    import backend.ingest.bacen
    import backend.ingest.erp
    import backend.ingest.inmet
    import backend.ingest.suppliers  # noqa: F401


def get_source(name: str) -> Source:
    _load_sources()
    try:
        return SOURCES[name]()
    except KeyError:
        raise ValueError(f"unknown source {name!r}; known: {sorted(SOURCES)}") from None


def registered_sources() -> list[str]:
    _load_sources()
    return sorted(SOURCES)


def bronze_uri(source: str, entity: str, settings: Settings) -> str:
    return delta.table_uri("bronze", source, entity, settings=settings)


def row_ids(rows: pa.Table, settings: Settings) -> pa.Array:
    """Each row's ``_row_id``: a hash of every raw column, nulls included, so identical
    rows share it (and a re-read row is recognised as one already loaded)."""
    conn = connect(settings=settings)
    try:
        conn.register("raw_rows", rows)
        content = [quote_name(n) for n in rows.column_names if not n.startswith("_")]
        notes = [quote_name(n) for n in rows.column_names if n.startswith("_")]
        # DuckDB's 64-bit hash of every raw column, nulls included: 0.7 s for 3M rows,
        # where md5 over the text of each row takes 2-7 s. Notes such as _type_errors
        # count only when set, so a clean row keeps the id it had before they existed.
        hashed = f"hash({', '.join(content)})"
        if notes:
            hashed = (
                f"case when coalesce({', '.join(notes)}) is null then {hashed} "
                f"else hash({', '.join(content + notes)}) end"
            )
        ids = conn.execute(f"select printf('%016x', {hashed}) from raw_rows").to_arrow_table()
    finally:
        conn.close()
    return ids.column(0).combine_chunks().cast(pa.string())


def with_audit_columns(
    source: str, extract: EntityExtract, window: ExtractWindow, ingested_at: datetime
) -> pa.Table:
    """Append the audit columns, rows sorted by partition (delta-rs writes sorted input
    about 4x faster). ``_row_id`` identifies a row by its raw content, so exact duplicates
    share it and quarantine can point at rows that have no natural key."""
    rows, n = extract.rows, extract.rows.num_rows
    ids = row_ids(rows, window.settings)
    table = (
        rows.append_column("_source", pa.repeat(pa.scalar(source, pa.string()), n))
        .append_column("_batch_id", pa.repeat(pa.scalar(window.batch_id, pa.string()), n))
        .append_column(
            "_ingested_at", pa.repeat(pa.scalar(ingested_at, pa.timestamp("us", tz="UTC")), n)
        )
        .append_column("_row_id", ids)
        .append_column(delta.PARTITION_COLUMN, extract.partition.cast(pa.date32()))
    )
    if n == 0 or _non_decreasing(table[delta.PARTITION_COLUMN]):
        return table  # already in order (the ERP's rows arrive by updated_at): no copy
    return table.take(pc.sort_indices(table[delta.PARTITION_COLUMN]))


def _non_decreasing(days: pa.ChunkedArray) -> bool:
    """Whether the (null-free) partition days are in order, so the stable sort would
    leave the rows as they are."""
    if days.null_count or len(days) < 2:
        return days.null_count == 0
    ordered = pc.all(pc.greater_equal(days.slice(1), days.slice(0, len(days) - 1)))
    return bool(ordered.as_py())


AUDIT_FIELDS = (
    pa.field("_source", pa.string()),
    pa.field("_batch_id", pa.string()),
    pa.field("_ingested_at", pa.timestamp("us", tz="UTC")),
    pa.field("_row_id", pa.string()),
    pa.field(delta.PARTITION_COLUMN, pa.date32()),
)


def ensure_bronze_tables(source: Source, settings: Settings) -> None:
    """Create the source's missing bronze tables, empty, so dbt's sources always resolve
    (a source that never ran, or failed on its first run, leaves its models empty)."""
    for entity, schema in source.schemas.items():
        uri = bronze_uri(source.name, entity, settings)
        if not delta.table_exists(uri, settings):
            empty = pa.schema([*schema, *source.extra_fields, *AUDIT_FIELDS]).empty_table()
            delta.overwrite_partitions(uri, empty, date.min, date.max, settings)


def write_bronze(
    source: Source,
    window: ExtractWindow,
    extracts: list[EntityExtract],
    keep: dict[str, pa.Table] | None = None,
) -> dict[str, int]:
    """Replace the window's partitions of each entity's bronze table; rows written per
    entity. ``keep`` receives each entity's table as written: the window's partitions now
    hold exactly those rows, so a validation in the same process need not read them back."""
    ingested_at = datetime.now(UTC)  # audit only: content columns never depend on it
    written: dict[str, int] = {}
    for extract in extracts:
        table = with_audit_columns(source.name, extract, window, ingested_at)
        uri = bronze_uri(source.name, extract.entity, window.settings)
        _add_missing_columns(uri, table, window.settings)
        written[extract.entity] = delta.overwrite_partitions(
            uri, table, window.start, window.end, window.settings
        )
        if keep is not None:
            keep[extract.entity] = table
    return written


def _add_missing_columns(uri: str, table: pa.Table, settings: Settings) -> None:
    """Add to an existing bronze table the (nullable) columns it lacks, e.g. a lake
    written before ``_type_errors`` existed; its older rows read them as null."""
    if not delta.table_exists(uri, settings):
        return
    existing = set(
        DeltaTable(uri, storage_options=delta.storage_options(settings)).schema().to_arrow().names
    )
    if set(table.column_names) <= existing:
        return
    write_deltalake(
        uri,
        table.schema.empty_table(),
        mode="append",
        schema_mode="merge",
        partition_by=[delta.PARTITION_COLUMN],
        storage_options=delta.storage_options(settings),
    )
