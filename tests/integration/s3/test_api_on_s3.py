"""The API serving gold from S3, and the alert outbox on S3 reaching Kafka once per alert."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest

from backend.appdb import upgrade
from backend.appdb.keys import create_key
from backend.events.outbox import outbox_uri, publish_alerts, read_outbox
from backend.lake import delta
from backend.lake.gold import gold_tables
from backend.lake.reader import read_gold_version, write_gold_version
from backend.settings import Settings
from tests.integration.events.test_outbox import topic_messages
from tests.services.api import api_server
from tests.services.gold import SCHEMAS, alert_rows, build_gold, forecast_rows, write_gold
from tests.services.redis import RedisServer
from tests.services.s3 import S3Server

pytestmark = [pytest.mark.integration, pytest.mark.s3]


@pytest.fixture(scope="module")
def gold_on_s3(
    s3: S3Server, redis: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    root: Path = tmp_path_factory.mktemp("s3-api")
    settings = s3.settings(
        f"api-{uuid.uuid4().hex[:8]}",
        env="test",
        warehouse_dir=root / "warehouse",
        redis_url=redis.url,
        gold_version_poll_seconds=0.1,
    )
    build_gold(settings, version="v1")
    return settings


@pytest.fixture(scope="module")
def client(gold_on_s3: Settings) -> Iterator[httpx.Client]:
    _, key = create_key(upgrade(gold_on_s3), role="viewer", name="s3 viewer")
    with (
        api_server(gold_on_s3) as server,
        httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
        ) as http,
    ):
        yield http


def test_the_api_reads_gold_from_s3(client: httpx.Client, gold_on_s3: Settings) -> None:
    health = client.get("/health").json()
    assert health["gold_version"] == "v1"
    assert health["dependencies"]["lake"]["status"] == "ok", health
    assert client.get("/api/v1/items").json()["count"] == 3
    assert client.get("/api/v1/items/ITM002").json()["category"] == "radio"
    assert client.get("/api/v1/inventory").json()["count"] == 6
    assert client.get("/api/v1/forecasts").json()["count"] == 6 * 14
    critical = client.get("/api/v1/alerts", params={"severity": "critical"}).json()
    assert [a["item_id"] for a in critical["data"]] == ["ITM001"]


def test_a_new_gold_version_on_s3_turns_the_cache_over(
    client: httpx.Client, gold_on_s3: Settings
) -> None:
    params: dict[str, str | int] = {"item_id": "ITM002", "depot_id": "DEP01", "limit": 1}
    before = client.get("/api/v1/forecasts", params=params).json()["data"][0]["yhat"]
    write_gold(gold_on_s3, "fct_forecasts", forecast_rows(level=50.0), SCHEMAS["fct_forecasts"])
    # Same version: the cached answer stands (so the next one proves the version was read).
    assert client.get("/api/v1/forecasts", params=params).json()["data"][0]["yhat"] == before
    write_gold_version(gold_on_s3, "v2")
    assert read_gold_version(gold_on_s3)["version"] == "v2"  # type: ignore[index]
    deadline, after = time.monotonic() + 10, before
    while after == before and time.monotonic() < deadline:
        time.sleep(0.1)
        after = client.get("/api/v1/forecasts", params=params).json()["data"][0]["yhat"]
    assert (before, after) == (6.0, 51.0)
    assert client.get("/health").json()["gold_version"] == "v2"


def test_the_outbox_on_s3_sends_each_alert_once(s3_settings: Settings, kafka_bootstrap: str):
    # A fresh prefix: nothing published yet reads as nothing, not as an error.
    assert read_gold_version(s3_settings) is None
    assert gold_tables(s3_settings) == [] and read_outbox(s3_settings) == {}
    first_day = alert_rows(date(2026, 10, 30))
    write_gold(s3_settings, "fct_stock_alerts", first_day, SCHEMAS["fct_stock_alerts"])
    assert publish_alerts(s3_settings, "run-1").pending == 2  # no Kafka: they wait
    assert delta.table_exists(outbox_uri(s3_settings), s3_settings)
    assert outbox_uri(s3_settings).startswith("s3://")

    topic = f"stock-alerts-{uuid.uuid4().hex[:8]}"
    live = s3_settings.model_copy(
        update={"kafka_bootstrap": kafka_bootstrap, "alerts_topic": topic}
    )
    assert publish_alerts(live, "run-2").sent == 2  # a MERGE of the outbox on S3
    assert publish_alerts(live, "run-3").sent == 0
    both_days = first_day + alert_rows(date(2026, 10, 31))
    write_gold(live, "fct_stock_alerts", both_days, SCHEMAS["fct_stock_alerts"])
    again = publish_alerts(live, "run-4")

    assert (again.alerts, again.new, again.sent) == (4, 2, 2)
    sent = asyncio.run(topic_messages(kafka_bootstrap, topic))
    ids = [m["alert_id"] for m in sent]
    assert len(ids) == len(set(ids)) == 4
    # keyed by (alert id, severity): a worsening of the same episode is a new message
    assert read_outbox(live) == {(a["alert_id"], a["severity"]): "sent" for a in both_days}
