"""The `nova` command as a user types it: small demo, backfill, daily run, gold listing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from backend.cli import app
from backend.settings import get_settings

pytestmark = pytest.mark.slow
runner = CliRunner()


@pytest.fixture
def nova_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("NOVA_LAKE_ROOT", str(tmp_path / "lake"))
    monkeypatch.setenv("NOVA_WAREHOUSE_DIR", str(tmp_path / "warehouse"))
    monkeypatch.setenv("NOVA_ERP_URL", f"sqlite:///{tmp_path / 'erp.sqlite'}")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def _nova(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_demo_backfill_run_and_gold(nova_env: Path):
    demo = _nova("demo", "--items", "25", "--depots", "2", "--towers", "15", "--years", "1")
    assert "stock_movements" in demo and "2025-11-01 .. 2026-10-31" in demo

    backfill = _nova("backfill", "--start", "2025-11-01", "--end", "2026-10-30")
    assert "success" in backfill and "dbt tests:" in backfill and "0 failed" in backfill
    # The embedded default loads every source, the external ones from the recordings.
    for table in ("inmet.observations", "bacen.series", "anatel.stations", "suppliers.quotes"):
        assert f"bronze.{table}" in backfill
    daily = _nova("run", "--date", "2026-10-31")
    assert "success" in daily and "bronze.erp.stock_movements" in daily
    assert "bronze.inmet.observations" in daily and "degraded" not in daily
    _assert_features_filled(nova_env, date(2025, 11, 1), date(2026, 10, 31))

    gold = _nova("gold")
    assert "fct_daily_demand" in gold and "dim_items" in gold
    report = _nova("report")
    assert "2026-10-31..2026-10-31" in report
    assert list((nova_env / "lake" / "reports").glob("run_date=2026-10-31/*.json"))


def _assert_features_filled(root: Path, first: date, last: date) -> None:
    """Every depot-day of the range has its weather, economic and 5G columns."""
    query = """
        select count(*), count(distinct depot_id), min(date_day)::varchar,
            max(date_day)::varchar, count(precipitation_mm), count(temperature_max_c),
            count(temperature_min_c), count(humidity_pct), count(wind_speed_ms),
            count(rain_7d_mm), count(rain_30d_mm), count(usd_brl), count(selic_target_pct),
            count(ipca_monthly_pct), count(stations_5g), max(stations_5g)
        from int_demand_features
    """
    # dbt ran in this process and keeps its connection to the warehouse open: DuckDB
    # allows a second one only with the same (default) configuration, not read-only.
    conn = duckdb.connect(str(root / "warehouse" / "nova.duckdb"))
    try:
        rows = conn.execute(query).fetchone()
    finally:
        conn.close()
    assert rows is not None
    days = (last - first).days + 1
    total, depots, low, high, *filled, most_5g = rows
    assert (depots, low, high) == (2, first.isoformat(), last.isoformat())
    assert total == depots * days
    assert filled == [total] * len(filled)
    assert most_5g > 0


def test_bad_input_is_a_clear_usage_error(nova_env: Path):
    result = runner.invoke(app, ["run", "--date", "31/10/2026"])
    assert result.exit_code == 2
    assert "is not a date" in result.output

    result = runner.invoke(app, ["backfill", "--start", "2026-10-02", "--end", "2026-10-01"])
    assert result.exit_code == 2
    assert "before --start" in result.output

    result = runner.invoke(app, ["run", "--date", "2026-10-31", "--sources", "erp,nope"])
    assert result.exit_code == 2
    assert "unknown source" in result.output


def test_a_failing_source_fails_the_run_loudly_and_still_saves_the_report(nova_env: Path):
    # No demo generated: the ERP database has none of the tables the contract declares.
    result = runner.invoke(app, ["run", "--date", "2026-10-31"])

    assert result.exit_code == 1
    assert "source 'erp' failed" in result.output
    assert "erp.suppliers" in result.output
    reports = list((nova_env / "lake" / "reports").glob("run_date=2026-10-31/*.json"))
    assert len(reports) == 1
    assert '"status": "failed"' in reports[0].read_text()
