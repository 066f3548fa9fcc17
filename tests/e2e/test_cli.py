"""The `nova` command as a user types it: small demo, backfill, daily run, gold listing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

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
    daily = _nova("run", "--date", "2026-10-31")
    assert "success" in daily and "bronze.erp.stock_movements" in daily

    gold = _nova("gold")
    assert "fct_daily_demand" in gold and "dim_items" in gold
    report = _nova("report")
    assert "2026-10-31..2026-10-31" in report
    assert list((nova_env / "lake" / "reports").glob("run_date=2026-10-31/*.json"))


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
