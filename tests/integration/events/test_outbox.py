"""The publish step's outbox: each alert id reaches Kafka once, re-runs send nothing twice."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from backend.events.kafka import decode
from backend.events.outbox import publish_alerts, read_outbox
from backend.lake.reader import read_gold_version
from backend.pipeline import steps
from backend.pipeline.context import RunContext
from backend.settings import Settings
from tests.services.gold import SCHEMAS, alert_rows, write_gold

pytestmark = pytest.mark.integration


async def topic_messages(bootstrap: str, topic: str) -> list[dict[str, object]]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        end = (await consumer.end_offsets([tp]))[tp]
        out: list[dict[str, object]] = []
        while await consumer.position(tp) < end:
            for messages in (await consumer.getmany(timeout_ms=500)).values():
                out.extend(p for m in messages if (p := decode(m.value)) is not None)
        return out
    finally:
        await consumer.stop()


def test_alerts_wait_in_the_outbox_without_kafka_then_go_once_each(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    embedded = Settings(env="test", lake_root=str(tmp_path / "lake"), warehouse_dir=tmp_path / "wh")
    first_day = alert_rows(date(2026, 10, 30))
    write_gold(embedded, "fct_stock_alerts", first_day, SCHEMAS["fct_stock_alerts"])

    # Embedded default: no Kafka. Alerts are recorded as pending, with a clear note.
    ctx = RunContext(start=date(2026, 10, 30), end=date(2026, 10, 30), settings=embedded)
    assert steps.publish(ctx) == {"alerts": 2, "new": 2, "sent": 0, "pending": 2}
    assert "NOVA_KAFKA_BOOTSTRAP unset" in ctx.report.notes[0]
    assert set(read_outbox(embedded).values()) == {"pending"}
    assert read_gold_version(embedded)["version"] == ctx.run_id  # type: ignore[index]

    # With Kafka: the pending ones go; a re-run sends nothing; a new day sends only its own.
    topic = f"stock-alerts-{uuid.uuid4().hex[:8]}"
    live = embedded.model_copy(update={"kafka_bootstrap": kafka_bootstrap, "alerts_topic": topic})
    assert publish_alerts(live, "run-2").sent == 2
    assert publish_alerts(live, "run-3").sent == 0
    write_gold(live, "fct_stock_alerts", first_day + alert_rows(date(2026, 10, 31)),
               SCHEMAS["fct_stock_alerts"])  # fmt: skip
    again = publish_alerts(live, "run-4")
    assert (again.alerts, again.new, again.sent) == (4, 2, 2)

    sent = asyncio.run(topic_messages(kafka_bootstrap, topic))
    ids = [m["alert_id"] for m in sent]
    assert len(ids) == len(set(ids)) == 4
    assert {m["source"] for m in sent} == {"daily"}
    assert set(read_outbox(live).values()) == {"sent"}


def test_publish_without_alert_table_only_bumps_the_version(settings: Settings) -> None:
    ctx = RunContext(start=date(2026, 10, 31), end=date(2026, 10, 31), settings=settings)
    assert steps.publish(ctx)["alerts"] == 0
    assert read_gold_version(settings)["version"] == ctx.run_id  # type: ignore[index]


def test_an_alert_episode_is_recorded_once_and_again_when_it_worsens(tmp_path: Path) -> None:
    settings = Settings(env="test", lake_root=str(tmp_path / "lake"), warehouse_dir=tmp_path / "wh")

    def day(alert_date: date, severity: str) -> list[dict[str, object]]:
        (row, _) = alert_rows(alert_date)
        # fct_stock_alerts keeps an episode's id from day to day
        return [{**row, "alert_id": "EPISODE-1", "severity": severity}]

    recorded = []
    for alert_date, severity in (
        (date(2026, 10, 29), "warning"),
        (date(2026, 10, 30), "warning"),  # the same episode, unchanged: nothing new
        (date(2026, 10, 31), "critical"),  # it worsened: the same id, recorded again
        (date(2026, 11, 1), "critical"),
    ):
        write_gold(settings, "fct_stock_alerts", day(alert_date, severity),
                   SCHEMAS["fct_stock_alerts"])  # fmt: skip
        recorded.append(publish_alerts(settings, f"run-{alert_date}").new)

    assert recorded == [1, 0, 1, 0]
    assert read_outbox(settings) == {
        ("EPISODE-1", "warning"): "pending",
        ("EPISODE-1", "critical"): "pending",
    }
