"""nova_weekly_training: the training run, weekly and whenever the gold it trains on changes.

Rolling-origin backtest of every candidate model, ensemble weights from backtest error,
logged to MLflow; the challenger becomes `champion` only when it beats it. The task calls
the same function as `nova train` (backend.pipeline.steps.train).

Scheduled on Sundays at 02:00 in Bahia (the run's D is that Sunday) or, data-aware, as
soon as nova_daily (or any producer) updates the gold tables training reads
(TRAINING_GOLD: its demand history); such a run's D is the day before it starts, as for
a daily run triggered without a logical date. A manual run takes a ``date`` Param.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, Param
from airflow.timetables.assets import AssetOrTimeSchedule
from airflow.timetables.trigger import CronTriggerTimetable

from backend.pipeline import airflow_support as af
from backend.settings import get_settings

settings = get_settings()

with DAG(
    dag_id="nova_weekly_training",
    description="Weekly and data-aware backtest and training; promotes a champion only when it wins.",
    # Sundays 02:00 in Bahia, clear of the daily run at 05:00, or when the gold it needs
    # has new data: the same Asset URIs nova_daily's dbt tasks emit.
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 2 * * 0", timezone=af.TIMEZONE),
        assets=af.training_assets(settings),
    ),
    start_date=pendulum.datetime(2023, 11, 5, tz=af.TIMEZONE),
    catchup=False,
    max_active_runs=1,
    default_args=af.default_args(settings, owner="data-science"),
    params={
        "date": Param(
            None,
            type=["null", "string"],
            format="date",
            description="Train on gold demand up to this date (YYYY-MM-DD); empty: the run's D.",
        )
    },
    tags=["nova", "ml", "weekly"],
    doc_md=__doc__,
) as dag:
    PythonOperator(
        task_id="train",
        python_callable=af.step_task,
        op_kwargs={"step": "train"},
        execution_timeout=timedelta(hours=4),
    )
