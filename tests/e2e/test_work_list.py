"""The work list and alert episodes on a small demo: ERP purchase orders and approved
workbench lines reach fct_actions; alert ids hold across two daily runs."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from deltalake import DeltaTable

from backend.demo.erp import DemoConfig, generate_demo
from backend.lake import delta
from backend.lake.duck import connect
from backend.pipeline import runner
from backend.pipeline.context import RunContext
from backend.pipeline.dbt import run_dbt
from backend.pipeline.forecast import ML_FORECASTS, to_table, write_forecasts
from backend.pipeline.steps import DAILY_EXCLUDE, FORECAST_TAG
from backend.settings import Settings
from tests.unit.dbt.runner import invoke_dbt

pytestmark = pytest.mark.slow

END = date(2026, 10, 31)
PREVIOUS = END - timedelta(days=1)
# the e2e spine's small demo (tests/e2e/test_pipeline.py)
CONFIG = DemoConfig(items=40, depots=3, towers=30, years=1, end_date=END, seed=11)
HORIZON = 30
SOURCES = ("erp", "appdb")


def _naive_forecasts(settings: Settings, forecast_date: date) -> None:
    """ml_forecasts for one date from the last 28 days' mean demand: the marts' logic is
    under test here, not a model (training one takes minutes)."""
    demand = DeltaTable(delta.table_uri("gold", "fct_daily_demand", settings=settings))
    frame = demand.to_pandas(columns=["item_id", "depot_id", "demand_date", "demand_qty"])
    days = pd.to_datetime(frame["demand_date"])
    recent = frame[(days > pd.Timestamp(forecast_date - timedelta(days=28)))
                   & (days <= pd.Timestamp(forecast_date))]  # fmt: skip
    means = recent.groupby(["item_id", "depot_id"], as_index=False)["demand_qty"].mean()
    rows = [
        {
            "unique_id": f"{pair.item_id}|{pair.depot_id}",
            "item_id": pair.item_id,
            "depot_id": pair.depot_id,
            "ds": pd.Timestamp(forecast_date + timedelta(days=step)),
            "step": step,
            "yhat": float(pair.demand_qty),
            "yhat_lo_80": 0.0,
            "yhat_hi_80": float(pair.demand_qty) * 2 + 1,
            "yhat_lo_95": 0.0,
            "yhat_hi_95": float(pair.demand_qty) * 3 + 2,
            "demand_class": "smooth",
            "model_name": "moving_average",
        }
        for pair in means.itertuples(index=False)
        for step in range(1, HORIZON + 1)
    ]
    table = to_table(pd.DataFrame(rows), forecast_date, "test")
    write_forecasts(
        delta.table_uri(*ML_FORECASTS, settings=settings), table, forecast_date, settings
    )


def _forecast_marts(settings: Settings, day: date) -> None:
    _naive_forecasts(settings, day)
    built = run_dbt("build", settings, select=[FORECAST_TAG], run_date=day, extra=DAILY_EXCLUDE)
    assert built.error is None, built.failures


def _rows(settings: Settings, table: str) -> list[dict[str, Any]]:
    conn = connect(settings=settings)
    try:
        uri = delta.table_uri("gold", table, settings=settings)
        result = conn.execute("select * from delta_scan(?)", [uri])
        names = [column[0] for column in result.description]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]
    finally:
        conn.close()


def _approve_in_workbench(settings: Settings, item_id: str, depot_id: str, quantity: int) -> None:
    """The app database as the API's migrations leave it (only the columns read here)."""
    engine = sa.create_engine(settings.app_db_uri)
    md = sa.MetaData()
    orders = sa.Table(
        "planner_orders",
        md,
        sa.Column("order_id", sa.String, primary_key=True),
        sa.Column("supplier_id", sa.String),
        sa.Column("status", sa.String),
        sa.Column("approved_at", sa.DateTime),
        sa.Column("updated_at", sa.DateTime),
    )
    lines = sa.Table(
        "planner_order_lines",
        md,
        sa.Column("line_id", sa.String, primary_key=True),
        sa.Column("order_id", sa.String),
        sa.Column("item_id", sa.String),
        sa.Column("depot_id", sa.String),
        sa.Column("quantity", sa.Integer),
    )
    approved = datetime.combine(END, datetime.min.time()) + timedelta(hours=10)
    with engine.begin() as conn:
        md.create_all(conn)
        conn.execute(
            orders.insert(),
            [
                {"order_id": "WB-1", "supplier_id": "SUP-X", "status": "approved",
                 "approved_at": approved, "updated_at": approved},
                # a draft and a cancelled order never count as on order
                {"order_id": "WB-2", "supplier_id": "SUP-X", "status": "draft",
                 "approved_at": None, "updated_at": approved},
                {"order_id": "WB-3", "supplier_id": "SUP-X", "status": "cancelled",
                 "approved_at": approved, "updated_at": approved},
            ],
        )  # fmt: skip
        conn.execute(
            lines.insert(),
            [
                {"line_id": f"WB-{n}-1", "order_id": f"WB-{n}", "item_id": item_id,
                 "depot_id": depot_id, "quantity": quantity}
                for n in (1, 2, 3)
            ],
        )  # fmt: skip
    engine.dispose()


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, dict[str, Any]]:
    root: Path = tmp_path_factory.mktemp("work_list")
    settings = Settings(
        env="test",
        lake_root=str(root / "lake"),
        warehouse_dir=root / "warehouse",
        erp_url=f"sqlite:///{root / 'erp.sqlite'}",
    )
    generate_demo(settings.erp_url, CONFIG)
    # D-1: no app database yet (zero lines, a note); its forecast marts open the history
    backfill = runner.run(
        RunContext(start=END - timedelta(days=364), end=PREVIOUS, settings=settings,
                   kind="backfill", sources=SOURCES)
    )  # fmt: skip
    assert backfill.report.status == "success", backfill.report.errors
    assert any("no app database yet" in note for note in backfill.report.notes)
    _forecast_marts(settings, PREVIOUS)
    first_alerts = _rows(settings, "fct_stock_alerts")
    first_actions = _rows(settings, "fct_actions")

    # D: a planner approved an order for a pair the day before's list asked to order
    target = next(a for a in first_actions if a["action"] == "order")
    _approve_in_workbench(settings, target["item_id"], target["depot_id"], 1)
    daily = runner.run(RunContext(start=END, end=END, settings=settings, sources=SOURCES))
    assert daily.report.status == "success", daily.report.errors
    _forecast_marts(settings, END)
    state = {
        "first_alerts": first_alerts,
        "first_actions": first_actions,
        "target": target,
        "alerts": _rows(settings, "fct_stock_alerts"),
        "actions": _rows(settings, "fct_actions"),
    }
    return settings, state


def test_open_purchase_orders_make_up_the_erp_on_order(runs):
    settings, _ = runs
    conn = connect(settings=settings)
    try:
        pos = delta.table_uri("bronze", "erp", "purchase_orders", settings=settings)
        snapshots = delta.table_uri("gold", "fct_inventory_snapshot", settings=settings)
        mismatched = conn.execute(
            """
            with open_orders as (
                select item_id, depot_id, sum(quantity) as quantity
                from (select *, row_number() over (partition by po_id
                        order by updated_at desc, _ingested_at desc) as version
                      from delta_scan(?))
                where version = 1 and status = 'open'
                group by all
            ),
            last_day as (select * from delta_scan(?) where snapshot_date = ?)
            select count(*)
            from last_day full join open_orders using (item_id, depot_id)
            where coalesce(last_day.on_order, 0) <> coalesce(open_orders.quantity, 0)
            """,
            [pos, snapshots, END],
        ).fetchone()
    finally:
        conn.close()
    assert mismatched == (0,)


def test_every_action_follows_its_rule_and_none_says_order_zero(runs):
    _, state = runs
    actions = state["actions"]
    counts = Counter(a["action"] for a in actions)
    print(f"\nwork list on {END}: {len(actions)} rows, {dict(sorted(counts.items()))}")
    print(f"alerts on {END}: {Counter(a['severity'] for a in state['alerts'])}")
    assert counts["order"] > 0 and counts["watch"] > 0
    for a in actions:
        if a["action"] != "watch":
            assert a["quantity"] > 0 and a["order_value"] > 0, a
        if a["action"] == "order":
            assert (a["quantity"] / a["min_order_qty"]).is_integer(), a
        if a["action"] == "expedite":
            # expected after the stockout, or already late (then it lands on day 1 at best)
            assert a["expedite_po_id"], a
            expected, stockout = a["expedite_expected_date"], a["stockout_date"]
            assert expected > stockout or (expected <= END and "atrasado" in a["reason"]), a
        if a["action"] == "transfer":
            assert a["transfer_from_depot_id"] not in (None, a["depot_id"]), a
        assert "order 0" not in a["reason"] and a["reason"].endswith("."), a
    alerted = {(a["item_id"], a["depot_id"]): a["alert_id"] for a in state["alerts"]}
    # every alerted pair is on the list, with its alert's episode id
    assert {(a["item_id"], a["depot_id"]): a["alert_id"] for a in actions if a["alert_id"]} == (
        alerted
    )
    assert all(a["message"].count("order 0") == 0 for a in state["alerts"])


def test_an_alert_keeps_its_id_from_one_run_to_the_next(runs):
    _, state = runs
    before = {(a["item_id"], a["depot_id"]): a for a in state["first_alerts"]}
    now = {(a["item_id"], a["depot_id"]): a for a in state["alerts"]}
    continued = before.keys() & now.keys()
    assert continued, "no pair alerted on both days"
    for pair in continued:
        assert now[pair]["alert_id"] == before[pair]["alert_id"]
        assert now[pair]["episode_start_date"] == PREVIOUS
    for pair in now.keys() - before.keys():
        assert now[pair]["episode_start_date"] == END
        assert now[pair]["alert_id"] not in {a["alert_id"] for a in before.values()}


def test_an_approved_workbench_line_counts_as_on_order_the_next_day(runs):
    settings, state = runs
    target = state["target"]
    pair = (target["item_id"], target["depot_id"])
    # through dbt: the in-process dbt keeps the warehouse file open
    shown = invoke_dbt(
        ["show", "--inline", "select line_id, item_id, depot_id, quantity "
         "from {{ ref('int_approved_order_lines') }}"],
        settings,
    )  # fmt: skip
    assert shown.success, shown.exception
    pending = [tuple(row) for row in shown.result.results[0].agate_table.rows]
    # the approved order's line only: the draft is not read, the cancelled one drops out
    assert pending == [("WB-1-1", *pair, 1.0)]
    row = next((a for a in state["actions"] if (a["item_id"], a["depot_id"]) == pair), None)
    # one more unit in the position: still on the list (an order, one unit fewer at most
    # a MOQ multiple) unless that unit lifted it above the watch margin
    if row is not None:
        assert row["approved_on_order"] == 1.0
        # the reason writes numbers as planners read them: one decimal, a comma
        on_order_text = str(round(row["on_order"] + 1.0, 1)).replace(".", ",")
        assert "+ pedidos" not in row["reason"] or f"+ pedidos {on_order_text}" in row["reason"]
