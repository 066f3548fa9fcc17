"""fct_daily_demand built incrementally equals a full rebuild (issue 17 item 2).

A small demo is backfilled up to the day before D; then the ERP corrects a movement weeks
back (its quantity and its date change) and posts the first movement of a new item x depot
pair ten days back, and the daily run of D rebuilds only the days it touched. Gold must
then be exactly what a full refresh of the same day publishes.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
import sqlalchemy as sa
from deltalake import DeltaTable, write_deltalake

from backend.demo.erp import DemoConfig, generate_demo
from backend.lake import delta
from backend.lake.duck import connect
from backend.lake.gold import content_hash
from backend.pipeline import steps
from backend.pipeline.context import RunContext
from backend.pipeline.dbt import run_dbt
from backend.settings import Settings

pytestmark = pytest.mark.slow

END = date(2026, 10, 31)
CONFIG = DemoConfig(items=30, depots=3, towers=20, years=1, end_date=END, seed=5)
MOVED_FROM = END - timedelta(days=20)
MOVED_TO = END - timedelta(days=25)
NEW_PAIR_DAY = END - timedelta(days=10)
# inside D's extraction window: the ERP changed these rows on D
CHANGED_AT = datetime(2026, 10, 31, 20, 0)
MOVEMENTS = sa.table(
    "stock_movements",
    *(
        sa.column(name)
        for name in (
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


def _spine(settings: Settings, start: date, end: date) -> None:
    ctx = RunContext(start=start, end=end, settings=settings, kind="run")
    steps.extract(ctx)
    steps.validate(ctx)
    steps.transform(ctx)


def _demand(settings: Settings, item: str, depot: str) -> dict[date, int]:
    conn = connect(settings=settings)
    try:
        rows = conn.execute(
            "select demand_date, demand_qty from delta_scan(?) where item_id = ? and depot_id = ?",
            [delta.table_uri("gold", "fct_daily_demand", settings=settings), item, depot],
        ).fetchall()
    finally:
        conn.close()
    return dict(rows)


def _append_copy_of_a_row(uri: str, day: date, *, null_item: bool = False) -> None:
    row = DeltaTable(uri).to_pyarrow_table(filters=[("demand_date", "=", day)])
    row = row.slice(0, 1)
    if null_item:
        column = row.schema.get_field_index("item_id")
        row = row.set_column(column, "item_id", pa.nulls(1, pa.string()))
    write_deltalake(uri, row, mode="append", partition_by=["demand_date"])


def _failed_fact_tests(settings: Settings) -> list[str]:
    """The daily run's data tests on fct_daily_demand (not a build: gold stays as it is)."""
    outcome = run_dbt(
        "test",
        settings,
        select=["fct_daily_demand"],
        run_date=END,
        run_start=END,
        extra=["--exclude-resource-type", "unit_test"],
    )
    assert outcome.count("test", "pass") + outcome.count("test", "fail") == 2  # both ran
    return sorted(n["unique_id"].split(".")[2] for n in outcome.failures)


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root: Path = tmp_path_factory.mktemp("incremental")
    settings = Settings(
        env="test",
        lake_root=str(root / "lake"),
        warehouse_dir=root / "warehouse",
        erp_url=f"sqlite:///{root / 'erp.sqlite'}",
    )
    generate_demo(settings.erp_url, CONFIG)
    _spine(settings, END - timedelta(days=364), END - timedelta(days=1))
    return settings


def test_an_incremental_day_with_late_corrections_equals_a_full_rebuild(lake: Settings):
    engine = sa.create_engine(lake.erp_url)
    with engine.begin() as conn:
        moved = conn.execute(
            sa.select(MOVEMENTS)
            .where(MOVEMENTS.c.movement_type == "consumption")
            .where(MOVEMENTS.c.movement_date == MOVED_FROM)
            .order_by(MOVEMENTS.c.movement_id)
            .limit(1)
        ).one()
        pairs = set(conn.execute(sa.select(MOVEMENTS.c.item_id, MOVEMENTS.c.depot_id)).all())
        pairs |= set(
            conn.execute(sa.text("select item_id, depot_id from inventory_snapshots")).all()
        )
        items = [row[0] for row in conn.execute(sa.text("select item_id from items"))]
        depots = [row[0] for row in conn.execute(sa.text("select depot_id from depots"))]
        new_item, new_depot = next(
            (i, d) for i in sorted(items) for d in sorted(depots) if (i, d) not in pairs
        )
        # A late correction: the movement was 7 units on another day, weeks back.
        conn.execute(
            MOVEMENTS.update()
            .where(MOVEMENTS.c.movement_id == moved.movement_id)
            .values(quantity=7, movement_date=MOVED_TO, updated_at=CHANGED_AT)
        )
        # A new pair's first movement, posted late: the pair gets its history from then.
        conn.execute(
            MOVEMENTS.insert().values(
                movement_id=99_000_001,
                item_id=new_item,
                depot_id=new_depot,
                tower_id=None,
                quantity=4,
                movement_type="consumption",
                movement_date=NEW_PAIR_DAY,
                updated_at=CHANGED_AT,
            )
        )
    engine.dispose()
    before = _demand(lake, moved.item_id, moved.depot_id)
    uri = delta.table_uri("gold", "fct_daily_demand", settings=lake)
    partitions_before = DeltaTable(uri).metadata().partition_columns

    _spine(lake, END, END)

    # Built incrementally: one partition replace, not an overwrite of the table.
    commit = DeltaTable(uri).history(1)[0]
    assert partitions_before == ["demand_date"]
    assert "predicate" in commit["operationParameters"]
    replaced = commit["operationParameters"]["predicate"]
    for day in (MOVED_FROM, MOVED_TO, NEW_PAIR_DAY, END):
        assert f"'{day.isoformat()}'" in replaced
    assert f"'{(END - timedelta(days=30)).isoformat()}'" not in replaced
    after = _demand(lake, moved.item_id, moved.depot_id)
    assert after[MOVED_FROM] == before[MOVED_FROM] - moved.quantity
    assert after[MOVED_TO] == before[MOVED_TO] + 7
    new_pair = _demand(lake, new_item, new_depot)
    assert min(new_pair) == NEW_PAIR_DAY and max(new_pair) == END
    assert len(new_pair) == 11 and new_pair[NEW_PAIR_DAY] == 4
    incremental = content_hash(uri, lake)
    # The daily tests on the fact read the partitions this build wrote: they still catch a
    # duplicate key in one of them (an appended copy of a row of D).
    _append_copy_of_a_row(uri, END)
    assert _failed_fact_tests(lake) == ["unique_fct_daily_demand_daily_demand_key"]
    # ... and a null (one not_null_columns test checks the four key columns in one scan)
    _append_copy_of_a_row(uri, END, null_item=True)
    assert _failed_fact_tests(lake) == [
        "not_null_columns_fct_daily_demand_daily_demand_key__item_id__depot_id__demand_date",
        "unique_fct_daily_demand_daily_demand_key",
    ]

    outcome = run_dbt(
        "build",
        lake,
        select=["fct_daily_demand"],
        run_date=END,
        run_start=END,
        extra=["--full-refresh", "--exclude-resource-type", "unit_test"],
    )

    assert outcome.success
    full = DeltaTable(uri)
    assert "predicate" not in full.history(1)[0]["operationParameters"]
    assert full.metadata().partition_columns == ["demand_date"]
    assert content_hash(uri, lake) == incremental
    # After a full build they read the whole table: a duplicate in an old partition too.
    _append_copy_of_a_row(uri, END - timedelta(days=30))
    assert _failed_fact_tests(lake) == ["unique_fct_daily_demand_daily_demand_key"]
