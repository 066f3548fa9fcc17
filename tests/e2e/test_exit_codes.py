"""`nova run` and `nova backfill` exit 0 on success, 3 when degraded, 1 on failure.

The runs extract for real (the demo ERP, BACEN at an address where nothing listens for the
degraded case, an ERP too old for the run date for the failed case); the later steps are
left out of the plan so each run takes seconds (the whole graph's exit 0 is
tests/e2e/test_cli.py's)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from backend.cli import EXIT_DEGRADED, EXIT_FAILED, EXIT_SUCCESS, app
from backend.demo.erp import DemoConfig, generate_demo
from backend.pipeline import runner, steps
from backend.pipeline.context import RunContext
from backend.settings import get_settings
from tests.services.http_replay import Reply, Script, replay_server
from tests.services.smtp import free_port

cli = CliRunner()
END = date(2026, 10, 31)


@pytest.fixture
def nova_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("NOVA_LAKE_ROOT", str(tmp_path / "lake"))
    monkeypatch.setenv("NOVA_WAREHOUSE_DIR", str(tmp_path / "warehouse"))
    monkeypatch.setenv("NOVA_ERP_URL", f"sqlite:///{tmp_path / 'erp.sqlite'}")
    monkeypatch.setenv("NOVA_HTTP_ATTEMPTS", "1")
    get_settings.cache_clear()
    generate_demo(
        f"sqlite:///{tmp_path / 'erp.sqlite'}",
        DemoConfig(items=5, depots=2, towers=4, years=1, end_date=END, seed=5),
    )

    def extract_only(ctx: RunContext, observer: Any) -> list[tuple[str, Any]]:
        return [("extract", lambda: steps.extract(ctx))]

    monkeypatch.setattr(runner, "plan", extract_only)
    yield tmp_path
    get_settings.cache_clear()


def _report(root: Path, day: date) -> dict[str, Any]:
    (path,) = (root / "lake" / "reports").glob(f"run_date={day}/*.json")
    return json.loads(path.read_text())


def test_a_successful_run_exits_0(nova_env: Path):
    result = cli.invoke(app, ["run", "--date", str(END), "--sources", "erp,bacen"])
    assert result.exit_code == EXIT_SUCCESS == 0, result.output
    assert _report(nova_env, END)["status"] == "success"
    assert "Freshness" in result.output


def test_a_run_with_a_failed_outside_source_exits_3(
    nova_env: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("NOVA_SOURCES_MODE", "live")
    monkeypatch.setenv("NOVA_BACEN_BASE_URL", f"http://127.0.0.1:{free_port()}")
    get_settings.cache_clear()
    result = cli.invoke(app, ["run", "--date", str(END), "--sources", "erp,bacen"])
    assert result.exit_code == EXIT_DEGRADED == 3, result.output
    assert "run degraded" in result.output
    report = _report(nova_env, END)
    assert report["status"] == "degraded"
    assert report["freshness"]["bacen"]["status"] == "failed"


def test_a_stale_outside_source_exits_3_and_a_backfill_exits_0(
    nova_env: Path, monkeypatch: pytest.MonkeyPatch
):
    # A backfill to Oct 20 from the recordings, then BACEN answers the daily run of Oct 31
    # with nothing new (an empty series): its newest value is 11 days old, over 5.
    backfill = cli.invoke(
        app, ["backfill", "--start", "2026-10-01", "--end", "2026-10-20", "--sources", "erp,bacen"]
    )
    assert backfill.exit_code == EXIT_SUCCESS, backfill.output
    with replay_server(Script(fallback=lambda path: Reply(200, "[]"))) as url:
        monkeypatch.setenv("NOVA_SOURCES_MODE", "live")
        monkeypatch.setenv("NOVA_BACEN_BASE_URL", url)
        get_settings.cache_clear()
        result = cli.invoke(app, ["run", "--date", str(END), "--sources", "erp,bacen"])
    assert result.exit_code == EXIT_DEGRADED, result.output
    report = _report(nova_env, END)
    assert report["status"] == "degraded"
    assert report["freshness"]["bacen"]["status"] == "stale"
    assert report["freshness"]["bacen"]["newest"] == "2026-10-20"
    assert any("bacen is stale" in e for e in report["errors"])


def test_a_run_on_a_stale_erp_exits_1(nova_env: Path):
    # The ERP's newest rows are of Oct 31; a run of Nov 10 finds them 10 days old.
    late = date(2026, 11, 10)
    result = cli.invoke(app, ["run", "--date", str(late), "--sources", "erp"])
    assert result.exit_code == EXIT_FAILED == 1, result.output
    assert "erp is stale" in result.output
    report = _report(nova_env, late)
    assert report["status"] == "failed"
    assert report["freshness"]["erp"] == {
        "source": "erp", "status": "stale", "newest": "2026-10-31", "age_days": 10,
        "max_age_days": 2, "reason": report["freshness"]["erp"]["reason"],
    }  # fmt: skip


def test_the_exit_codes_are_in_the_help():
    for command in ("run", "backfill"):
        result = cli.invoke(app, [command, "--help"])
        assert result.exit_code == 0
        assert "0 success" in result.output and "3 degraded" in result.output
        assert "1 failed" in result.output
