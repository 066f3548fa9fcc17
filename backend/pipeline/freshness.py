"""Source freshness: how old each source's newest data is on the run date D.

The rule is the same for `nova run`, a backfill and Airflow's extract tasks, and it is
measured against D, never against the clock, so re-running a past date judges it as it
was judged then. A source's newest data is the newest date up to D of an ERP row's ``updated_at``, an
INMET observation, a BACEN value or a supplier quote: their own date column, read from the
newest ``_ingest_date`` partitions only (the Delta log says which). Anatel publishes
a full snapshot of the licences, whose rows are dated by a station's first licence; it is
fresh when this run read the snapshot.

A source older than its limit (``NOVA_FRESHNESS_<SOURCE>_DAYS``) is stale: a stale ERP
fails the run (every mart is built on it), any other stale source makes it degraded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any, Literal
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.dataset as pads
from deltalake import DeltaTable

from backend.ingest.base import bronze_uri, get_source
from backend.lake import delta
from backend.settings import Settings

# Sources whose rows carry their own date: (entity, column, format of backend.ingest.
# external.parse_date). Their bronze partition is that date clamped into the run's window
# (a lookback row lands on the window's first day), so the partition alone would call a
# source fresh that only re-sent old values; the column says how new they are. Sources
# not listed (the app database's orders) are judged by their newest partition.
ERP_ENTITIES = (
    "stock_movements",
    "inventory_snapshots",
    "purchase_orders",
    "items",
    "depots",
    "towers",
    "suppliers",
)
CONTENT_DATES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "inmet": (("observations", "DT_MEDICAO", "iso"),),
    "bacen": (("series", "data", "br"),),
    "suppliers": (("quotes", "quoted_at", "iso"),),
    # An ERP row's partition is the day it was updated, but one without updated_at (to be
    # quarantined) lands on the window's first day: the column itself decides.
    "erp": tuple((entity, "updated_at", "iso") for entity in ERP_ENTITIES),
}
# Sources read as a full snapshot on every run.
SNAPSHOT_SOURCES = ("anatel",)
# Sources that fail the run when stale; the others make it degraded.
REQUIRED = ("erp",)

Status = Literal["fresh", "stale", "failed"]


@dataclass
class Freshness:
    source: str
    status: Status
    newest: date | None  # newest data up to D
    age_days: int | None  # D - newest
    max_age_days: int | None  # the limit; None: no limit (snapshot sources)
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        payload = asdict(self)
        payload["newest"] = self.newest.isoformat() if self.newest else None
        return payload


def max_age_days(source: str, settings: Settings) -> int | None:
    """The source's limit from settings (``freshness_<source>_days``), None without one."""
    value = getattr(settings, f"freshness_{source}_days", None)
    return int(value) if value is not None else None


def _files_by_partition(uri: str, day: date, settings: Settings) -> dict[date, list[str]]:
    """The table's data files by ``_ingest_date`` partition up to ``day``, newest first,
    from the Delta log's add actions (no data read)."""
    table = DeltaTable(uri, storage_options=delta.storage_options(settings))
    actions = pa.table(table.get_add_actions(flatten=True))
    key = f"partition.{delta.PARTITION_COLUMN}"
    if key not in actions.column_names:
        return {}
    files: dict[date, list[str]] = {}
    for path, value in zip(
        actions.column("path").to_pylist(), actions.column(key).to_pylist(), strict=True
    ):
        when = value if isinstance(value, date) else date.fromisoformat(value) if value else None
        if when is not None and when <= day:
            files.setdefault(when, []).append(path)
    return dict(sorted(files.items(), reverse=True))


def _newest_content_date(
    uri: str, column: str, fmt: str, day: date, settings: Settings
) -> date | None:
    """The newest date in ``column`` up to ``day``. A row's partition is never older than
    its own date (up to D), so the scan walks partitions newest first and stops at one no
    newer than the best date found: usually one partition's files are read, one column."""
    from backend.ingest.external import parse_date

    fs, root = delta.filesystem(uri, settings)
    best: date | None = None
    for partition, paths in _files_by_partition(uri, day, settings).items():
        if best is not None and partition <= best:
            break
        files = [f"{root}/{unquote(path)}" for path in paths]
        values = pads.dataset(files, filesystem=fs, format="parquet").to_table(columns=[column])
        for value in values.column(0).to_pylist():
            when = _as_date(value, fmt, parse_date)
            if when is not None and when <= day and (best is None or when > best):
                best = when
    return best


def _as_date(value: object, fmt: str, parse: Callable[[str, str], date | None]) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return parse(value, fmt) if isinstance(value, str) and value else None


def newest_data(source: str, day: date, settings: Settings) -> date | None:
    """The date of the source's newest data up to ``day``."""
    newest: date | None = None
    if source in CONTENT_DATES:
        for entity, column, fmt in CONTENT_DATES[source]:
            uri = bronze_uri(source, entity, settings)
            if not delta.table_exists(uri, settings):
                continue
            found = _newest_content_date(uri, column, fmt, day, settings)
            if found is not None and (newest is None or found > newest):
                newest = found
        return newest
    for entity in get_source(source).schemas:
        uri = bronze_uri(source, entity, settings)
        if delta.table_exists(uri, settings):
            partitions = list(_files_by_partition(uri, day, settings))
            if partitions and (newest is None or partitions[0] > newest):
                newest = partitions[0]
    return newest


def check(source: str, day: date, settings: Settings, *, extracted: bool = True) -> Freshness:
    """The freshness of ``source`` on run date ``day``; ``extracted``: whether this run's
    extract of it succeeded."""
    limit = max_age_days(source, settings)
    if source in SNAPSHOT_SOURCES:
        if extracted:
            return Freshness(source, "fresh", day, 0, None)
        return Freshness(source, "failed", None, None, None, f"{source}: extract failed")
    newest = newest_data(source, day, settings)
    age = (day - newest).days if newest else None
    if not extracted:
        reason = f"{source}: extract failed; newest data {newest or 'none'}"
        return Freshness(source, "failed", newest, age, limit, reason)
    if limit is None:
        return Freshness(source, "fresh", newest, age, None)
    if newest is None:
        reason = f"{source} is stale: no data up to {day} (limit {limit} days)"
        return Freshness(source, "stale", None, None, limit, reason)
    if age is not None and age > limit:
        reason = (
            f"{source} is stale: newest data {newest}, {age} days before {day} "
            f"(limit {limit} days; NOVA_FRESHNESS_{source.upper()}_DAYS)"
        )
        return Freshness(source, "stale", newest, age, limit, reason)
    return Freshness(source, "fresh", newest, age, limit)
