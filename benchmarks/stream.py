"""Stream benchmark: `nova stream` fed N inventory events (1% poison) on a real
Kafka-protocol broker (Tansu, from the tests' services), 3 partitions keyed by item x depot.

The events are produced first; the processor then starts and runs until it has consumed
every event and Kafka acknowledged every alert and dead letter. Figures: events/s of the
processor (consume, validate, apply, save, send), alerts delivered on `stock-alerts`
(distinct alert id x severity) vs the alerts an independent replay of the valid events
expects, and poison sent vs counted vs dead-lettered.

    uv run --no-sync python benchmarks/stream.py [--events 100000] [--poison 0.01]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import logging
import random
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from backend.events.kafka import encode, ensure_topics, producer
from backend.events.stream import StreamProcessor
from backend.settings import Settings
from tests.services.gold import SCHEMAS, write_gold
from tests.services.kafka import kafka_broker

AS_OF = date(2026, 10, 31)
TODAY = date(2026, 11, 30)
ITEMS = [f"ITM{n:04d}" for n in range(100)]
DEPOTS = ["DEP01", "DEP02", "DEP03", "DEP04"]
PARTITIONS = 3
# On hand 60, reorder point 40, safety stock 15, order-up-to 120 for every pair.
ON_HAND, REORDER_POINT, SAFETY_STOCK, ORDER_UP_TO = 60.0, 40.0, 15.0, 120.0
GOLD_ALERTED = [(ITEMS[n], DEPOTS[0]) for n in range(10)]  # pairs gold alerts on
POISON_KINDS = [
    b'{"item_id":"ITM0001","depot_id":"DEP01","movement_type":"consumption",'
    b'"quantity":Infinity,"movement_date":"2026-11-02"}',
    b'{"item_id":"ITM0001","depot_id":"DEP01","movement_type":"consumption",'
    b'"quantity":NaN,"movement_date":"2026-11-02"}',
    b'{"item_id":"ITM0001","depot_id":"DEP01","movement_type":"receipt",'
    b'"quantity":1e309,"movement_date":"2026-11-02"}',
    encode({"item_id": "ITM0002", "depot_id": "DEP02", "movement_type": "consumption",
            "quantity": -3, "movement_date": "2026-11-02"}),
    encode({"item_id": "ITM0003", "depot_id": "DEP03", "movement_type": "receipt",
            "quantity": 10**12, "movement_date": "2026-11-02"}),
    b'{"item_id": "ITM0004", "depot_id": ',
    encode({"item_id": "ITM0005", "movement_type": "consumption", "quantity": 1,
            "movement_date": "2026-11-02"}),
    encode({"item_id": "ITM9999", "depot_id": "DEP01", "movement_type": "consumption",
            "quantity": 1, "movement_date": "2026-11-02"}),
    encode({"item_id": "ITM0006", "depot_id": "DEP01", "movement_type": "consumption",
            "quantity": 1, "movement_date": "2031-01-01"}),
]  # fmt: skip


@dataclass
class Workload:
    messages: list[tuple[bytes, bytes]] = field(default_factory=list)  # (key, value)
    poison: int = 0
    expected: set[tuple[str, str]] = field(default_factory=set)  # (alert_id, severity)


def gold_alert_id(item: str, depot: str) -> str:
    return f"gold-{item}-{depot}"


def stream_alert_id(item: str, depot: str, day: str) -> str:
    """dbt's surrogate_key(item_id, depot_id, episode_start_date), written out again here
    so the expectation does not reuse the code under test."""
    digest = hashlib.md5(f"{item}|{depot}|{day}".encode(), usedforsecurity=False).hexdigest()
    return str(int(digest[:15], 16))


def workload(events: int, poison_share: float, seed: int = 7) -> Workload:
    """Valid movements over 20 days after gold's date, poison spread among them, and the
    alerts the valid ones must raise (replayed independently, pair by pair)."""
    rng = random.Random(seed)
    work = Workload()
    state: dict[tuple[str, str], dict[str, Any]] = {}
    every = round(1 / poison_share) if poison_share > 0 else 0
    for n in range(events):
        if every and n % every == every // 2:
            value = POISON_KINDS[work.poison % len(POISON_KINDS)]
            work.messages.append((b"poison", value))
            work.poison += 1
            continue
        item, depot = rng.choice(ITEMS), rng.choice(DEPOTS)
        day = (AS_OF + timedelta(days=1 + n * 20 // events)).isoformat()
        roll = rng.random()
        if roll < 0.75:
            kind, qty = "consumption", float(rng.randint(1, 6))
        elif roll < 0.83:  # receipts about balance consumption: positions wander
            kind, qty = "receipt", float(rng.randint(10, 60))
        else:
            kind, qty = "adjustment", float(rng.choice([-3, -2, -1, 1, 2, 3]))
        event = {"item_id": item, "depot_id": depot, "movement_type": kind, "quantity": qty,
                 "movement_date": day}  # fmt: skip
        work.messages.append((f"{item}|{depot}".encode(), encode(event)))
        pair = state.setdefault((item, depot), {"on_hand": ON_HAND, "level": 0, "id": None})
        pair["on_hand"] += -qty if kind == "consumption" else qty
        position = pair["on_hand"]  # on order is 0 throughout
        level = 2 if position <= SAFETY_STOCK else 1 if position <= REORDER_POINT else 0
        if level == 0:
            pair["id"] = None
        elif pair["id"] is None:
            alerted = (item, depot) in GOLD_ALERTED
            pair["id"] = (
                gold_alert_id(item, depot) if alerted else stream_alert_id(item, depot, day)
            )
        if level > pair["level"]:
            work.expected.add((pair["id"], "critical" if level == 2 else "warning"))
        pair["level"] = level
    return work


def write_gold_tables(settings: Settings) -> None:
    rows = [
        {"as_of_date": AS_OF, "item_id": item, "depot_id": depot, "demand_class": "smooth",
         "service_level": 0.95, "lead_time_days": 7.0, "avg_daily_demand": 3.0,
         "demand_std_lead_time": 4.0, "safety_stock": SAFETY_STOCK,
         "reorder_point": REORDER_POINT, "order_up_to": ORDER_UP_TO, "on_hand": ON_HAND,
         "on_order": 0.0, "suggested_order_qty": 0.0, "unit_cost": 10.0}
        for item in ITEMS for depot in DEPOTS
    ]  # fmt: skip
    write_gold(settings, "fct_reorder_points", rows, SCHEMAS["fct_reorder_points"])
    alerts = [
        {"alert_id": gold_alert_id(item, depot), "alert_date": AS_OF, "item_id": item,
         "depot_id": depot, "severity": "warning", "on_hand": ON_HAND, "on_order": 0.0,
         "projected_position": ON_HAND - 21.0, "reorder_point": REORDER_POINT,
         "safety_stock": SAFETY_STOCK, "suggested_order_qty": 60.0, "days_to_stockout": None,
         "message": "gold alert"}
        for item, depot in GOLD_ALERTED
    ]  # fmt: skip
    write_gold(settings, "fct_stock_alerts", alerts, SCHEMAS["fct_stock_alerts"])


async def read_all(settings: Settings, topic: str) -> list[dict[str, Any]]:
    from aiokafka import AIOKafkaConsumer, TopicPartition

    reader = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False)
    await reader.start()
    try:
        tp = TopicPartition(topic, 0)
        reader.assign([tp])
        await reader.seek_to_beginning(tp)
        end = (await reader.end_offsets([tp]))[tp]
        found: list[dict[str, Any]] = []
        while await reader.position(tp) < end:
            for messages in (await reader.getmany(timeout_ms=500, max_records=5000)).values():
                found += [json.loads(m.value) for m in messages]
        return found
    finally:
        await reader.stop()


async def measure(settings: Settings, work: Workload) -> dict[str, Any]:
    bootstrap = str(settings.kafka_bootstrap)
    await ensure_topics(bootstrap, settings.inventory_topic, partitions=PARTITIONS)
    kafka = producer(bootstrap, linger_ms=5)
    await kafka.start()
    try:
        for start in range(0, len(work.messages), 5000):
            chunk = work.messages[start : start + 5000]
            futures = [await kafka.send(settings.inventory_topic, v, key=k) for k, v in chunk]
            await asyncio.gather(*futures)
    finally:
        await kafka.stop()

    processor = StreamProcessor(settings, today=lambda: TODAY)
    stop = asyncio.Event()
    began = time.perf_counter()
    task = asyncio.create_task(processor.run(stop))
    try:
        while sum(processor.next_offsets.values()) < len(work.messages) or processor.store.pending(
            1
        ):
            if task.done():
                raise RuntimeError(f"the processor stopped: {task.exception()!r}")
            await asyncio.sleep(0.05)
        seconds = time.perf_counter() - began
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)
        processor.close()
    alerts = await read_all(settings, settings.alerts_topic)
    letters = await read_all(settings, settings.stream_dead_letter_topic)
    delivered = {(a["alert_id"], a["severity"]) for a in alerts}
    return {
        "events": len(work.messages),
        "seconds": seconds,
        "events_per_second": len(work.messages) / seconds,
        "alerts_expected": len(work.expected),
        "alerts_delivered": len(delivered),
        "alert_messages": len(alerts),
        "alerts_missing": len(work.expected - delivered),
        "alerts_unexpected": len(delivered - work.expected),
        "poison_sent": work.poison,
        "poison_counted": sum(processor.rejected.values()),
        "dead_lettered": len(letters),
        "rejected_by_reason": dict(sorted(processor.rejected.items())),
        "applied": processor.applied,
        "crashed": False,
    }


def run_benchmark(
    events: int, poison_share: float, workdir: Path, bootstrap: str
) -> dict[str, Any]:
    tag = f"{events}-{time.monotonic_ns()}"
    settings = Settings(
        env="test", lake_root=str(workdir / "lake"), warehouse_dir=workdir / "wh",
        kafka_bootstrap=bootstrap, inventory_topic=f"bench-inventory-{tag}",
        alerts_topic=f"bench-alerts-{tag}", stream_dead_letter_topic=f"bench-dlq-{tag}",
        stream_refresh_seconds=1.0, stream_metrics_port=0,
    )  # fmt: skip
    write_gold_tables(settings)
    return asyncio.run(measure(settings, workload(events, poison_share)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--poison", type=float, default=0.01, help="share of poison events")
    args = parser.parse_args()
    # Each rejected event logs a warning: a thousand lines would bury the figures.
    logging.getLogger("backend.events.stream").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="nova-stream-bench-") as tmp, kafka_broker() as kafka:
        result = run_benchmark(args.events, args.poison, Path(tmp), kafka)
    print(f"events                 {result['events']:,}")
    print(f"processing time        {result['seconds']:.1f} s")
    print(f"events/s               {result['events_per_second']:,.0f}")
    print(f"valid events applied   {result['applied']:,}")
    print(f"alerts expected        {result['alerts_expected']:,} (alert id x severity)")
    print(f"alerts delivered       {result['alerts_delivered']:,} distinct, "
          f"{result['alert_messages']:,} messages; missing {result['alerts_missing']}, "
          f"unexpected {result['alerts_unexpected']}")  # fmt: skip
    print(f"poison sent            {result['poison_sent']:,}")
    print(f"poison counted         {result['poison_counted']:,} {result['rejected_by_reason']}")
    print(f"dead-lettered          {result['dead_lettered']:,}")
    print("crashes                none (the processor ran until stopped)")


if __name__ == "__main__":
    main()
