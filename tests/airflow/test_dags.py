"""The DAG folder: it imports cleanly, and the DAGs have the expected shape."""

from __future__ import annotations

import inspect
import json
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

import pytest

from backend.ingest.base import registered_sources
from backend.pipeline import airflow_support as af
from backend.pipeline import steps
from backend.settings import REPO_ROOT, get_settings

pytestmark = pytest.mark.airflow


@pytest.fixture(scope="module")
def dagbag(airflow_home: Path) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO_ROOT / "dags"))


def _daily_models(manifest: Path) -> set[str]:
    nodes = json.loads(manifest.read_text())["nodes"].values()
    return {
        n["name"]
        for n in nodes
        if n["resource_type"] in ("model", "seed") and "forecast" not in n["tags"]
    }


def test_dag_folder_imports_without_errors(dagbag: Any):
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == {"nova_daily", "nova_weekly_training"}
    # Every file parsed (the parse time per file is printed by benchmarks/orchestration.py).
    assert {Path(s.file).name for s in dagbag.dagbag_stats} == {
        "nova_daily.py",
        "nova_weekly_training.py",
    }


@pytest.mark.reliability
def test_every_task_has_an_owner_and_retries_and_no_dag_has_a_cycle(dagbag: Any):
    for dag in dagbag.dags.values():
        graph = {t.task_id: t.upstream_task_ids for t in dag.tasks}
        assert list(TopologicalSorter(graph).static_order())  # raises CycleError on a cycle
        for task in dag.tasks:
            assert task.owner in ("data-engineering", "data-science"), task.task_id
            assert task.retries >= 1, task.task_id
            # issue 15: no task may hang (and hold the lake lock) forever
            assert task.execution_timeout is not None, task.task_id
            if dag.dagrun_timeout is not None:
                assert task.execution_timeout <= dag.dagrun_timeout, task.task_id


def test_daily_dag_has_a_task_per_source_and_per_dbt_node(dagbag: Any):
    dag = dagbag.get_dag("nova_daily")
    tasks = {t.task_id: t for t in dag.tasks}
    settings = get_settings()
    assert dag.max_active_runs == 1
    assert str(dag.timezone) == "America/Bahia"

    for source in registered_sources():
        extract, validate = tasks[f"extract_{source}"], tasks[f"validate_{source}"]
        assert extract.downstream_task_ids == {validate.task_id}
        assert extract.retries == settings.airflow_extract_retries
        assert extract.retry_exponential_backoff > 1
        assert "bronze_ready" in validate.downstream_task_ids
    # dbt waits for every source (ALL_DONE) but needs the ERP's contracts to pass.
    assert tasks["bronze_ready"].trigger_rule == "all_done"
    producer = tasks["dbt.dbt_producer_watcher"]
    assert producer.upstream_task_ids == {"bronze_ready", "validate_erp"}
    # One task per dbt model and seed (and one for its tests), none for forecast models.
    for name in _daily_models(settings.airflow_dbt_manifest):
        kind = "seed" if name.startswith("br_") else "run"
        assert f"dbt.{name}.{kind}" in tasks
        assert f"dbt.{name}.test" in tasks
    # The gold tables are Assets, produced by their dbt tasks.
    assets = {a.uri.rsplit("/", 1)[-1]: t.task_id for t in dag.tasks for a in t.outlets}
    assert assets["fct_daily_demand"] == "dbt.fct_daily_demand.run"
    assert set(assets) >= {"dim_items", "fct_inventory_snapshot"}
    # The report runs whatever happened, after everything else.
    report = tasks["run_report"]
    assert report.trigger_rule == "all_done"
    assert set(report.get_flat_relative_ids(upstream=True)) == set(tasks) - {"run_report"}
    # Later steps appear as their functions land (issue 4: forecast; issue 5: publish).
    for step in ("forecast", "transform_forecasts", "publish"):
        assert (step in tasks) == hasattr(steps, step)


def test_weekly_training_dag_calls_the_train_step(dagbag: Any):
    from airflow.timetables.assets import AssetOrTimeSchedule

    dag = dagbag.get_dag("nova_weekly_training")
    (task,) = dag.tasks
    assert task.task_id == "train"
    assert task.op_kwargs == {"step": "train"}
    assert dag.max_active_runs == 1
    # weekly, and data-aware: the gold training reads, as nova_daily's dbt task emits it
    assert isinstance(dag.timetable, AssetOrTimeSchedule)
    assert "0 2 * * 0" in dag.timetable.timetable.summary
    daily = dagbag.get_dag("nova_daily")
    emitted = {a.uri for t in daily.tasks for a in t.outlets}
    wanted = {a.uri for _, a in dag.timetable.asset_condition.iter_assets()}
    assert wanted == {af.gold_asset_uri("fct_daily_demand", get_settings())}
    assert wanted <= emitted
    assert "date" in dag.params


def test_daily_dag_takes_params_and_every_task_announces_its_failure(dagbag: Any):
    dag = dagbag.get_dag("nova_daily")
    assert set(dag.params) == {"date", "sources"}
    assert dag.params.get_param("date").value is None
    for task in dag.tasks:
        callbacks = task.on_failure_callback
        callbacks = callbacks if isinstance(callbacks, list) else [callbacks]
        assert af.on_task_failure in callbacks, task.task_id


def test_the_weekly_dag_calls_the_training_step_of_nova_train():
    # af.step_task resolves the step by name on backend.pipeline.steps
    assert callable(steps.train)
    assert "ml.train" in inspect.getsource(steps.train)
