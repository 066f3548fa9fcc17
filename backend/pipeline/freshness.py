"""Source freshness: how old each source's newest data is on the run date D.

The rule is the same for `nova run`, a backfill and Airflow's extract tasks, and it is
measured against D, never against the clock, so re-running a past date judges it as it
was judged then. A source's newest data is its newest ``_ingest_date`` partition up to D
(read from the Delta log, no data read): the day an ERP row was updated, the day an INMET
observation or a BACEN value is dated, the day a supplier quote was made. Anatel publishes
a full snapshot of the licences, whose rows are dated by a station's first licence; it is
fresh when this run read the snapshot.

A source older than its limit (``NOVA_FRESHNESS_<SOURCE>_DAYS``) is stale: a stale ERP
fails the run (every mart is built on it), any other stale source makes it degraded.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any, Literal

from deltalake import DeltaTable

from backend.ingest.base import bronze_uri, get_source
from backend.lake import delta
from backend.settings import Settings

# Entities whose partitions say how recent a source is; other sources: all their entities.
# INMET's station list is dated by the run that read it, so it says nothing.
CONTENT_ENTITIES = {"inmet": ("observations",)}
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


def newest_partition(source: str, day: date, settings: Settings) -> date | None:
    """The newest ``_ingest_date`` up to ``day`` over the source's content entities."""
    entities = CONTENT_ENTITIES.get(source) or tuple(get_source(source).schemas)
    newest: date | None = None
    for entity in entities:
        uri = bronze_uri(source, entity, settings)
        if not delta.table_exists(uri, settings):
            continue
        table = DeltaTable(uri, storage_options=delta.storage_options(settings))
        for part in table.partitions():
            value = part.get(delta.PARTITION_COLUMN)
            if not value:
                continue
            when = date.fromisoformat(value)
            if when <= day and (newest is None or when > newest):
                newest = when
    return newest


def check(source: str, day: date, settings: Settings, *, extracted: bool = True) -> Freshness:
    """The freshness of ``source`` on run date ``day``; ``extracted``: whether this run's
    extract of it succeeded."""
    limit = max_age_days(source, settings)
    if source in SNAPSHOT_SOURCES:
        if extracted:
            return Freshness(source, "fresh", day, 0, None)
        return Freshness(source, "failed", None, None, None, f"{source}: extract failed")
    newest = newest_partition(source, day, settings)
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
