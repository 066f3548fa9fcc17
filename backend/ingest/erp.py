"""The ERP source: incremental extraction by ``updated_at`` high-water mark.

A run of dates [A, B] reads the rows with ``lo - lookback < updated_at < B + 1 day``, where
``lo`` is the high-water mark that the state table recorded for the day before A (none on
the first run: a full load), plus every row whose ``updated_at`` is NULL. Each row lands in
the bronze partition of the day it was updated, clamped into [A, B] (NULL: A). The state
keeps one high-water mark per entity and run day, so re-running any day reads exactly the
rows it read the first time (plus anything that arrived late with an older
``updated_at``) and overwrites that day's partition.

What the extract guarantees: no row read from the ERP is dropped. The lookback
(``NOVA_ERP_LOOKBACK_MINUTES``) catches a row committed late with an ``updated_at`` at or
below the mark; a re-read row already in bronze (same ``_row_id``, i.e. identical content)
in another partition is not loaded again, so bronze never grows copies across batches. A
row with a NULL ``updated_at`` or a value of the wrong type is loaded and then quarantined
by the contract, with the reason."""

from __future__ import annotations

import time as time_module
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import write_deltalake

from backend.ingest.base import (
    EntityExtract,
    ExtractWindow,
    Source,
    bronze_uri,
    register,
    row_ids,
)
from backend.ingest.retry import RetryPolicy, retry_call
from backend.ingest.sql_readers import TYPE_ERRORS, conform, open_reader
from backend.lake import delta
from backend.lake.duck import connect
from backend.settings import Settings

TS = pa.timestamp("us")

ERP_SCHEMAS: dict[str, pa.Schema] = {
    "suppliers": pa.schema(
        [
            ("supplier_id", pa.string()),
            ("name", pa.string()),
            ("state", pa.string()),
            ("lead_time_mean_days", pa.float64()),
            ("lead_time_std_days", pa.float64()),
            ("updated_at", TS),
        ]
    ),
    "depots": pa.schema(
        [
            ("depot_id", pa.string()),
            ("name", pa.string()),
            ("municipality", pa.string()),
            ("state", pa.string()),
            ("lat", pa.float64()),
            ("lon", pa.float64()),
            ("updated_at", TS),
        ]
    ),
    "items": pa.schema(
        [
            ("item_id", pa.string()),
            ("name", pa.string()),
            ("category", pa.string()),
            ("family", pa.string()),
            ("technology", pa.string()),
            ("supplier_id", pa.string()),
            ("unit_cost", pa.float64()),
            ("lead_time_days", pa.int64()),
            ("min_order_qty", pa.int64()),
            ("min_stock", pa.int64()),
            ("max_stock", pa.int64()),
            ("created_at", TS),
            ("updated_at", TS),
        ]
    ),
    "towers": pa.schema(
        [
            ("tower_id", pa.string()),
            ("municipality", pa.string()),
            ("state", pa.string()),
            ("lat", pa.float64()),
            ("lon", pa.float64()),
            ("depot_id", pa.string()),
            ("sla_tier", pa.string()),
            ("technology", pa.string()),
            ("commissioned_at", pa.date32()),
            ("updated_at", TS),
        ]
    ),
    "stock_movements": pa.schema(
        [
            ("movement_id", pa.int64()),
            ("item_id", pa.string()),
            ("depot_id", pa.string()),
            ("tower_id", pa.string()),
            ("quantity", pa.int64()),
            ("movement_type", pa.string()),
            ("movement_date", pa.date32()),
            ("updated_at", TS),
        ]
    ),
    "inventory_snapshots": pa.schema(
        [
            ("item_id", pa.string()),
            ("depot_id", pa.string()),
            ("snapshot_date", pa.date32()),
            ("on_hand", pa.int64()),
            ("on_order", pa.int64()),
            ("updated_at", TS),
        ]
    ),
    "purchase_orders": pa.schema(
        [
            ("po_id", pa.string()),
            ("item_id", pa.string()),
            ("depot_id", pa.string()),
            ("supplier_id", pa.string()),
            ("quantity", pa.int64()),
            ("order_date", pa.date32()),
            ("expected_date", pa.date32()),
            ("received_date", pa.date32()),
            ("status", pa.string()),
            ("external_ref", pa.string()),
            ("updated_at", TS),
        ]
    ),
}

STATE_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("entity", pa.string()),
        ("run_date", pa.date32()),
        ("high_water_mark", TS),
        ("rows_extracted", pa.int64()),
        ("_batch_id", pa.string()),
    ]
)


def state_uri(settings: Settings) -> str:
    return delta.table_uri("state", "watermarks", settings=settings)


def is_transient_db_error(exc: BaseException) -> bool:
    """PEP 249's OperationalError: the database's operation failed (connection refused or
    lost, server shutting down), not our query; a later try may succeed."""
    if isinstance(exc, ErpReadError):
        exc = exc.__cause__ or exc
    return type(exc).__name__ == "OperationalError"


class ErpReadError(RuntimeError):
    def __init__(self, entity: str, cause: BaseException) -> None:
        super().__init__(f"erp.{entity}: reading the window failed: {cause}")


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min)


class ErpSource(Source):
    name = "erp"
    schemas = ERP_SCHEMAS
    extra_fields = (pa.field(TYPE_ERRORS, pa.string()),)

    def __init__(
        self,
        *,
        generic_reader: bool = False,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time_module.sleep,
    ) -> None:
        self.generic_reader = generic_reader
        self.retry = retry or RetryPolicy(attempts=4, base_delay=1.0)
        self.sleep = sleep

    def low_water_marks(self, before: date, settings: Settings) -> dict[str, datetime]:
        """Per entity, the high-water mark recorded for the last run day before ``before``
        (no entry: never extracted, so the next read is a full load)."""
        uri = state_uri(settings)
        if not delta.table_exists(uri, settings):
            return {}
        state = delta.read_table(uri, settings=settings)
        earlier = state.filter(
            pc.and_(
                pc.equal(state["source"], self.name),
                pc.less(state["run_date"], pa.scalar(before, pa.date32())),
            )
        )
        marks = earlier.group_by("entity").aggregate([("high_water_mark", "max")])
        return {
            entity: mark
            for entity, mark in zip(
                marks["entity"].to_pylist(), marks["high_water_mark_max"].to_pylist(), strict=True
            )
            if isinstance(mark, datetime)
        }

    def extract(self, window: ExtractWindow) -> list[EntityExtract]:
        """Read the window; a lost or refused connection is retried with backoff."""
        return retry_call(
            lambda: self._extract_once(window),
            what=f"erp extract {window.start}..{window.end}",
            transient=is_transient_db_error,
            policy=self.retry,
            sleep=self.sleep,
        )

    def _extract_once(self, window: ExtractWindow) -> list[EntityExtract]:
        settings = window.settings
        upper = _day_start(window.end + timedelta(days=1))
        lookback = timedelta(minutes=settings.erp_lookback_minutes)
        lower_marks = self.low_water_marks(window.start, settings)
        extracts = []
        with open_reader(
            settings.erp_url,
            generic=self.generic_reader,
            connect_timeout=settings.erp_connect_timeout,
            statement_timeout=settings.erp_statement_timeout,
        ) as reader:
            for entity, schema in self.schemas.items():
                mark = lower_marks.get(entity)
                lower = mark - lookback if mark is not None else None
                try:
                    raw = reader.read(entity, schema, lower, upper)
                except Exception as exc:
                    raise ErpReadError(entity, exc) from exc
                rows = conform(raw, schema, source=self.name, entity=entity)
                if lower is not None:
                    rows = self._not_yet_loaded(entity, rows, lower, window)
                extracts.append(self._assign_partitions(entity, rows, mark, window))
        return extracts

    def _not_yet_loaded(
        self, entity: str, rows: pa.Table, lower: datetime, window: ExtractWindow
    ) -> pa.Table:
        """Drop the rows that bronze already holds outside the window's partitions: the
        lookback's overlap and the NULL-``updated_at`` rows that every read takes again.
        Rows in the window's own partitions are about to be replaced, so they stay."""
        settings = window.settings
        uri = bronze_uri(self.name, entity, settings)
        if rows.num_rows == 0 or not delta.table_exists(uri, settings):
            return rows
        # A re-read row landed on its updated day or later (partitions are clamped up),
        # so only partitions from the lookback's first day on can hold it; a row without
        # updated_at may sit in any partition, but such reads are rare, and only they pay
        # for a scan of every partition.
        anywhere = " or updated_at is null" if rows["updated_at"].null_count else ""
        conn = connect(settings=settings)
        try:
            loaded = conn.execute(
                f"""select distinct _row_id from delta_scan(?)
                where {delta.PARTITION_COLUMN} not between ? and ?
                    and ({delta.PARTITION_COLUMN} >= ?{anywhere})""",
                [uri, window.start, window.end, lower.date()],
            ).to_arrow_table()
        finally:
            conn.close()
        if loaded.num_rows == 0:
            return rows
        fresh = pc.invert(pc.is_in(row_ids(rows, settings), value_set=loaded["_row_id"]))
        return rows.filter(fresh)

    def _assign_partitions(
        self, entity: str, rows: pa.Table, lower: datetime | None, window: ExtractWindow
    ) -> EntityExtract:
        updated_day = pc.cast(rows["updated_at"], pa.date32())
        start = pa.scalar(window.start, pa.date32())
        # A NULL updated_at (quarantined later) lands on the window's first day.
        partition = pc.fill_null(pc.if_else(pc.less(updated_day, start), start, updated_day), start)
        return EntityExtract(
            entity=entity,
            rows=rows,
            partition=partition.combine_chunks() if rows.num_rows else pa.array([], pa.date32()),
            details={"low_water_mark": lower},
        )

    def commit(self, window: ExtractWindow, extracts: list[EntityExtract]) -> None:
        """Record, for every day of the window, the high-water mark reached by then."""
        records: dict[str, list[object]] = {name: [] for name in STATE_SCHEMA.names}
        days = (window.end - window.start).days + 1
        for extract in extracts:
            lower = extract.details.get("low_water_mark")
            mark = lower if isinstance(lower, datetime) else None
            per_day = self._max_updated_per_partition(extract)
            for offset in range(days):
                day = window.start + timedelta(days=offset)
                day_mark, day_rows = per_day.get(day, (None, 0))
                if day_mark is not None and (mark is None or day_mark > mark):
                    mark = day_mark
                records["source"].append(self.name)
                records["entity"].append(extract.entity)
                records["run_date"].append(day)
                records["high_water_mark"].append(mark)
                records["rows_extracted"].append(day_rows)
                records["_batch_id"].append(window.batch_id)
        state = pa.table(records, schema=STATE_SCHEMA)
        write_deltalake(
            state_uri(window.settings),
            state,
            mode="overwrite",
            predicate=(
                f"source = '{self.name}' AND "
                + delta.date_range_predicate(window.start, window.end, column="run_date")
            ),
            storage_options=delta.storage_options(window.settings),
        )

    @staticmethod
    def _max_updated_per_partition(extract: EntityExtract) -> dict[date, tuple[datetime, int]]:
        if extract.rows.num_rows == 0:
            return {}
        grouped = (
            pa.table({"day": extract.partition, "updated_at": extract.rows["updated_at"]})
            .group_by("day")
            .aggregate([("updated_at", "max"), ([], "count_all")])
        )
        return {
            day: (mark, count)
            for day, mark, count in zip(
                grouped["day"].to_pylist(),
                grouped["updated_at_max"].to_pylist(),
                grouped["count_all"].to_pylist(),
                strict=True,
            )
        }


@register("erp")
def _make_erp() -> Source:
    return ErpSource()
