"""nova_daily: the daily pipeline for date D, the same steps as `nova run --date D`.

extract_<source> (one per registered source, in parallel, retried with exponential
backoff) -> validate_<source> -> dbt (every model and its tests a task, rendered by
cosmos from dbt/target-airflow/manifest.json: `make dbt-manifest`) -> the later steps that
exist (forecast, transform_forecasts, publish) -> run_report.

D is the logical date's day in America/Bahia; the run for D starts at 05:00 on D+1
(backend/pipeline/airflow_support.py: run_date). A failing source other than the ERP fails
its own tasks; the rest carries on and the run report says "degraded". Each extract task
also judges its source's freshness on D: a stale ERP fails it, another stale source makes
the run degraded (backend/pipeline/freshness.py).

Manual runs take Params: ``date`` (D) and ``sources`` (the others' tasks are skipped).
A task that fails for good announces the failed run at once (backend/notify); the
run_report task announces a degraded one. When the dbt build task fails and is retried,
each model's task rebuilds its own node; the report counts the transform as recovered
once the step after dbt ran.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, Asset, TriggerRule
from airflow.timetables.interval import CronDataIntervalTimetable
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import ExecutionMode, InvocationMode, LoadMode

from backend.ingest.base import registered_sources
from backend.pipeline import airflow_support as af
from backend.pipeline import steps
from backend.settings import get_settings

settings = get_settings()
manifest = settings.airflow_dbt_manifest
if not manifest.is_file():
    raise FileNotFoundError(f"{manifest} is missing: run `make dbt-manifest` first")

# One `dbt build` (the watcher's producer task) runs the whole selection; each model's and
# test's task follows its node's result instead of starting dbt once per node. dbt runs as
# a subprocess: in-process (dbtRunner), cosmos serialises every dbt event to JSON and the
# build took about 3x longer.
dbt_project = ProjectConfig(
    dbt_project_path=settings.dbt_project_dir,
    manifest_path=manifest,
    project_name="nova",
    install_dbt_deps=False,
)
dbt_profile = ProfileConfig(
    profile_name="nova",
    target_name=settings.dbt_target,
    profiles_yml_filepath=settings.dbt_project_dir / "profiles.yml",
)
dbt_env = {
    **settings.dbt_env,
    "NOVA_RUN_DATE": "{{ nova_run_date(logical_date, dag_run, params) }}",
    "NOVA_RUN_START": "{{ nova_run_date(logical_date, dag_run, params) }}",
}

with DAG(
    dag_id="nova_daily",
    description="Daily run of the lakehouse for one date D: sources to gold.",
    schedule=CronDataIntervalTimetable("0 5 * * *", timezone=af.TIMEZONE),
    start_date=pendulum.datetime(2023, 11, 1, tz=af.TIMEZONE),
    catchup=False,
    max_active_runs=1,
    # The run's lake lock lasts this long too (backend/pipeline/airflow_support.py).
    dagrun_timeout=timedelta(seconds=settings.airflow_dagrun_timeout_seconds),
    # A task that fails for good announces the failed run at once (email, webhook), as
    # `nova run` does; the run report task announces a degraded run.
    default_args={
        **af.default_args(settings, owner="data-engineering"),
        "on_failure_callback": af.on_task_failure,
    },
    # A manual run: "Trigger DAG w/ config" with {"date": "2026-10-31", "sources": ["erp"]}.
    params=af.run_params(registered_sources()),
    user_defined_macros={"nova_run_date": af.run_date_macro},
    tags=["nova", "daily"],
    doc_md=__doc__,
) as dag:
    sources = registered_sources()
    validated = {}
    for source in sources:
        extract = PythonOperator(
            task_id=f"extract_{source}",
            python_callable=af.extract_task,
            op_kwargs={"source": source},
            **af.extract_args(settings),
        )
        validate = PythonOperator(
            task_id=f"validate_{source}",
            python_callable=af.validate_task,
            op_kwargs={"source": source},
        )
        extract >> validate
        validated[source] = validate

    # dbt waits for every source to finish, failed or not, and needs the ERP's bronze.
    bronze_ready = EmptyOperator(task_id="bronze_ready", trigger_rule=TriggerRule.ALL_DONE)
    list(validated.values()) >> bronze_ready

    dbt = DbtTaskGroup(
        group_id="dbt",
        project_config=dbt_project,
        profile_config=dbt_profile,
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            exclude=["tag:forecast"],  # built after the forecast step
            emit_datasets=False,  # gold tables are declared as Assets below
        ),
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.WATCHER,
            invocation_mode=InvocationMode.SUBPROCESS,
            dbt_executable_path=af.DBT_EXECUTABLE,
            setup_operator_args={"callback": af.dbt_build_done},
        ),
        operator_args={
            "env": dbt_env,
            "append_env": True,
            "dbt_cmd_flags": steps.DAILY_EXCLUDE,
        },
    )
    [bronze_ready, *(validated[s] for s in af.REQUIRED_SOURCES if s in validated)] >> dbt
    af.watch_in_reschedule_mode(dbt, settings)
    for mart in af.gold_models(manifest, forecast=False):
        dbt.get_child_by_label(mart).get_child_by_label("run").outlets = [
            Asset(af.gold_asset_uri(mart, settings))
        ]

    previous = dbt
    for step in af.LATER_STEPS:
        if not hasattr(steps, step):
            continue  # a step that does not exist yet on this branch
        outlets = []
        if step == "transform_forecasts":
            outlets = [
                Asset(af.gold_asset_uri(mart, settings))
                for mart in af.gold_models(manifest, forecast=True)
            ]
        task = PythonOperator(
            task_id=step,
            python_callable=af.step_task,
            op_kwargs={"step": step},
            outlets=outlets,
        )
        previous >> task
        previous = task

    report = PythonOperator(
        task_id=af.REPORT, python_callable=af.report_task, trigger_rule=TriggerRule.ALL_DONE
    )
    [previous, bronze_ready] >> report
