"""`airflow dags test nova_daily D` on a small demo lake: the same gold as `nova run`, and
a failing source that fails its own tasks while the ERP path completes."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest

from backend.demo.erp import DemoConfig, generate_demo
from backend.ingest.base import SOURCES, EntityExtract, ExtractWindow, Source, registered_sources
from backend.ingest.http import SourceClient
from backend.ingest.retry import RetryPolicy
from backend.lake import delta
from backend.lake.gold import content_hash, gold_tables, latest_report
from backend.pipeline import airflow_support as af
from backend.pipeline import runner
from backend.pipeline.context import RunContext
from backend.settings import REPO_ROOT, Settings, get_settings
from tests.airflow.conftest import airflow_cli
from tests.services.http_replay import Reply, Script, replay_server

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

END = date(2026, 10, 31)
CONFIG = DemoConfig(items=40, depots=2, towers=20, years=1, end_date=END, seed=5)


def _settings(root: Path) -> Settings:
    return Settings(
        env="test",
        lake_root=str(root / "lake"),
        warehouse_dir=root / "warehouse",
        erp_url=f"sqlite:///{root / 'erp.sqlite'}",
    )


def _env(root: Path) -> dict[str, str]:
    return {
        "NOVA_LAKE_ROOT": str(root / "lake"),
        "NOVA_WAREHOUSE_DIR": str(root / "warehouse"),
        "NOVA_ERP_URL": f"sqlite:///{root / 'erp.sqlite'}",
    }


def _gold(settings: Settings) -> dict[str, tuple[int, str]]:
    return {
        name: content_hash(delta.table_uri("gold", name, settings=settings))
        for name in gold_tables(settings)
    }


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory, airflow_home: Path) -> Path:
    """A demo ERP and a lake holding the year before END, from every source (a source
    with no history would be stale on END: its freshness is judged on the run date)."""
    root = tmp_path_factory.mktemp("history")
    settings = _settings(root)
    generate_demo(settings.erp_url, CONFIG)
    ctx = RunContext(start=END - timedelta(days=364), end=END - timedelta(days=1),
                     settings=settings, kind="backfill",
                     sources=tuple(registered_sources()))  # fmt: skip
    assert runner.run(ctx).report.status == "success"
    return root


def _copy(history: Path, tmp_path: Path, name: str) -> Path:
    root = tmp_path / name
    shutil.copytree(history, root)
    return root


def test_dags_test_leaves_the_same_gold_as_nova_run(history: Path, tmp_path: Path):
    by_nova = _settings(_copy(history, tmp_path, "nova"))
    # every registered source, as the DAG has one extract task per source
    day = RunContext(start=END, end=END, settings=by_nova, sources=tuple(registered_sources()))
    assert runner.run(day).report.status == "success"

    root = _copy(history, tmp_path, "airflow")
    airflow_cli("dags", "test", "nova_daily", END.isoformat(), env=_env(root))

    by_airflow = _settings(root)
    assert _gold(by_airflow) == _gold(by_nova)
    assert set(_gold(by_airflow)) >= {"fct_daily_demand", "dim_items"}
    report = latest_report(by_airflow)
    assert report is not None
    assert (report["status"], report["start"], report["end"]) == (
        "success",
        "2026-10-31",
        "2026-10-31",
    )
    assert [s["name"] for s in report["steps"]] == af.expected_steps(registered_sources())
    nova_report = latest_report(by_nova)
    assert nova_report is not None
    assert report["dbt_tests"] == nova_report["dbt_tests"]
    assert report["tables"] == nova_report["tables"]


class DownSource(Source):
    """A source whose server answers 503 to everything."""

    name = "down"
    schemas: ClassVar[dict[str, pa.Schema]] = {"readings": pa.schema([("value", pa.float64())])}

    def __init__(self, url: str) -> None:
        self.url = url

    def extract(self, window: ExtractWindow) -> list[EntityExtract]:
        retry = RetryPolicy(attempts=2, base_delay=0.01)
        with SourceClient(self.name, base_url=self.url, retry=retry) as client:
            client.get_json("/readings")
        raise AssertionError("unreachable: the server only fails")


@pytest.fixture
def down_source() -> Iterator[Script]:
    script = Script(replies={"/readings": [Reply(503, "unavailable")]})
    with replay_server(script) as url:
        SOURCES["down"] = lambda: DownSource(url)
        try:
            yield script
        finally:
            SOURCES.pop("down", None)


def test_a_failing_source_fails_its_task_and_the_erp_path_completes(
    history: Path, tmp_path: Path, down_source: Script, monkeypatch: pytest.MonkeyPatch
):
    from airflow.dag_processing.dagbag import DagBag
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    root = _copy(history, tmp_path, "degraded")
    for key, value in _env(root).items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    try:
        dag = DagBag(dag_folder=str(REPO_ROOT / "dags")).get_dag("nova_daily")
        assert dag is not None and "extract_down" in dag.task_ids
        run = dag.test(logical_date=datetime(2026, 10, 31, tzinfo=ZoneInfo("America/Bahia")))
        with create_session() as session:
            tis: dict[str, Any] = {
                ti.task_id: ti
                for ti in session.query(TaskInstance).filter(TaskInstance.run_id == run.run_id)
            }
    finally:
        get_settings.cache_clear()

    # The source's task failed after its retry (two tries, each with the client's retries).
    assert tis["extract_down"].state == "failed"
    assert tis["extract_down"].try_number == 2
    assert len(down_source.requests) == 4
    assert tis["validate_down"].state == "upstream_failed"
    # The ERP path and the dbt build completed; the report says the run is degraded.
    for task_id in ("extract_erp", "validate_erp", "dbt.dbt_producer_watcher",
                    "dbt.fct_daily_demand.run", "run_report"):  # fmt: skip
        assert tis[task_id].state == "success", task_id
    report = latest_report(_settings(root))
    assert report is not None and report["status"] == "degraded"
    assert any(e.startswith("extract_down: source 'down' failed") for e in report["errors"])
    assert report["tables"]["gold.fct_daily_demand"]["rows_written"] > 0
