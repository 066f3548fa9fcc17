"""What every source shares: the extract interface, the registry and the bronze writer."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pyarrow as pa

from backend.lake import delta
from backend.lake.duck import connect
from backend.settings import Settings

AUDIT_COLUMNS = ("_source", "_batch_id", "_ingested_at", "_row_id", delta.PARTITION_COLUMN)


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


def get_source(name: str) -> Source:
    import backend.ingest.erp  # noqa: F401  (registers itself)

    try:
        return SOURCES[name]()
    except KeyError:
        raise ValueError(f"unknown source {name!r}; known: {sorted(SOURCES)}") from None


def registered_sources() -> list[str]:
    import backend.ingest.erp  # noqa: F401

    return sorted(SOURCES)


def bronze_uri(source: str, entity: str, settings: Settings) -> str:
    return delta.table_uri("bronze", source, entity, settings=settings)


def with_audit_columns(
    source: str, extract: EntityExtract, window: ExtractWindow, ingested_at: datetime
) -> pa.Table:
    """Append the audit columns. ``_row_id`` is the md5 of the raw content, so exact
    duplicates share it and quarantine can point at a row without a natural key."""
    rows = extract.rows
    n = rows.num_rows
    raw_columns = rows.column_names
    conn = connect()
    try:
        conn.register("raw_rows", rows)
        parts = ", ".join(f"coalesce(cast(\"{name}\" as varchar), '\\N')" for name in raw_columns)
        row_ids = conn.execute(
            f"select md5(concat_ws('|', {parts})) from raw_rows"
        ).to_arrow_table()
    finally:
        conn.close()
    row_id_column = row_ids.column(0).combine_chunks() if n else pa.array([], pa.string())
    return (
        rows.append_column("_source", pa.array([source] * n, pa.string()))
        .append_column("_batch_id", pa.array([window.batch_id] * n, pa.string()))
        .append_column("_ingested_at", pa.array([ingested_at] * n, pa.timestamp("us", tz="UTC")))
        .append_column("_row_id", row_id_column.cast(pa.string()))
        .append_column(delta.PARTITION_COLUMN, extract.partition.cast(pa.date32()))
    )


def write_bronze(
    source: Source, window: ExtractWindow, extracts: list[EntityExtract]
) -> dict[str, int]:
    """Replace the window's partitions of each entity's bronze table; rows written per entity."""
    ingested_at = datetime.now(UTC)  # audit only: content columns never depend on it
    written: dict[str, int] = {}
    for extract in extracts:
        table = with_audit_columns(source.name, extract, window, ingested_at)
        uri = bronze_uri(source.name, extract.entity, window.settings)
        written[extract.entity] = delta.overwrite_partitions(uri, table, window.start, window.end)
    return written
