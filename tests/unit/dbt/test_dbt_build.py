"""`dbt build` on a tiny bronze lake: every test passes and gold holds the expected rows."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from backend.ingest.base import ensure_bronze_tables, get_source
from backend.lake.duck import connect
from backend.settings import Settings
from tests.unit.dbt.runner import invoke_dbt

pytestmark = pytest.mark.slow

RUN_DATE = date(2025, 1, 5)
BATCH_1 = datetime(2025, 1, 4, 23, tzinfo=UTC)
BATCH_2 = datetime(2025, 1, 5, 23, tzinfo=UTC)
TYPES = {
    "string": pa.string(),
    "double": pa.float64(),
    "bigint": pa.int64(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
    "timestamptz": pa.timestamp("us", tz="UTC"),
}
AUDIT = (
    "_source string, _batch_id string, _ingested_at timestamptz, _ingest_date date, _row_id string"
)
BRONZE = {
    "suppliers": "supplier_id string, name string, state string, lead_time_mean_days double,"
    " lead_time_std_days double, updated_at timestamp",
    "depots": "depot_id string, name string, municipality string, state string, lat double,"
    " lon double, updated_at timestamp",
    "items": "item_id string, name string, category string, family string, technology string,"
    " supplier_id string, unit_cost double, lead_time_days bigint, min_order_qty bigint,"
    " min_stock bigint, max_stock bigint, created_at timestamp, updated_at timestamp",
    "towers": "tower_id string, municipality string, state string, lat double, lon double,"
    " depot_id string, sla_tier string, technology string, commissioned_at date,"
    " updated_at timestamp",
    "stock_movements": "movement_id bigint, item_id string, depot_id string, tower_id string,"
    " quantity bigint, movement_type string, movement_date date, updated_at timestamp",
    "inventory_snapshots": "item_id string, depot_id string, snapshot_date date, on_hand bigint,"
    " on_order bigint, updated_at timestamp",
}
QUARANTINE = (
    "source string, entity string, _row_id string, rule string, reason string,"
    " record string, _batch_id string, _ingested_at timestamptz, _ingest_date date"
)


def _schema(spec: str) -> pa.Schema:
    columns = (column.split() for column in spec.split(","))
    return pa.schema([(name, TYPES[kind]) for name, kind in columns])


T0 = datetime(2024, 12, 1)


def _row_id(row: dict[str, Any]) -> str:
    return hashlib.md5(repr(sorted(row.items())).encode()).hexdigest()


def _append(
    lake: Path, entity: str, rows: list[dict[str, Any]], batch: str, at: datetime
) -> list[str]:
    audited = [
        {
            **row,
            "_source": "erp",
            "_batch_id": batch,
            "_ingested_at": at,
            "_ingest_date": at.date(),
            "_row_id": _row_id(row),
        }
        for row in rows
    ]
    schema = _schema(f"{BRONZE[entity]}, {AUDIT}")
    table = pa.Table.from_pylist(audited, schema)
    write_deltalake(
        str(lake / "bronze" / "erp" / entity), table, mode="append", partition_by=["_ingest_date"]
    )
    return [row["_row_id"] for row in audited]


def _movement(
    movement_id: int, item: str, depot: str, qty: int, kind: str, day: int
) -> dict[str, Any]:
    return {
        "movement_id": movement_id,
        "item_id": item,
        "depot_id": depot,
        "tower_id": None,
        "quantity": qty,
        "movement_type": kind,
        "movement_date": date(2025, 1, day),
        "updated_at": datetime(2025, 1, day, 9),
    }


def _build_bronze(lake: Path) -> None:
    _append(
        lake,
        "suppliers",
        [
            {
                "supplier_id": "S1",
                "name": "Fornecedor ",
                "state": "BA",
                "lead_time_mean_days": 10.0,
                "lead_time_std_days": 2.0,
                "updated_at": T0,
            },
        ],
        "b1",
        BATCH_1,
    )
    _append(
        lake,
        "depots",
        [
            {
                "depot_id": d,
                "name": f"Depot {d}",
                "municipality": "Salvador",
                "state": "BA",
                "lat": -12.9,
                "lon": -38.5,
                "updated_at": T0,
            }
            for d in ("D1", "D2")
        ],
        "b1",
        BATCH_1,
    )
    item = {
        "item_id": "I1",
        "name": "Antenna",
        "category": "antenna",
        "family": "a",
        "technology": "4G",
        "supplier_id": "S1",
        "unit_cost": 10.0,
        "lead_time_days": 7,
        "min_order_qty": 1,
        "min_stock": 1,
        "max_stock": 9,
        "created_at": T0,
        "updated_at": T0,
    }
    _append(lake, "items", [item, {**item, "item_id": " I2 ", "name": "Radio  "}], "b1", BATCH_1)
    # a late price change of I1
    _append(
        lake,
        "items",
        [{**item, "unit_cost": 12.0, "updated_at": datetime(2025, 1, 5, 8)}],
        "b2",
        BATCH_2,
    )
    _append(
        lake,
        "towers",
        [
            {
                "tower_id": "T1",
                "municipality": "Salvador",
                "state": "BA",
                "lat": -12.9,
                "lon": -38.5,
                "depot_id": "D1",
                "sla_tier": "gold",
                "technology": "4G",
                "commissioned_at": date(2020, 1, 1),
                "updated_at": T0,
            },
        ],
        "b1",
        BATCH_1,
    )
    double_posted = _movement(1, "I1", "D1", 2, "consumption", 2)
    _append(
        lake,
        "stock_movements",
        [
            double_posted,
            double_posted,
            _movement(2, "I1", "D1", 10, "receipt", 3),
            _movement(3, "I1", "D1", 1, "consumption", 3),
        ],
        "b1",
        BATCH_1,
    )
    bad, adjustment = (
        _movement(4, "I2", "D2", 3, "consumption", 4),
        _movement(5, "I2", "D2", -1, "adjustment", 5),
    )
    bad_row_id, _ = _append(lake, "stock_movements", [bad, adjustment], "b2", BATCH_2)
    _append(
        lake,
        "inventory_snapshots",
        [
            {
                "item_id": "I1",
                "depot_id": "D1",
                "snapshot_date": date(2025, 1, 1),
                "on_hand": 5,
                "on_order": 0,
                "updated_at": datetime(2025, 1, 1, 23),
            },
            {
                "item_id": "I2",
                "depot_id": "D2",
                "snapshot_date": date(2025, 1, 31),
                "on_hand": 1,
                "on_order": 0,
                "updated_at": datetime(2025, 1, 31, 23),
            },
        ],
        "b1",
        BATCH_1,
    )
    quarantine = pa.Table.from_pylist(
        [
            {
                "source": "erp",
                "entity": "stock_movements",
                "_row_id": bad_row_id,
                "rule": "test",
                "reason": "quarantined by the test",
                "record": "{}",
                "_batch_id": "b2",
                "_ingested_at": BATCH_2,
                "_ingest_date": BATCH_2.date(),
            },
        ],
        _schema(QUARANTINE),
    )
    write_deltalake(str(lake / "quarantine"), quarantine, partition_by=["_ingest_date"])


EXTERNAL_SOURCES = ("inmet", "bacen", "anatel", "suppliers", "appdb")


@pytest.fixture(scope="module")
def gold(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work_dir = tmp_path_factory.mktemp("dbt_build")
    lake = work_dir / "lake"
    _build_bronze(lake)
    settings = Settings(lake_root=str(lake), warehouse_dir=work_dir / "warehouse")
    for name in (*EXTERNAL_SOURCES, "erp"):  # no data here: their staging models are empty
        ensure_bronze_tables(get_source(name), settings)
    # the forecast marts read the forecast step's output (tests/e2e/test_forecast_pipeline.py)
    result = invoke_dbt(
        ["build", "--vars", f"{{run_date: '{RUN_DATE}'}}", "--exclude", "tag:forecast"], settings
    )
    assert result.success, [
        (r.node.name, r.status, r.message) for r in (result.result or []) if r.status != "pass"
    ] or result.exception
    return lake / "gold"


def _read(gold: Path, table: str) -> list[dict[str, Any]]:
    return DeltaTable(str(gold / table)).to_pyarrow_table().to_pylist()


def test_daily_demand_is_zero_filled_deduplicated_and_quarantine_free(gold: Path) -> None:
    rows = sorted(_read(gold, "fct_daily_demand"), key=lambda r: (r["item_id"], r["demand_date"]))
    got = [
        (
            r["item_id"],
            r["depot_id"],
            r["demand_date"].day,
            r["demand_qty"],
            r["receipts_qty"],
            r["adjustments_qty"],
            r["movement_count"],
        )
        for r in rows
    ]
    assert got == [
        ("I1", "D1", 1, 0, 0, 0, 0),  # stocked from its first snapshot
        ("I1", "D1", 2, 2, 0, 0, 1),  # the double posting counts once
        ("I1", "D1", 3, 1, 10, 0, 2),
        ("I1", "D1", 4, 0, 0, 0, 0),
        ("I1", "D1", 5, 0, 0, 0, 0),
        ("I2", "D2", 5, 0, 0, -1, 1),  # the quarantined day-4 consumption is gone
    ]
    assert len({r["daily_demand_key"] for r in rows}) == len(rows)


def test_dimensions_keep_the_latest_trimmed_version(gold: Path) -> None:
    items = {r["item_id"]: r for r in _read(gold, "dim_items")}
    assert set(items) == {"I1", "I2"}
    assert items["I1"]["unit_cost"] == 12.0
    assert items["I2"]["item_name"] == "Radio"
    assert items["I1"]["supplier_name"] == "Fornecedor"


def test_inventory_snapshot_is_valued_up_to_the_run_date(gold: Path) -> None:
    rows = _read(gold, "fct_inventory_snapshot")
    assert [(r["item_id"], r["snapshot_date"], r["stock_value"]) for r in rows] == [
        ("I1", date(2025, 1, 1), 60.0)
    ]


def test_calendar_spans_first_demand_to_a_year_after_the_run_date(gold: Path) -> None:
    conn = connect()
    first, last, days, carnival = conn.execute(
        "select min(date_day), max(date_day), count(*),"
        " max(holiday_scope) filter (where date_day = date '2025-03-04')"
        f" from delta_scan('{gold / 'dim_date'}')"
    ).fetchone()
    assert (first, last, days, carnival) == (date(2025, 1, 1), date(2026, 1, 5), 370, "optional")
