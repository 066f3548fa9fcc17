"""`nova stream`: stock positions from `inventory-events`, alerts the moment one crosses.

Each item x depot position starts from gold ``fct_reorder_points`` (on hand and on order
as of its date) and moves with every ERP movement dated after that. When the position
falls to the reorder point (warning) or to the safety stock (critical) an alert goes to
`stock-alerts` at once. Positions and the next offset of each partition are saved in one
SQLite transaction after each batch, before the alerts are sent and the offsets committed
to Kafka: after a restart the processor resumes exactly where its state ends, so no
movement is applied twice. One processor instance per topic (it assigns itself every
partition).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import math
import sqlite3
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

from backend.events.kafka import decode, encode, ensure_topics, producer
from backend.events.metrics import CONSUMER_LAG
from backend.lake.reader import GoldReader, read_gold_version
from backend.settings import Settings

log = logging.getLogger(__name__)
GROUP_ID = "nova-stream"
LEVELS = {"ok": 0, "warning": 1, "critical": 2}


@dataclass
class Position:
    item_id: str
    depot_id: str
    as_of_date: str  # movements on or before this date are already in the gold figures
    on_hand: float
    on_order: float
    reorder_point: float | None
    safety_stock: float | None
    order_up_to: float | None
    avg_daily_demand: float | None
    level: str = "ok"

    @property
    def position(self) -> float:
        return self.on_hand + self.on_order

    def level_now(self) -> str:
        if self.safety_stock is not None and self.position <= self.safety_stock:
            return "critical"
        if self.reorder_point is not None and self.position <= self.reorder_point:
            return "warning"
        return "ok"


class StateStore:
    """Positions and consumed offsets in one SQLite file."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(path)
        self.conn.executescript(
            """
            create table if not exists positions (
                item_id text, depot_id text, as_of_date text, on_hand real, on_order real,
                reorder_point real, safety_stock real, order_up_to real,
                avg_daily_demand real, level text, primary key (item_id, depot_id));
            create table if not exists offsets (
                topic text, partition integer, next_offset integer,
                primary key (topic, partition));
            """
        )

    def positions(self) -> dict[tuple[str, str], Position]:
        rows = self.conn.execute(
            "select item_id, depot_id, as_of_date, on_hand, on_order, reorder_point, "
            "safety_stock, order_up_to, avg_daily_demand, level from positions"
        ).fetchall()
        return {(r[0], r[1]): Position(*r) for r in rows}

    def offsets(self, topic: str) -> dict[int, int]:
        rows = self.conn.execute(
            "select partition, next_offset from offsets where topic = ?", (topic,)
        ).fetchall()
        return dict(rows)

    def save(self, positions: list[Position], topic: str, offsets: dict[int, int]) -> None:
        with self.conn:
            self.conn.executemany(
                "insert or replace into positions values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [tuple(asdict(p).values()) for p in positions],
            )
            self.conn.executemany(
                "insert or replace into offsets values (?, ?, ?)",
                [(topic, p, o) for p, o in offsets.items()],
            )

    def close(self) -> None:
        self.conn.close()


def load_reorder_points(settings: Settings) -> dict[tuple[str, str], dict[str, Any]]:
    """The latest reorder point row of every item x depot in gold (none yet: empty)."""
    rows = GoldReader(settings).rows(
        "select * from delta_scan($t_fct_reorder_points) where as_of_date = "
        "(select max(as_of_date) from delta_scan($t_fct_reorder_points))",
        tables=["fct_reorder_points"],
    )
    return {(r["item_id"], r["depot_id"]): r for r in rows}


def alert_id(alert_date: str, item_id: str, depot_id: str, severity: str) -> str:
    digest = hashlib.sha1(f"{alert_date}|{item_id}|{depot_id}|{severity}".encode()).hexdigest()
    return f"rt-{digest[:20]}"


class StreamProcessor:
    def __init__(
        self,
        settings: Settings,
        *,
        on_alert: Callable[[dict[str, Any]], None] | None = None,
        refresh_seconds: float = 5.0,
    ) -> None:
        self.settings = settings
        self.on_alert = on_alert
        self.refresh_seconds = refresh_seconds
        self.store = StateStore(settings.stream_state_path)
        self.positions = self.store.positions()
        self.reorder: dict[tuple[str, str], dict[str, Any]] = {}
        self._gold_version: object = None
        self._checked_at = float("-inf")
        self.applied = 0

    # --- the logic, free of Kafka -------------------------------------------------

    def refresh_reorder_points(self) -> None:
        version = read_gold_version(self.settings)
        if self.reorder and version == self._gold_version:
            return
        self._gold_version = version
        self.reorder = load_reorder_points(self.settings)

    def _position(self, item: str, depot: str) -> Position:
        key = (item, depot)
        gold = self.reorder.get(key)
        current = self.positions.get(key)
        gold_date = str(gold["as_of_date"]) if gold else "0000-00-00"
        if current is None or gold_date > current.as_of_date:
            # First sight, or a newer daily run: its figures include every older movement.
            current = Position(
                item, depot, gold_date,
                float(gold["on_hand"] or 0) if gold else 0.0,
                float(gold["on_order"] or 0) if gold else 0.0,
                None, None, None, None,
            )  # fmt: skip
            self.positions[key] = current
        if gold:
            current.reorder_point = gold["reorder_point"]
            current.safety_stock = gold["safety_stock"]
            current.order_up_to = gold["order_up_to"]
            current.avg_daily_demand = gold["avg_daily_demand"]
        return current

    def apply(self, event: dict[str, Any]) -> dict[str, Any] | None:
        """Apply one movement; the alert it raises, if any."""
        try:
            item, depot = str(event["item_id"]), str(event["depot_id"])
            kind, qty = str(event["movement_type"]), float(event["quantity"])
            day = str(event["movement_date"])[:10]
            date.fromisoformat(day)
        except (KeyError, TypeError, ValueError):
            log.warning("skipping a malformed inventory event: %r", event)
            return None
        pos = self._position(item, depot)
        if day <= pos.as_of_date:
            return None  # already counted in the gold snapshot
        if kind == "consumption":
            pos.on_hand -= qty
        elif kind == "receipt":
            pos.on_hand += qty
            pos.on_order = max(0.0, pos.on_order - qty)
        elif kind == "adjustment":
            pos.on_hand += qty
        else:
            log.warning("skipping a movement of unknown type %r", kind)
            return None
        self.applied += 1
        before, now = pos.level, pos.level_now()
        pos.level = now
        if LEVELS[now] <= LEVELS[before]:
            return None
        return self._alert(pos, day, now)

    def _alert(self, pos: Position, day: str, severity: str) -> dict[str, Any]:
        days_left = None
        if pos.avg_daily_demand and pos.avg_daily_demand > 0:
            days_left = max(0, math.floor(pos.on_hand / pos.avg_daily_demand))
        threshold = pos.safety_stock if severity == "critical" else pos.reorder_point
        return {
            "alert_id": alert_id(day, pos.item_id, pos.depot_id, severity),
            "alert_date": day,
            "item_id": pos.item_id,
            "depot_id": pos.depot_id,
            "severity": severity,
            "on_hand": pos.on_hand,
            "on_order": pos.on_order,
            "projected_position": pos.position,
            "reorder_point": pos.reorder_point,
            "safety_stock": pos.safety_stock,
            "suggested_order_qty": max(0.0, (pos.order_up_to or 0.0) - pos.position),
            "days_to_stockout": days_left,
            "message": (
                f"{pos.item_id} at {pos.depot_id}: position {pos.position:g} fell to "
                f"{'safety stock' if severity == 'critical' else 'reorder point'} {threshold:g}"
            ),
            "source": "stream",
            "raised_at": time.time(),
        }

    # --- the Kafka loop -------------------------------------------------------------

    async def run(self, stop: asyncio.Event | None = None) -> None:
        from aiokafka import AIOKafkaConsumer, TopicPartition
        from aiokafka.structs import OffsetAndMetadata

        bootstrap = self.settings.kafka_bootstrap
        if not bootstrap:
            raise RuntimeError("`nova stream` needs Kafka: set NOVA_KAFKA_BOOTSTRAP")
        topic, alerts_topic = self.settings.inventory_topic, self.settings.alerts_topic
        stop = stop or asyncio.Event()
        await ensure_topics(bootstrap, topic, alerts_topic)
        await asyncio.to_thread(self.refresh_reorder_points)
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, group_id=GROUP_ID, enable_auto_commit=False,
            auto_offset_reset="earliest", fetch_max_wait_ms=20,
        )  # fmt: skip
        kafka = producer(bootstrap)
        await consumer.start()
        await kafka.start()
        try:
            tps = [
                TopicPartition(topic, p)
                for p in sorted(consumer.partitions_for_topic(topic) or {0})
            ]
            consumer.assign(tps)
            saved = self.store.offsets(topic)
            for tp in tps:
                if tp.partition in saved:  # our own state is the truth
                    consumer.seek(tp, saved[tp.partition])
                else:
                    committed = await consumer.committed(tp)
                    if committed is not None:
                        consumer.seek(tp, committed)
                    else:
                        await consumer.seek_to_beginning(tp)
            while not stop.is_set():
                if time.monotonic() - self._checked_at > self.refresh_seconds:
                    await asyncio.to_thread(self.refresh_reorder_points)
                    self._checked_at = time.monotonic()
                batches = await consumer.getmany(timeout_ms=100, max_records=500)
                if not batches:
                    continue
                alerts, touched, offsets = [], {}, {}
                for tp, messages in batches.items():
                    for message in messages:
                        event = decode(message.value)
                        if event is not None and (alert := self.apply(event)):
                            alerts.append(alert)
                        if event is not None and "item_id" in event and "depot_id" in event:
                            key = (str(event["item_id"]), str(event["depot_id"]))
                            if key in self.positions:
                                touched[key] = self.positions[key]
                        offsets[tp.partition] = message.offset + 1
                self.store.save(list(touched.values()), topic, offsets)
                for alert in alerts:
                    await kafka.send_and_wait(
                        alerts_topic, encode(alert), key=alert["alert_id"].encode()
                    )
                    if self.on_alert:
                        self.on_alert(alert)
                with contextlib.suppress(Exception):  # the SQLite offsets are the truth
                    await consumer.commit(
                        {
                            TopicPartition(topic, p): OffsetAndMetadata(o, "")
                            for p, o in offsets.items()
                        }
                    )
                lag = 0
                for tp in tps:
                    lag += max(0, (consumer.highwater(tp) or 0) - await consumer.position(tp))
                CONSUMER_LAG.labels("stream", topic).set(lag)
        finally:
            await consumer.stop()
            await kafka.stop()

    def close(self) -> None:
        self.store.close()
