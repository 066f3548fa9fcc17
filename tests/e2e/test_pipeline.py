"""The whole spine in-process: demo ERP -> bronze -> dbt on DuckDB -> gold Delta."""

from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
import sqlalchemy as sa
from deltalake import DeltaTable, write_deltalake

from backend.demo.erp import DemoConfig, generate_demo
from backend.ingest.base import bronze_uri
from backend.lake import delta
from backend.lake.duck import connect
from backend.lake.gold import content_hash, gold_tables, latest_report
from backend.pipeline import runner, steps
from backend.pipeline.context import RunContext
from backend.settings import Settings

pytestmark = pytest.mark.slow

END = date(2026, 10, 31)
NEXT = END + timedelta(days=1)
CONFIG = DemoConfig(items=40, depots=3, towers=30, years=1, end_date=END, seed=11)
MARTS = {
    "dim_date",
    "dim_depots",
    "dim_items",
    "dim_suppliers",
    "dim_towers",
    "fct_daily_demand",
    "fct_inventory_snapshot",
    "fct_stockout_days",  # the days consumption is censored by stock (issue 14)
}


def _run(settings: Settings, start: date, end: date) -> RunContext:
    kind = "run" if start == end else "backfill"
    return runner.run(RunContext(start=start, end=end, settings=settings, kind=kind))


def _gold(settings: Settings) -> dict[str, tuple[int, str]]:
    return {
        name: content_hash(delta.table_uri("gold", name, settings=settings), settings)
        for name in gold_tables(settings)
    }


def _query(settings: Settings, table: str, sql: str, params: list[object]) -> list[tuple]:
    conn = connect(settings=settings)
    try:
        uri = delta.table_uri("gold", table, settings=settings)
        return conn.execute(sql.replace("{table}", "delta_scan(?)"), [uri, *params]).fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root: Path = tmp_path_factory.mktemp("spine")
    settings = Settings(
        env="test",
        lake_root=str(root / "lake"),
        warehouse_dir=root / "warehouse",
        erp_url=f"sqlite:///{root / 'erp.sqlite'}",
    )
    generate_demo(settings.erp_url, CONFIG)
    backfill = _run(settings, END - timedelta(days=364), END - timedelta(days=1))
    assert backfill.report.status == "success"
    return settings


class RecordingObserver(runner.SilentObserver):
    def __init__(self) -> None:
        self.totals: dict[str, int] = {}
        self.advances: dict[str, int] = {}

    def step_total(self, name: str, total: int) -> None:
        self.totals[name] = total

    def step_advanced(self, name: str, label: str) -> None:
        self.advances[name] = self.advances.get(name, 0) + 1


def test_backfill_and_daily_run_publish_every_mart(lake: Settings):
    observer = RecordingObserver()
    ctx = runner.run(RunContext(start=END, end=END, settings=lake), observer)

    report = ctx.report
    assert report.status == "success"
    assert [s.name for s in report.steps] == [
        "extract",
        "validate",
        "transform",
        "forecast",  # skipped: no champion model on this lake (tests/e2e/test_forecast_pipeline.py)
        "transform_forecasts",
        "publish",
    ]
    assert report.dbt_tests["pass"] > 50
    assert report.dbt_tests["fail"] == report.dbt_tests["error"] == 0
    assert set(gold_tables(lake)) == MARTS
    saved = latest_report(lake)
    assert saved is not None and saved["run_id"] == ctx.run_id
    assert saved["tables"]["gold.fct_daily_demand"]["rows_written"] > 10_000
    # The progress bar of the dbt step knows its total and ticks once per node.
    assert observer.totals["transform"] == observer.advances["transform"] > 50
    # Every stocked pair has one row per day up to the run date.
    (last_day,) = _query(lake, "fct_daily_demand", "select max(demand_date) from {table}", [])[0]
    assert last_day == END


def test_rerunning_a_date_leaves_every_gold_table_identical(lake: Settings):
    _run(lake, END, END)
    before = _gold(lake)
    _run(lake, END, END)
    after = _gold(lake)

    assert set(after) == MARTS
    assert after == before


def test_late_item_update_and_duplicate_movements_after_the_next_run(lake: Settings):
    engine = sa.create_engine(lake.erp_url)
    movements = sa.table(
        "stock_movements",
        *(
            sa.column(c)
            for c in (
                "movement_id",
                "item_id",
                "depot_id",
                "tower_id",
                "quantity",
                "movement_type",
                "movement_date",
                "updated_at",
            )
        ),
    )
    late = sa.bindparam("late", datetime(2026, 11, 1, 9, 0), type_=sa.DateTime)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "update items set unit_cost = 1234.5, updated_at = :late where item_id = :item"
            ),
            {"late": datetime(2026, 11, 1, 9, 0), "item": "ITM-00001"},
        )
        old = conn.execute(
            sa.select(movements)
            .where(movements.c.movement_type == "consumption")
            .order_by(movements.c.movement_id)
            .limit(1)
        ).one()
        # The same posting arrives again in a later batch (a re-sent row) ...
        conn.execute(movements.insert().values(**{**old._asdict(), "updated_at": late}))
        # ... and a new posting is doubled inside one batch.
        new = {
            **old._asdict(),
            "movement_id": 99_000_001,
            "quantity": 3,
            "movement_date": sa.bindparam("next", NEXT, type_=sa.Date),
            "updated_at": late,
        }
        conn.execute(movements.insert().values(**new))
        conn.execute(movements.insert().values(**new))
    engine.dispose()
    demand_sql = (
        "select demand_qty from {table} where item_id = ? and depot_id = ? and demand_date = ?"
    )
    old_key = [old.item_id, old.depot_id, date.fromisoformat(str(old.movement_date)[:10])]
    (before,) = _query(lake, "fct_daily_demand", demand_sql, old_key)

    ctx = _run(lake, NEXT, NEXT)

    assert ctx.report.status == "success"
    assert _query(
        lake, "dim_items", "select unit_cost from {table} where item_id = ?", ["ITM-00001"]
    ) == [(1234.5,)]
    assert _query(lake, "fct_daily_demand", demand_sql, old_key) == [before]
    assert _query(lake, "fct_daily_demand", demand_sql, [old.item_id, old.depot_id, NEXT]) == [(3,)]


def test_invalid_rows_are_quarantined_and_kept_out_of_gold(lake: Settings):
    quarantine = delta.read_table(delta.table_uri("quarantine", settings=lake)).to_pylist()
    rules = {row["rule"] for row in quarantine}
    assert "positive_quantity" in rules
    assert "relationship:item_id->items.item_id" in rules
    bad_items = {
        row["record"].split('"item_id":"')[1].split('"')[0]
        for row in quarantine
        if row["rule"].startswith("relationship:item_id")
    }
    found = _query(
        lake,
        "fct_daily_demand",
        "select count(*) from {table} where list_contains(?, item_id)",
        [sorted(bad_items)],
    )
    assert found == [(0,)]


def test_a_failing_dbt_test_stops_the_run_and_gold_keeps_its_last_good_version(
    lake: Settings, tmp_path: Path
):
    # Work on a copy: the other tests share the module's lake.
    root = Path(lake.lake_root).parent
    shutil.copytree(root, tmp_path / "copy")
    copy = lake.model_copy(
        update={
            "lake_root": str(tmp_path / "copy" / "lake"),
            "warehouse_dir": tmp_path / "copy" / "warehouse",
        }
    )
    day = NEXT + timedelta(days=1)
    movements = DeltaTable(bronze_uri("erp", "stock_movements", copy))
    bad = movements.to_pyarrow_table().slice(0, 1).to_pylist()[0]
    # A row that skipped validation (written straight into bronze) with a type dbt rejects.
    bad.update(movement_id=99_500_000, movement_type="theft", _ingest_date=day)
    schema = pa.schema(movements.schema().to_arrow())
    write_deltalake(movements.table_uri, pa.Table.from_pylist([bad], schema=schema), mode="append")
    fct = delta.table_uri("gold", "fct_daily_demand", settings=copy)
    version = DeltaTable(fct).version()

    ctx = RunContext(start=day, end=day, settings=copy)
    with pytest.raises(steps.DbtBuildError, match="accepted_values_stg_erp__stock_movements"):
        steps.transform(ctx)

    assert ctx.report.dbt_tests["fail"] >= 1
    assert DeltaTable(fct).version() == version
