"""The stream processor's logic without Kafka: poison, absurd quantities, a newer gold run,
alert ids. Batches go through ``process`` (what the Kafka loop calls); what it would send
is read back from the state's outbox."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from prometheus_client import REGISTRY

from backend.events.stream import StateStore, StreamProcessor, episode_alert_id
from backend.lake.reader import write_gold_version
from backend.settings import Settings
from tests.services.gold import SCHEMAS, alert_rows, reorder_rows, write_gold

pytestmark = pytest.mark.reliability
TODAY = date(2026, 11, 20)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        env="test", lake_root=str(tmp_path / "lake"), warehouse_dir=tmp_path / "wh",
        alerts_topic="alerts", inventory_topic="inventory",
    )  # fmt: skip


def movement(
    item: str, kind: str, qty: Any, day: str = "2026-11-01", depot: str = "DEP01"
) -> bytes:
    return json.dumps({"item_id": item, "depot_id": depot, "movement_type": kind,
                       "quantity": qty, "movement_date": day}).encode()  # fmt: skip


def processor(settings: Settings) -> StreamProcessor:
    p = StreamProcessor(settings, today=lambda: TODAY)
    p.refresh()
    return p


def feed(p: StreamProcessor, *values: bytes | None) -> list[dict[str, Any]]:
    start = p.next_offsets.get(0, 0)
    return p.process([(0, start + n, b"k", v) for n, v in enumerate(values)])


def outbox(settings: Settings) -> list[tuple[str, dict[str, Any]]]:
    store = StateStore(settings.stream_state_path)
    try:
        return [(topic, json.loads(value)) for _, topic, _, value in store.pending()]
    finally:
        store.close()


POISON = [
    pytest.param(b'{"item_id":"ITM001","depot_id":"DEP01","movement_type":"consumption",'
                 b'"quantity":Infinity,"movement_date":"2026-11-01"}',
                 "non_finite_quantity", id="inf"),
    pytest.param(b'{"item_id":"ITM001","depot_id":"DEP01","movement_type":"consumption",'
                 b'"quantity":NaN,"movement_date":"2026-11-01"}', "non_finite_quantity", id="nan"),
    pytest.param(b'{"item_id":"ITM001","depot_id":"DEP01","movement_type":"receipt",'
                 b'"quantity":1e309,"movement_date":"2026-11-01"}',
                 "non_finite_quantity", id="1e309"),
    pytest.param(movement("ITM001", "consumption", 10**400), "non_finite_quantity", id="huge-int"),
    pytest.param(movement("ITM001", "consumption", -5), "non_positive_quantity", id="negative"),
    pytest.param(movement("ITM001", "receipt", 0), "non_positive_quantity", id="zero-receipt"),
    pytest.param(movement("ITM001", "receipt", 1e12), "absurd_quantity", id="1e12"),
    pytest.param(movement("ITM001", "adjustment", -5e6), "absurd_quantity", id="absurd-adjustment"),
    pytest.param(movement("ITM001", "consumption", "5"), "bad_field", id="text-quantity"),
    pytest.param(movement("ITM001", "consumption", True), "bad_field", id="bool-quantity"),
    pytest.param(b'{"item_id": "ITM001", "depot_id"', "not_json", id="malformed-json"),
    pytest.param(b"\xff\xfe\x00", "not_json", id="binary"),
    pytest.param(b"[1, 2]", "not_json", id="json-list"),
    pytest.param(None, "not_json", id="tombstone"),
    pytest.param(b'{"item_id":"ITM001","movement_type":"consumption","quantity":1,'
                 b'"movement_date":"2026-11-01"}', "missing_field", id="no-depot"),
    pytest.param(b'{"item_id":"ITM001","depot_id":"DEP01","movement_type":"consumption",'
                 b'"movement_date":"2026-11-01"}', "missing_field", id="no-quantity"),
    pytest.param(movement("ITM001", "theft", 1), "unknown_movement_type", id="unknown-type"),
    pytest.param(movement("ITM001", "consumption", 1, day="2026-13-45"), "bad_date", id="bad-date"),
    pytest.param(movement("ITM001", "consumption", 1, day="2031-01-01"), "future_date",
                 id="future-date"),
    pytest.param(movement("ITM999", "consumption", 1), "unknown_item_depot", id="unknown-item"),
    pytest.param(movement("ITM001", "consumption", 1, depot="DEP99"), "unknown_item_depot",
                 id="unknown-depot"),
]  # fmt: skip


@pytest.mark.parametrize(("poison", "reason"), POISON)
def test_poison_is_rejected_counted_dead_lettered_and_never_changes_a_position(
    settings: Settings, poison: bytes | None, reason: str
) -> None:
    write_gold(settings, "fct_reorder_points", reorder_rows(), SCHEMAS["fct_reorder_points"])
    before = REGISTRY.get_sample_value("nova_stream_rejected_total", {"reason": reason}) or 0.0
    p = processor(settings)
    feed(
        p,
        movement("ITM001", "consumption", 3),
        poison,
        movement("ITM001", "consumption", 4, day="2026-11-02"),
    )
    assert p.rejected == {reason: 1}
    assert p.applied == 2
    assert REGISTRY.get_sample_value("nova_stream_rejected_total", {"reason": reason}) == before + 1
    # The saved state holds the two valid movements only, with finite numbers.
    p.close()
    saved = StateStore(settings.stream_state_path)
    assert saved.positions()[("ITM001", "DEP01")].on_hand == 13.0
    assert saved.offsets("inventory") == {0: 3}
    saved.close()
    letters = [m for topic, m in outbox(settings) if topic == settings.stream_dead_letter_topic]
    assert len(letters) == 1
    assert letters[0]["reason"] == reason and letters[0]["offset"] == 1
    assert letters[0]["detail"]
    if poison is not None and reason != "not_json":
        assert letters[0]["value"] == poison.decode()  # the original, for a replay


def test_absurd_is_judged_against_the_pair_scale_and_the_hard_cap(settings: Settings) -> None:
    # Gold: on hand 20, order-up-to 30 -> scale 30; factor 50 -> at most 1,500 units.
    write_gold(settings, "fct_reorder_points", reorder_rows(), SCHEMAS["fct_reorder_points"])
    p = processor(settings)
    feed(p, movement("ITM001", "receipt", 1_400), movement("ITM002", "receipt", 1_600))
    assert p.applied == 1 and p.rejected == {"absurd_quantity": 1}
    # The largest accepted movement raises ITM001's scale: 50 x 1,400 = 70,000.
    feed(p, movement("ITM001", "receipt", 80_000), movement("ITM001", "receipt", 60_000))
    assert p.applied == 2 and p.rejected == {"absurd_quantity": 2}
    assert p.positions[("ITM001", "DEP01")].on_hand == 20 + 1_400 + 60_000
    # The hard cap holds whatever the scale.
    capped = Settings(**{**settings.model_dump(), "stream_max_quantity": 50_000.0})
    q = StreamProcessor(capped, today=lambda: TODAY)
    q.refresh()
    feed(q, movement("ITM001", "receipt", 50_001))
    assert q.rejected == {"absurd_quantity": 1}


def test_a_newer_gold_run_keeps_the_movements_dated_after_it(settings: Settings) -> None:
    write_gold(settings, "fct_reorder_points", reorder_rows(), SCHEMAS["fct_reorder_points"])
    write_gold_version(settings, "v1")
    p = processor(settings)
    feed(
        p,
        movement("ITM001", "consumption", 3, day="2026-11-01"),
        movement("ITM001", "consumption", 4, day="2026-11-02"),
        movement("ITM001", "receipt", 2, day="2026-11-03"),
    )
    assert p.positions[("ITM001", "DEP01")].on_hand == 15.0
    # The run of 2026-11-01 publishes: its on hand (17) counts 11-01's consumption, not later.
    write_gold(settings, "fct_reorder_points", reorder_rows(date(2026, 11, 1), on_hand=17.0),
               SCHEMAS["fct_reorder_points"])  # fmt: skip
    write_gold_version(settings, "v2")
    p.refresh()
    pos = p.positions[("ITM001", "DEP01")]
    assert (pos.as_of_date, pos.on_hand) == ("2026-11-01", 17.0 - 4 + 2)
    # The journal keeps only what the new figures do not count; the state says the same.
    assert p.store.journal_after("ITM001", "DEP01", "0000-00-00") == [
        ("consumption", 4.0, "2026-11-02"), ("receipt", 2.0, "2026-11-03"),
    ]  # fmt: skip
    p.close()
    restarted = processor(settings)
    assert restarted.positions[("ITM001", "DEP01")].on_hand == 15.0
    feed(restarted, movement("ITM001", "consumption", 1, day="2026-11-01"))  # in gold already
    assert restarted.applied == 0 and restarted.in_gold == 1


def test_alert_ids_follow_the_episode_and_gold(settings: Settings) -> None:
    write_gold(settings, "fct_reorder_points", reorder_rows(), SCHEMAS["fct_reorder_points"])
    # Gold's latest run alerts on ITM001 at DEP01 (id "A-20261031-ITM001-DEP01").
    write_gold(settings, "fct_stock_alerts", alert_rows(), SCHEMAS["fct_stock_alerts"])
    p = processor(settings)
    gold_pair = feed(p, movement("ITM001", "consumption", 11))
    assert [a["alert_id"] for a in gold_pair] == ["A-20261031-ITM001-DEP01"]
    # A pair gold does not alert on: the id of its episode's first day, kept while in alert.
    warning = feed(p, movement("ITM003", "consumption", 11, day="2026-11-02"))
    critical = feed(p, movement("ITM003", "consumption", 5, day="2026-11-04"))
    first = episode_alert_id("ITM003", "DEP01", "2026-11-02")
    assert [(a["alert_id"], a["severity"]) for a in warning + critical] == [
        (first, "warning"), (first, "critical"),
    ]  # fmt: skip
    assert critical[0]["episode_start_date"] == "2026-11-02"
    # Back above the reorder point ends the episode; the next one has a new id.
    assert feed(p, movement("ITM003", "receipt", 30, day="2026-11-05")) == []
    again = feed(p, movement("ITM003", "consumption", 30, day="2026-11-06"))
    assert [a["alert_id"] for a in again] == [episode_alert_id("ITM003", "DEP01", "2026-11-06")]
    assert again[0]["alert_id"] != first
    queued = [m for topic, m in outbox(settings) if topic == settings.alerts_topic]
    assert len(queued) == 4


def test_stream_ids_are_the_surrogate_key_dbt_computes() -> None:
    """The dbt macro's DuckDB form: the first 15 hex digits of md5('item|depot|date')."""
    sql = "select cast(('0x' || substr(md5(?), 1, 15)) as bigint)"
    expected = duckdb.sql(sql.replace("?", "'ITM001|DEP01|2026-11-02'")).fetchone()
    assert expected is not None
    assert episode_alert_id("ITM001", "DEP01", "2026-11-02") == str(expected[0])


def test_without_gold_alerts_the_stream_falls_back_to_its_own_ids(settings: Settings) -> None:
    write_gold(settings, "fct_reorder_points", reorder_rows(), SCHEMAS["fct_reorder_points"])
    p = processor(settings)  # no fct_stock_alerts at all
    alerts = feed(p, movement("ITM001", "consumption", 11))
    assert [a["alert_id"] for a in alerts] == [episode_alert_id("ITM001", "DEP01", "2026-11-01")]


def test_a_state_file_of_the_previous_layout_is_upgraded(settings: Settings) -> None:
    import sqlite3

    path = settings.stream_state_path
    path.parent.mkdir(parents=True)
    conn = sqlite3.connect(path)
    conn.executescript(
        """create table positions (item_id text, depot_id text, as_of_date text, on_hand real,
           on_order real, reorder_point real, safety_stock real, order_up_to real,
           avg_daily_demand real, level text, primary key (item_id, depot_id));
           insert into positions values ('ITM001', 'DEP01', '2026-10-31', 12, 0, 10, 5, 30, 2,
           'ok');"""
    )
    conn.close()
    write_gold(settings, "fct_reorder_points", reorder_rows(), SCHEMAS["fct_reorder_points"])
    p = processor(settings)
    alerts = feed(p, movement("ITM001", "consumption", 3))
    assert p.positions[("ITM001", "DEP01")].on_hand == 9.0
    assert [a["severity"] for a in alerts] == ["warning"]
