"""The publish step's logic: new stock alerts to Kafka once each, then a new gold version.

The outbox is a Delta table, ``<lake>/events/alert_outbox``, one row per (alert id,
severity): ``pending`` when first seen, ``sent`` once Kafka acknowledged it. An alert keeps
its id for its whole episode (fct_stock_alerts), so the same problem on the next day is
not sent again, while a worsening (warning -> critical, same id) is a new key and is. A
run sends the alerts that are new or still pending and nothing else, so a re-run sends
nothing twice. Before sending, the run records the topic's end offsets
(``events/alert_outbox_sending.json``); if it dies between Kafka's acknowledgement and the
outbox update, the next run reads the topic from those offsets and marks the (alert id,
severity) pairs it finds there as sent instead of sending them again. Consumers still drop
repeated pairs (the API's hub does), for the one case left: a send acknowledged by Kafka
after the reader looked.

Without Kafka (``NOVA_KAFKA_BOOTSTRAP`` unset, the embedded default) alerts are recorded
as pending and a later run with Kafka configured sends them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

from backend.lake import delta
from backend.lake.reader import GoldReader, write_gold_version
from backend.settings import Settings

ALERTS_TABLE = "fct_stock_alerts"
OUTBOX_SCHEMA = pa.schema(
    [
        ("alert_id", pa.string()),
        ("alert_date", pa.date32()),
        ("severity", pa.string()),
        ("status", pa.string()),
        ("payload", pa.string()),
        ("run_id", pa.string()),
        ("recorded_at", pa.timestamp("us", tz="UTC")),
        ("sent_at", pa.timestamp("us", tz="UTC")),
        ("sent_run_id", pa.string()),
    ]
)


@dataclass
class OutboxResult:
    alerts: int = 0  # rows of fct_stock_alerts
    new: int = 0  # (alert id, severity) pairs seen for the first time
    sent: int = 0  # sent to Kafka by this run
    pending: int = 0  # still waiting after this run
    notes: list[str] = field(default_factory=list)


def outbox_uri(settings: Settings) -> str:
    return delta.table_uri("events", "alert_outbox", settings=settings)


def _alert_payload(row: Mapping[str, Any]) -> dict[str, Any]:
    payload = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in row.items()}
    payload["source"] = "daily"
    return payload


OutboxKey = tuple[str, str | None]


def read_outbox(settings: Settings) -> dict[OutboxKey, str]:
    """(alert id, severity) -> status."""
    uri = outbox_uri(settings)
    if not delta.table_exists(uri, settings):
        return {}
    table = delta.read_table(uri, settings=settings)
    # an outbox written before severity joined the key reads as severity null
    severities = (
        table["severity"].to_pylist()
        if "severity" in table.column_names
        else [None] * table.num_rows
    )
    keys = zip(table["alert_id"].to_pylist(), severities, strict=True)
    return dict(zip(keys, table["status"].to_pylist(), strict=True))


def _merge(uri: str, rows: list[dict[str, Any]], settings: Settings, *, update: bool) -> None:
    data = pa.Table.from_pylist(rows, schema=OUTBOX_SCHEMA)
    options = delta.storage_options(settings)
    _ensure_outbox(uri, settings)
    merger = DeltaTable(uri, storage_options=options).merge(
        source=data,
        predicate="t.alert_id = s.alert_id and t.severity is not distinct from s.severity",
        source_alias="s",
        target_alias="t",
        merge_schema=True,  # an outbox from before the severity column gains it
    )
    if update:
        merger = merger.when_matched_update(
            updates={"status": "s.status", "sent_at": "s.sent_at", "sent_run_id": "s.sent_run_id"}
        )
    merger.when_not_matched_insert_all().execute()


def _ensure_outbox(uri: str, settings: Settings) -> None:
    """Create the empty outbox once. Rows always arrive by MERGE on the alert id: two
    first writers that both appended would record every alert twice. Creating version 0
    is an exclusive commit, so of two concurrent creators one wins and the other finds
    the table."""
    if delta.table_exists(uri, settings):
        return
    try:
        write_deltalake(
            uri,
            OUTBOX_SCHEMA.empty_table(),
            mode="error",
            storage_options=delta.storage_options(settings),
        )
    except Exception:
        if not delta.table_exists(uri, settings):
            raise


async def _send(
    bootstrap: str, topic: str, payloads: list[dict[str, Any]], settings: Settings
) -> None:
    """Send ``payloads`` and wait for every acknowledgement (the topic exists: _deliver)."""
    from backend.events.kafka import encode, producer

    kafka = producer(bootstrap, settings)
    await kafka.start()
    try:
        futures = [await kafka.send(topic, encode(p), key=_message_key(p)) for p in payloads]
        await asyncio.gather(*futures)  # every acknowledgement, or the first failure
    finally:
        await kafka.stop()


def publish_alerts(settings: Settings, run_id: str) -> OutboxResult:
    """Record new alerts in the outbox and send every pending one to Kafka."""
    result = OutboxResult()
    reader = GoldReader(settings)
    alerts = reader.rows(
        "select * from delta_scan($t_fct_stock_alerts) order by alert_date, alert_id",
        tables=[ALERTS_TABLE],
    )
    result.alerts = len(alerts)
    if not alerts:
        result.notes.append(f"no {ALERTS_TABLE} in gold yet: no alerts to publish")
    uri = outbox_uri(settings)
    known = read_outbox(settings)
    now = datetime.now(UTC)
    fresh = [a for a in alerts if (a["alert_id"], a.get("severity")) not in known]
    result.new = len(fresh)
    if fresh:
        _merge(
            uri,
            [
                {
                    "alert_id": a["alert_id"],
                    "alert_date": a["alert_date"],
                    "severity": a.get("severity"),
                    "status": "pending",
                    "payload": json.dumps(_alert_payload(a), default=str),
                    "run_id": run_id,
                    "recorded_at": now,
                }
                for a in fresh
            ],
            settings,
            update=False,
        )
    pending = _pending(uri, settings)
    if not pending:
        return result
    if not settings.kafka_bootstrap:
        result.pending = len(pending)
        result.notes.append(
            f"Kafka not configured (NOVA_KAFKA_BOOTSTRAP unset): {len(pending)} alert(s) kept "
            "pending in the outbox, sent by the first run with Kafka"
        )
        return result
    payloads = [json.loads(p["payload"]) for p in pending]
    recovered = asyncio.run(_deliver(settings, run_id, payloads))
    if recovered:
        result.notes.append(
            f"{recovered} alert(s) already on {settings.alerts_topic} from an interrupted "
            "run: marked sent, not sent again"
        )
    sent_at = datetime.now(UTC)
    _merge(
        uri,
        [{**p, "status": "sent", "sent_at": sent_at, "sent_run_id": run_id} for p in pending],
        settings,
        update=True,
    )
    _clear_sending(settings)
    result.sent = len(pending)
    return result


def _message_key(payload: Mapping[str, Any]) -> bytes:
    return str(payload["alert_id"]).encode()


def sending_uri(settings: Settings) -> str:
    return delta.table_uri("events", "alert_outbox_sending.json", settings=settings)


def _clear_sending(settings: Settings) -> None:
    fs, path = delta.filesystem(sending_uri(settings), settings)
    with contextlib.suppress(FileNotFoundError):
        fs.delete_file(path)


async def _deliver(settings: Settings, run_id: str, payloads: list[dict[str, Any]]) -> int:
    """Send ``payloads`` except those an interrupted earlier send already delivered;
    returns how many were found delivered."""
    from backend.events.kafka import ensure_topics

    assert settings.kafka_bootstrap
    bootstrap, topic = settings.kafka_bootstrap, settings.alerts_topic
    await ensure_topics(bootstrap, topic, settings=settings)
    try:
        marker = delta.read_json(sending_uri(settings), settings)
    except (FileNotFoundError, ValueError):
        marker = None
    delivered: set[tuple[bytes, str | None]] = set()
    if isinstance(marker, dict) and marker.get("topic") == topic:
        since = {int(p): int(o) for p, o in marker.get("offsets", {}).items()}
        delivered = await _keys_since(bootstrap, topic, since, settings)
    todo = [p for p in payloads if (_message_key(p), p.get("severity")) not in delivered]
    # Written before the first send: a run that dies after it knows where to look.
    offsets = await _end_offsets(bootstrap, topic, settings)
    delta.write_json(
        sending_uri(settings),
        {"topic": topic, "run_id": run_id, "offsets": offsets},
        settings,
    )
    if todo:
        await _send(bootstrap, topic, todo, settings)
    return len(payloads) - len(todo)


async def _end_offsets(bootstrap: str, topic: str, settings: Settings) -> dict[int, int]:
    from aiokafka import TopicPartition

    from backend.events.kafka import consumer as kafka_consumer

    consumer = kafka_consumer(bootstrap, settings, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer.topics()  # fetch metadata
        partitions = consumer.partitions_for_topic(topic) or set()
        ends = await consumer.end_offsets([TopicPartition(topic, p) for p in partitions])
        return {tp.partition: int(offset) for tp, offset in ends.items()}
    finally:
        await consumer.stop()


async def _keys_since(
    bootstrap: str, topic: str, since: Mapping[int, int], settings: Settings
) -> set[tuple[bytes, str | None]]:
    """(key, severity) of the messages written to ``topic`` after the offsets ``since``:
    an alert's identity in the outbox (the same episode id may carry a worsening)."""
    from aiokafka import TopicPartition

    from backend.events.kafka import consumer as kafka_consumer
    from backend.events.kafka import decode

    consumer = kafka_consumer(bootstrap, settings, enable_auto_commit=False)
    await consumer.start()
    keys: set[tuple[bytes, str | None]] = set()
    try:
        await consumer.topics()
        partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in partitions]
        ends = await consumer.end_offsets(tps)
        todo = {
            tp: since.get(tp.partition, 0) for tp in tps if ends[tp] > since.get(tp.partition, 0)
        }
        if not todo:
            return keys
        consumer.assign(list(todo))
        for tp, offset in todo.items():
            consumer.seek(tp, offset)
        while [tp for tp in todo if await consumer.position(tp) < ends[tp]]:
            batches = await consumer.getmany(*todo, timeout_ms=1000)
            for records in batches.values():
                for record in records:
                    payload = decode(record.value) or {}
                    if record.key is not None:
                        keys.add((record.key, payload.get("severity")))
        return keys
    finally:
        await consumer.stop()


def _pending(uri: str, settings: Settings) -> list[dict[str, Any]]:
    if not delta.table_exists(uri, settings):
        return []
    table = delta.read_table(uri, settings=settings)
    rows = [r for r in table.to_pylist() if r["status"] == "pending"]
    return sorted(rows, key=lambda r: (r["alert_date"], r["alert_id"]))


def bump_gold_version(settings: Settings, run_id: str, run_date: date) -> dict[str, Any]:
    """Publish the run's id as the gold version: API caches keyed on it turn over."""
    from backend.lake.gold import gold_tables

    versions = {
        name: DeltaTable(
            delta.table_uri("gold", name, settings=settings),
            storage_options=delta.storage_options(settings),
        ).version()
        for name in gold_tables(settings)
    }
    return write_gold_version(
        settings, run_id, {"run_date": run_date.isoformat(), "tables": versions}
    )
