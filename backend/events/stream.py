"""`nova stream`: stock positions from `inventory-events`, alerts the moment one crosses.

Each item x depot position starts from gold ``fct_reorder_points`` (on hand and on order
as of its date) and moves with every ERP movement dated after that. When the position
falls to the reorder point (warning) or to the safety stock (critical) an alert goes to
`stock-alerts` at once. One processor instance per topic (it assigns itself every
partition, and re-reads the topic's partitions every ``NOVA_STREAM_REFRESH_SECONDS``).

What it guarantees under faults:

- Poison: a message that is not a valid movement (not JSON, a missing or mistyped field,
  an unknown movement type, item or depot, a quantity that is not finite, not positive
  where it must be, or absurd, a date more than a day ahead) is rejected on its own:
  counted (``nova_stream_rejected_total{reason}``), logged, and sent to the dead-letter
  topic with the reason. It never changes a position.
- Absurd quantity: ``|quantity|`` above ``NOVA_STREAM_MAX_QUANTITY``, or above
  ``NOVA_STREAM_ABSURD_FACTOR`` times the pair's scale: the largest of the largest movement
  accepted for the pair, gold's order-up-to level and gold's position (on hand + on order).
  A pair with no scale yet (no gold figures, nothing accepted) has only the hard cap.
- No lost alert: one SQLite transaction per batch saves the positions, the applied
  movements, the next offset of each partition and the batch's alerts and dead letters in
  an outbox. The outbox is sent (and emptied only for what Kafka acknowledged) before the
  next batch is read, and first thing after a restart or a reconnect. A crash or a Kafka
  error anywhere loses nothing; an alert may be sent twice (at least once), with the same
  id and severity, which consumers drop.
- A newer daily run: gold's figures as of its date already count every movement up to
  that date; the movements applied with later dates (kept in a journal) are re-applied on
  top of the new figures, not discarded.
- Before gold has reorder points (or items and depots) nothing is consumed: the
  movements wait in Kafka for the first daily run instead of being rejected as unknown.
- Kafka errors: the processor reconnects with exponential backoff (jittered, up to
  ``NOVA_STREAM_BACKOFF_MAX_SECONDS``) and carries on from its saved state; it does not exit.

Alert ids: an alert keeps its id for the pair's whole episode (ok -> warning/critical ->
ok). For a pair that gold's latest run alerts on, the id is gold's ``alert_id``; otherwise
it is the surrogate key of (item_id, depot_id, date of the movement that opened the
episode), computed the way dbt's ``surrogate_key`` macro does, so a daily run that sees the
same episode start on the same date gives it the same id. A worsening (warning ->
critical) is a new message with the same id and the new severity.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
import math
import random
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import astuple, dataclass, field, fields
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from prometheus_client import Counter, Gauge

from backend.events.kafka import admin, consumer, encode, ensure_topics, producer
from backend.events.metrics import CONSUMER_LAG
from backend.lake.reader import GoldReader, read_gold_version
from backend.settings import Settings

log = logging.getLogger(__name__)
GROUP_ID = "nova-stream"
LEVELS = {"ok": 0, "warning": 1, "critical": 2}
MOVEMENT_TYPES = ("consumption", "receipt", "adjustment")
MAX_ID_LENGTH = 64
BATCH_RECORDS = 500
FLUSH_CHUNK = 1000

EVENTS = Counter(
    "nova_stream_events_total",
    "Inventory events read by the stream processor, by outcome",
    ["outcome"],  # applied | in_gold (dated on or before gold's date) | rejected
)
REJECTED = Counter(
    "nova_stream_rejected_total", "Inventory events rejected as poison, by reason", ["reason"]
)
DEAD_LETTERED = Counter(
    "nova_stream_dead_lettered_total", "Rejected events acknowledged by the dead-letter topic"
)
ALERTS_SENT = Counter(
    "nova_stream_alerts_total", "Stream alerts acknowledged by Kafka", ["severity"]
)
CONNECTED = Gauge("nova_stream_connected", "1 while the stream processor is connected to Kafka")
RECONNECTS = Counter("nova_stream_reconnects_total", "Kafka sessions of the stream that failed")


class Rejected(Exception):
    """A message that is not a valid movement; ``reason`` is a short fixed label."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Movement:
    item_id: str
    depot_id: str
    movement_type: str
    quantity: float
    movement_date: str  # YYYY-MM-DD


def _reject_constant(name: str) -> Any:
    raise Rejected("non_finite_quantity", f"JSON constant {name}")


def _text_field(payload: dict[str, Any], name: str) -> str:
    if name not in payload or payload[name] is None:
        raise Rejected("missing_field", name)
    value = payload[name]
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_ID_LENGTH:
        raise Rejected("bad_field", f"{name} is not a short non-empty string")
    return value.strip()


def parse_movement(value: bytes | None, *, today: date, max_quantity: float) -> Movement:
    """The movement in a message, or :class:`Rejected` saying why it is not one."""
    if value is None:
        raise Rejected("not_json", "empty message")
    try:
        payload = json.loads(value, parse_constant=_reject_constant)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise Rejected("not_json", type(exc).__name__) from None
    if not isinstance(payload, dict):
        raise Rejected("not_json", f"a JSON {type(payload).__name__}, not an object")
    item, depot = _text_field(payload, "item_id"), _text_field(payload, "depot_id")
    kind = _text_field(payload, "movement_type").lower()
    if kind not in MOVEMENT_TYPES:
        raise Rejected("unknown_movement_type", repr(kind[:MAX_ID_LENGTH]))
    if payload.get("quantity") is None:
        raise Rejected("missing_field", "quantity")
    raw = payload["quantity"]
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise Rejected("bad_field", "quantity is not a number")
    try:
        qty = float(raw)
    except OverflowError:
        raise Rejected("non_finite_quantity", "beyond a double") from None
    if not math.isfinite(qty):
        raise Rejected("non_finite_quantity", repr(qty))
    if kind != "adjustment" and qty <= 0:
        raise Rejected("non_positive_quantity", f"{kind} of {qty:g}")
    if abs(qty) > max_quantity:
        raise Rejected("absurd_quantity", f"{qty:g} beyond the cap {max_quantity:g}")
    day_text = payload.get("movement_date")
    if day_text is None:
        raise Rejected("missing_field", "movement_date")
    try:
        day = date.fromisoformat(str(day_text)[:10])
    except ValueError:
        raise Rejected("bad_date", repr(str(day_text)[:40])) from None
    if day > today + timedelta(days=1):
        raise Rejected("future_date", day.isoformat())
    return Movement(item, depot, kind, qty, day.isoformat())


def episode_alert_id(item_id: str, depot_id: str, episode_start: str) -> str:
    """dbt's ``surrogate_key(['item_id', 'depot_id', 'episode_start_date'])`` as a string:
    the first 60 bits of md5("item|depot|YYYY-MM-DD") as a decimal integer."""
    digest = hashlib.md5(f"{item_id}|{depot_id}|{episode_start}".encode(), usedforsecurity=False)
    return str(int(digest.hexdigest()[:15], 16))


def _finite(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


@dataclass
class Position:
    item_id: str
    depot_id: str
    as_of_date: str  # movements on or before this date are already in the gold figures
    on_hand: float
    on_order: float
    reorder_point: float | None = None
    safety_stock: float | None = None
    order_up_to: float | None = None
    avg_daily_demand: float | None = None
    level: str = "ok"
    episode_id: str | None = None
    episode_start: str | None = None
    max_quantity: float = 0.0  # the largest |quantity| accepted for the pair

    @property
    def position(self) -> float:
        return self.on_hand + self.on_order

    def level_now(self) -> str:
        if self.safety_stock is not None and self.position <= self.safety_stock:
            return "critical"
        if self.reorder_point is not None and self.position <= self.reorder_point:
            return "warning"
        return "ok"

    def move(self, kind: str, qty: float) -> None:
        if kind == "consumption":
            self.on_hand -= qty
        elif kind == "receipt":
            self.on_hand += qty
            self.on_order = max(0.0, self.on_order - qty)
        else:  # adjustment, signed
            self.on_hand += qty


POSITION_COLUMNS = [f.name for f in fields(Position)]
_COLUMN_TYPES = {
    "item_id": "text",
    "depot_id": "text",
    "as_of_date": "text",
    "level": "text",
    "episode_id": "text",
    "episode_start": "text",
}


@dataclass
class Outgoing:
    topic: str
    key: bytes | None
    value: bytes


class StateStore:
    """Positions, offsets, the journal of applied movements and the outbox in one SQLite
    file; :meth:`commit` writes a batch's changes in one transaction."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(path)
        columns = ", ".join(f"{c} {_COLUMN_TYPES.get(c, 'real')}" for c in POSITION_COLUMNS)
        self.conn.executescript(
            f"""
            pragma journal_mode = wal;
            pragma synchronous = full;
            create table if not exists positions (
                {columns}, primary key (item_id, depot_id));
            create table if not exists offsets (
                topic text, partition integer, next_offset integer,
                primary key (topic, partition));
            create table if not exists journal (
                seq integer primary key autoincrement, item_id text, depot_id text,
                movement_date text, movement_type text, quantity real);
            create index if not exists journal_pair
                on journal (item_id, depot_id, movement_date);
            create table if not exists outbox (
                seq integer primary key autoincrement, topic text, key blob, value blob);
            """
        )
        # A state file from before these columns: add them (defaults: no episode, no scale).
        present = {row[1] for row in self.conn.execute("pragma table_info(positions)")}
        with self.conn:
            for name in POSITION_COLUMNS:
                if name not in present:
                    default = " default 0" if name == "max_quantity" else ""
                    kind = _COLUMN_TYPES.get(name, "real")
                    self.conn.execute(f"alter table positions add column {name} {kind}{default}")
        if "level" not in present:
            with self.conn:
                self.conn.execute("update positions set level = 'ok' where level is null")

    def positions(self) -> dict[tuple[str, str], Position]:
        rows = self.conn.execute(f"select {', '.join(POSITION_COLUMNS)} from positions")
        found = {}
        for row in rows.fetchall():
            pos = Position(*row)
            pos.level = pos.level or "ok"
            pos.max_quantity = pos.max_quantity or 0.0
            found[(pos.item_id, pos.depot_id)] = pos
        return found

    def offsets(self, topic: str) -> dict[int, int]:
        rows = self.conn.execute(
            "select partition, next_offset from offsets where topic = ?", (topic,)
        ).fetchall()
        return dict(rows)

    def journal_after(self, item_id: str, depot_id: str, day: str) -> list[tuple[str, float, str]]:
        """(type, quantity, date) of the pair's applied movements dated after ``day``."""
        return self.conn.execute(
            "select movement_type, quantity, movement_date from journal "
            "where item_id = ? and depot_id = ? and movement_date > ? order by seq",
            (item_id, depot_id, day),
        ).fetchall()

    def commit(
        self,
        *,
        positions: Iterable[Position] = (),
        journal: Iterable[tuple[str, str, str, str, float]] = (),
        prune: Iterable[tuple[str, str, str]] = (),
        topic: str | None = None,
        offsets: dict[int, int] | None = None,
        outbox: Iterable[Outgoing] = (),
    ) -> None:
        marks = ", ".join("?" for _ in POSITION_COLUMNS)
        with self.conn:
            self.conn.executemany(
                f"insert or replace into positions values ({marks})",
                [astuple(p) for p in positions],
            )
            self.conn.executemany(
                "insert into journal (item_id, depot_id, movement_date, movement_type, "
                "quantity) values (?, ?, ?, ?, ?)",
                list(journal),
            )
            self.conn.executemany(
                "delete from journal where item_id = ? and depot_id = ? and movement_date <= ?",
                list(prune),
            )
            if topic is not None and offsets:
                self.conn.executemany(
                    "insert or replace into offsets values (?, ?, ?)",
                    [(topic, p, o) for p, o in offsets.items()],
                )
            self.conn.executemany(
                "insert into outbox (topic, key, value) values (?, ?, ?)",
                [(o.topic, o.key, o.value) for o in outbox],
            )

    def pending(self, limit: int = FLUSH_CHUNK) -> list[tuple[int, str, bytes | None, bytes]]:
        """Outbox rows not yet acknowledged by Kafka, oldest first."""
        return self.conn.execute(
            "select seq, topic, key, value from outbox order by seq limit ?", (limit,)
        ).fetchall()

    def delivered(self, seqs: list[int]) -> None:
        with self.conn:
            self.conn.executemany("delete from outbox where seq = ?", [(s,) for s in seqs])

    def close(self) -> None:
        self.conn.close()


@dataclass
class GoldView:
    """What the stream needs from gold's latest published run."""

    reorder: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    items: set[str] = field(default_factory=set)
    depots: set[str] = field(default_factory=set)
    alerts: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        """Gold has something to check movements against (a daily run has published)."""
        return bool(self.reorder or (self.items and self.depots))

    def knows(self, item_id: str, depot_id: str) -> bool:
        if (item_id, depot_id) in self.reorder:
            return True
        return item_id in self.items and depot_id in self.depots


def load_gold(settings: Settings) -> GoldView:
    """Reorder points of gold's latest date, the known items and depots, and the alert ids
    of that date's alerts by item x depot (blocking: call it from a worker thread)."""
    reader = GoldReader(settings)
    view = GoldView()
    rows = reader.rows(
        "select * from delta_scan($t_fct_reorder_points) where as_of_date = "
        "(select max(as_of_date) from delta_scan($t_fct_reorder_points))",
        tables=["fct_reorder_points"],
    )
    view.reorder = {(r["item_id"], r["depot_id"]): r for r in rows}
    view.items = {
        r["item_id"]
        for r in reader.rows("select item_id from delta_scan($t_dim_items)", tables=["dim_items"])
    }
    view.depots = {
        r["depot_id"]
        for r in reader.rows(
            "select depot_id from delta_scan($t_dim_depots)", tables=["dim_depots"]
        )
    }
    if rows:
        as_of = max(r["as_of_date"] for r in rows)
        try:
            alerts = reader.rows(
                "select * from delta_scan($t_fct_stock_alerts) where alert_date = $as_of",
                tables=["fct_stock_alerts"],
                params={"as_of": as_of},
            )
        except Exception as exc:  # an older or newer shape of the table: no gold ids
            log.warning("stream: fct_stock_alerts unreadable (%s); stream ids only", exc)
            alerts = []
        view.alerts = {
            (str(a["item_id"]), str(a["depot_id"])): a for a in alerts if a.get("alert_id")
        }
    return view


class StreamProcessor:
    def __init__(
        self,
        settings: Settings,
        *,
        on_alert: Callable[[dict[str, Any]], None] | None = None,
        refresh_seconds: float | None = None,
        today: Callable[[], date] = date.today,
    ) -> None:
        self.settings = settings
        self.on_alert = on_alert
        self.refresh_seconds = refresh_seconds or settings.stream_refresh_seconds
        self.today = today  # a service's clock: only to reject movements dated ahead
        self.topic = settings.inventory_topic
        self.store = StateStore(settings.stream_state_path)
        self.positions = self.store.positions()
        self.next_offsets = self.store.offsets(self.topic)
        self.gold = GoldView()
        self._gold_version: object = None
        self._gold_loaded = False
        self.connected = False
        # This instance's counts (the Prometheus counters are per process).
        self.applied = 0
        self.in_gold = 0
        self.rejected: dict[str, int] = {}
        self.alerts_sent = 0
        self.dead_lettered = 0

    # --- gold -----------------------------------------------------------------------

    def refresh(self) -> None:
        """Re-read gold if a new version was published (blocking)."""
        version = read_gold_version(self.settings)
        if self._gold_loaded and self.gold.ready and version == self._gold_version:
            return
        view = load_gold(self.settings)
        self._gold_version, self._gold_loaded = version, True
        self.use_gold(view)

    async def refresh_async(self) -> None:
        try:
            version = await asyncio.to_thread(read_gold_version, self.settings)
            if self._gold_loaded and self.gold.ready and version == self._gold_version:
                return
            view = await asyncio.to_thread(load_gold, self.settings)
        except Exception as exc:  # gold unreadable for now: keep the figures we have
            log.warning("stream: cannot read gold (%s); keeping the current figures", exc)
            return
        self._gold_version, self._gold_loaded = version, True
        self.use_gold(view)

    def use_gold(self, view: GoldView) -> None:
        """Adopt gold's figures: every position older than its pair's gold row is rebuilt
        from that row plus the journal's movements dated after it."""
        self.gold = view
        rebased, prune, outbox = [], [], []
        for key, pos in self.positions.items():
            row = view.reorder.get(key)
            if row is None:
                continue
            self._thresholds(pos, row)
            gold_date = str(row["as_of_date"])
            if gold_date > pos.as_of_date:
                pos.as_of_date = gold_date
                pos.on_hand = _finite(row["on_hand"]) or 0.0
                pos.on_order = _finite(row["on_order"]) or 0.0
                last_day = gold_date
                for kind, qty, day in self.store.journal_after(*key, gold_date):
                    pos.move(kind, qty)
                    last_day = max(last_day, day)
                prune.append((*key, gold_date))
                if alert := self._assess(pos, last_day):
                    outbox.append(self._alert_message(alert))
            rebased.append(pos)
        self.store.commit(positions=rebased, prune=prune, outbox=outbox)

    @staticmethod
    def _thresholds(pos: Position, row: dict[str, Any]) -> None:
        pos.reorder_point = _finite(row.get("reorder_point"))
        pos.safety_stock = _finite(row.get("safety_stock"))
        pos.order_up_to = _finite(row.get("order_up_to"))
        pos.avg_daily_demand = _finite(row.get("avg_daily_demand"))

    def _position(self, item: str, depot: str) -> Position:
        key = (item, depot)
        current = self.positions.get(key)
        if current is None:
            row = self.gold.reorder.get(key)
            current = Position(item, depot, "0000-00-00", 0.0, 0.0)
            if row is not None:
                current.as_of_date = str(row["as_of_date"])
                current.on_hand = _finite(row["on_hand"]) or 0.0
                current.on_order = _finite(row["on_order"]) or 0.0
                self._thresholds(current, row)
            self.positions[key] = current
        return current

    def _scale(self, pos: Position) -> float:
        row = self.gold.reorder.get((pos.item_id, pos.depot_id))
        gold_position = 0.0
        if row is not None:
            gold_position = abs(
                (_finite(row["on_hand"]) or 0.0) + (_finite(row["on_order"]) or 0.0)
            )
        return max(pos.max_quantity, pos.order_up_to or 0.0, gold_position)

    # --- the logic, free of Kafka -------------------------------------------------

    def apply(self, movement: Movement) -> dict[str, Any] | None:
        """Apply one valid movement; the alert it raises, if any. :class:`Rejected` for a
        pair gold does not know or an absurd quantity for the pair."""
        if not self.gold.knows(movement.item_id, movement.depot_id):
            raise Rejected("unknown_item_depot", f"{movement.item_id} at {movement.depot_id}")
        pos = self._position(movement.item_id, movement.depot_id)
        if movement.movement_date <= pos.as_of_date:
            self.in_gold += 1
            EVENTS.labels("in_gold").inc()
            return None  # already counted in the gold snapshot
        scale = self._scale(pos)
        limit = self.settings.stream_absurd_factor * scale
        if scale > 0 and abs(movement.quantity) > limit:
            raise Rejected(
                "absurd_quantity",
                f"{movement.quantity:g} beyond {self.settings.stream_absurd_factor:g} x the "
                f"pair's scale {scale:g}",
            )
        pos.move(movement.movement_type, movement.quantity)
        pos.max_quantity = max(pos.max_quantity, abs(movement.quantity))
        self.applied += 1
        EVENTS.labels("applied").inc()
        return self._assess(pos, movement.movement_date)

    def _assess(self, pos: Position, day: str) -> dict[str, Any] | None:
        before, now = pos.level, pos.level_now()
        pos.level = now
        if now == "ok":
            pos.episode_id = pos.episode_start = None  # the episode is over
            return None
        gold_alert = self.gold.alerts.get((pos.item_id, pos.depot_id))
        if gold_alert is not None:  # gold already alerts on the pair: its id, its episode
            pos.episode_id = str(gold_alert["alert_id"])
            start = gold_alert.get("episode_start_date")
            pos.episode_start = str(start) if start else pos.episode_start or day
        elif pos.episode_id is None:
            pos.episode_start = day
            pos.episode_id = episode_alert_id(pos.item_id, pos.depot_id, day)
        if LEVELS[now] <= LEVELS.get(before, 0):
            return None
        return self._alert(pos, day, now)

    def _alert(self, pos: Position, day: str, severity: str) -> dict[str, Any]:
        days_left = None
        if pos.avg_daily_demand and pos.avg_daily_demand > 0:
            days_left = max(0, math.floor(pos.on_hand / pos.avg_daily_demand))
        threshold = pos.safety_stock if severity == "critical" else pos.reorder_point
        return {
            "alert_id": pos.episode_id,
            "episode_start_date": pos.episode_start,
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
                f"{'safety stock' if severity == 'critical' else 'reorder point'} "
                f"{threshold or 0.0:g}"
            ),
            "source": "stream",
            "raised_at": time.time(),
        }

    def _alert_message(self, alert: dict[str, Any]) -> Outgoing:
        return Outgoing(self.settings.alerts_topic, str(alert["alert_id"]).encode(), encode(alert))

    def _dead_letter(
        self, error: Rejected, partition: int, offset: int, key: bytes | None, value: bytes | None
    ) -> Outgoing:
        envelope: dict[str, Any] = {
            "reason": error.reason,
            "detail": error.detail,
            "topic": self.topic,
            "partition": partition,
            "offset": offset,
            "key": key.decode("utf-8", "replace") if key is not None else None,
        }
        try:
            envelope["value"] = value.decode() if value is not None else None
        except UnicodeDecodeError:
            envelope["value_base64"] = base64.b64encode(value or b"").decode()
        return Outgoing(self.settings.stream_dead_letter_topic, key, encode(envelope))

    def process(
        self, records: Iterable[tuple[int, int, bytes | None, bytes | None]]
    ) -> list[dict[str, Any]]:
        """Apply a batch of (partition, offset, key, value) and save its effects in one
        transaction (positions, journal, next offsets, alerts and dead letters to send).
        The batch's alerts, as queued in the outbox."""
        today = self.today()
        touched: dict[tuple[str, str], Position] = {}
        journal: list[tuple[str, str, str, str, float]] = []
        outbox: list[Outgoing] = []
        alerts: list[dict[str, Any]] = []
        offsets: dict[int, int] = {}
        for partition, offset, key, value in records:
            offsets[partition] = offset + 1
            try:
                movement = parse_movement(
                    value, today=today, max_quantity=self.settings.stream_max_quantity
                )
                alert = self.apply(movement)
            except Rejected as error:
                self.rejected[error.reason] = self.rejected.get(error.reason, 0) + 1
                REJECTED.labels(error.reason).inc()
                EVENTS.labels("rejected").inc()
                log.warning("stream: rejected %s[%d]@%d: %s", self.topic, partition, offset, error)
                outbox.append(self._dead_letter(error, partition, offset, key, value))
                continue
            pair = (movement.item_id, movement.depot_id)
            touched[pair] = self.positions[pair]
            if movement.movement_date > touched[pair].as_of_date:
                journal.append((*pair, movement.movement_date, movement.movement_type,
                                movement.quantity))  # fmt: skip
            if alert is not None:
                alerts.append(alert)
                outbox.append(self._alert_message(alert))
        self.store.commit(
            positions=touched.values(), journal=journal, topic=self.topic, offsets=offsets,
            outbox=outbox,
        )  # fmt: skip
        self.next_offsets.update(offsets)
        return alerts

    # --- the Kafka loop -------------------------------------------------------------

    async def flush(self, kafka: Any) -> None:
        """Send the outbox in order; a row leaves it only once Kafka acknowledged it."""
        while rows := self.store.pending():
            futures = [await kafka.send(topic, value, key=key) for _, topic, key, value in rows]
            await asyncio.gather(*futures)
            self.store.delivered([seq for seq, *_ in rows])
            for _, topic, _, value in rows:
                if topic == self.settings.stream_dead_letter_topic:
                    self.dead_lettered += 1
                    DEAD_LETTERED.inc()
                    continue
                alert = json.loads(value)
                self.alerts_sent += 1
                ALERTS_SENT.labels(alert["severity"]).inc()
                if self.on_alert:
                    self.on_alert(alert)

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Consume until ``stop`` is set; Kafka errors mean reconnecting, never exiting."""
        from aiokafka.errors import KafkaError

        if not self.settings.kafka_bootstrap:
            raise RuntimeError("`nova stream` needs Kafka: set NOVA_KAFKA_BOOTSTRAP")
        stop = stop or asyncio.Event()
        delay = 0.5
        while not stop.is_set():
            self._progressed = False
            try:
                await self._session(stop)
            except (KafkaError, OSError) as exc:
                RECONNECTS.inc()
                if self._progressed:
                    delay = 0.5
                wait = delay * random.uniform(0.8, 1.2)
                log.warning(
                    "stream: Kafka error (%s: %s); reconnecting in %.1fs",
                    type(exc).__name__, exc, wait,
                )  # fmt: skip
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), wait)
                delay = min(delay * 2, self.settings.stream_backoff_max_seconds)

    async def _session(self, stop: asyncio.Event) -> None:
        from aiokafka import TopicPartition
        from aiokafka.errors import KafkaError
        from aiokafka.structs import OffsetAndMetadata

        bootstrap = self.settings.kafka_bootstrap
        assert bootstrap
        await ensure_topics(
            bootstrap, self.settings.alerts_topic, self.settings.stream_dead_letter_topic,
            settings=self.settings,
        )  # fmt: skip
        admin_client = admin(bootstrap, self.settings)
        reader = consumer(
            bootstrap, self.settings, group_id=GROUP_ID, enable_auto_commit=False,
            auto_offset_reset="earliest", fetch_max_wait_ms=20,
        )  # fmt: skip
        kafka = producer(bootstrap, self.settings)
        stoppers: list[Callable[[], Any]] = []
        try:
            await admin_client.start()
            stoppers.append(admin_client.close)
            await reader.start()
            stoppers.append(reader.stop)
            await kafka.start()
            stoppers.append(kafka.stop)
            self.connected = True
            CONNECTED.set(1)
            await self.flush(kafka)  # what a crash or a Kafka error left unsent
            assigned: list[Any] = []
            due = 0.0
            while not stop.is_set():
                if time.monotonic() >= due:
                    await self.refresh_async()
                    await self.flush(kafka)
                    assigned = await self._assign(admin_client, reader, assigned)
                    due = time.monotonic() + self.refresh_seconds
                    # Also while nothing is consumed (no gold yet, an idle topic): the lag
                    # that builds up then is what an operator needs to see.
                    await self._record_lag(reader, assigned, ask_broker=True)
                    if not self.gold.ready:
                        log.info("stream: waiting for gold's reorder points (a daily run)")
                if not assigned or not self.gold.ready:
                    # Without gold nothing can be checked: the events wait in Kafka rather
                    # than all going to the dead-letter topic as unknown pairs.
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), min(0.5, self.refresh_seconds))
                    continue
                batches = await reader.getmany(timeout_ms=100, max_records=BATCH_RECORDS)
                if not batches:
                    continue
                records = [
                    (tp.partition, m.offset, m.key, m.value)
                    for tp, messages in batches.items()
                    for m in messages
                ]
                self.process(records)
                await self.flush(kafka)
                self._progressed = True
                with contextlib.suppress(KafkaError):  # the SQLite offsets are the truth
                    await reader.commit(
                        {
                            TopicPartition(self.topic, p): OffsetAndMetadata(o, "")
                            for p, o in self.next_offsets.items()
                        }
                    )
                await self._record_lag(reader, assigned)
        finally:
            self.connected = False
            CONNECTED.set(0)
            for stopper in reversed(stoppers):
                with contextlib.suppress(Exception):
                    await stopper()

    async def _record_lag(self, reader: Any, assigned: list[Any], ask_broker: bool = False) -> None:
        """Consumer lag per partition (``nova_kafka_consumer_lag{consumer="stream"}``):
        messages between the next one to read and the partition's end. The end is the
        high watermark of the last fetch, or asked of the broker (``ask_broker``) when
        nothing may have been fetched for a while."""
        from aiokafka.errors import KafkaError

        if not assigned:
            return
        try:
            if ask_broker:
                ends = await reader.end_offsets(assigned)
            else:
                ends = {tp: reader.highwater(tp) for tp in assigned}
            for tp in assigned:
                if ends.get(tp) is None:
                    continue
                behind = max(0, ends[tp] - await reader.position(tp))
                CONSUMER_LAG.labels("stream", self.topic, str(tp.partition)).set(behind)
        except KafkaError as exc:  # the session's next Kafka call reconnects if need be
            log.debug("stream: lag not measured: %s", exc)

    async def _assign(self, admin_client: Any, reader: Any, assigned: list[Any]) -> list[Any]:
        """Assign every partition of the topic, re-checked each refresh: a topic created
        after the start, or partitions added later, are picked up."""
        from aiokafka import TopicPartition

        # List first: asking for a missing topic's metadata may create it on some brokers.
        if self.topic not in await admin_client.list_topics():
            if not assigned:
                log.info("stream: waiting for topic %r", self.topic)
            return assigned
        described = await admin_client.describe_topics([self.topic])
        partitions = sorted(
            p["partition"]
            for d in described
            if d.get("topic") == self.topic and d.get("error_code") == 0
            for p in d.get("partitions", [])
        )
        if not partitions or len(partitions) == len(assigned):
            return assigned
        tps = [TopicPartition(self.topic, p) for p in partitions]
        reader.assign(tps)
        for tp in tps:
            if tp.partition in self.next_offsets:  # our own state is the truth
                reader.seek(tp, self.next_offsets[tp.partition])
            elif (committed := await reader.committed(tp)) is not None:
                reader.seek(tp, committed)
            else:
                await reader.seek_to_beginning(tp)
        log.info("stream: consuming %s partitions %s", self.topic, partitions)
        return tps

    def close(self) -> None:
        self.store.close()
