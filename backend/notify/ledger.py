"""The send ledger: what went out, by channel, so nothing is announced twice.

A Delta table in the lake, ``<lake>/events/notify_ledger``, one row per (key, channel)
once the send succeeded: ``critical:<alert id>`` and ``alert:<alert id>`` for an alert
episode (its id is the episode's: fct_stock_alerts), ``run:<kind>:<start>:<end>:<status>``
for a run outcome. In the lake rather than the app database because every sender is a
pipeline process (`nova run`, an Airflow task) that already writes the lake under the
run's lock and may have no app database (the API's, for what people write); the alert
outbox beside it keeps its Kafka sends the same way. A failed send is not recorded, so
the next run tries it again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

from backend.lake import delta
from backend.settings import Settings

SCHEMA = pa.schema(
    [
        ("key", pa.string()),
        ("channel", pa.string()),
        ("kind", pa.string()),
        ("run_id", pa.string()),
        ("run_date", pa.date32()),
        ("sent_at", pa.timestamp("us", tz="UTC")),
    ]
)


def ledger_uri(settings: Settings) -> str:
    return delta.table_uri("events", "notify_ledger", settings=settings)


def sent_keys(settings: Settings, channel: str) -> set[str]:
    """Keys already sent on ``channel``."""
    uri = ledger_uri(settings)
    if not delta.table_exists(uri, settings):
        return set()
    table = delta.read_table(uri, columns=["key", "channel"], settings=settings)
    return {
        key
        for key, sent_on in zip(table["key"].to_pylist(), table["channel"].to_pylist(), strict=True)
        if sent_on == channel
    }


def _ensure(uri: str, settings: Settings) -> None:
    """Create the empty table once; of two concurrent creators one wins (version 0 is an
    exclusive commit) and the other finds the table."""
    if delta.table_exists(uri, settings):
        return
    try:
        write_deltalake(
            uri, SCHEMA.empty_table(), mode="error", storage_options=delta.storage_options(settings)
        )
    except Exception:
        if not delta.table_exists(uri, settings):
            raise


def record(
    settings: Settings,
    channel: str,
    kind: str,
    keys: Iterable[str],
    *,
    run_id: str,
    run_date: date,
) -> None:
    """Record ``keys`` as sent on ``channel`` (a key already there stays as it was)."""
    now = datetime.now(UTC)
    rows = [
        {"key": k, "channel": channel, "kind": kind, "run_id": run_id, "run_date": run_date,
         "sent_at": now}
        for k in dict.fromkeys(keys)
    ]  # fmt: skip
    if not rows:
        return
    uri = ledger_uri(settings)
    _ensure(uri, settings)
    (
        DeltaTable(uri, storage_options=delta.storage_options(settings))
        .merge(
            source=pa.Table.from_pylist(rows, schema=SCHEMA),
            predicate="t.key = s.key and t.channel = s.channel",
            source_alias="s",
            target_alias="t",
        )
        .when_not_matched_insert_all()
        .execute()
    )
