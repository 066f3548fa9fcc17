"""nova_weekly_training: the weekly training run, also triggered by hand from the UI.

Rolling-origin backtest of every candidate model, ensemble weights from backtest error,
logged to MLflow; the challenger becomes `champion` only when it beats it. The task calls
the same function as `nova train` (backend.pipeline.steps.train) for the run's date D,
the logical date's day in America/Bahia as in nova_daily.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG
from airflow.timetables.trigger import CronTriggerTimetable

from backend.pipeline import airflow_support as af
from backend.settings import get_settings

settings = get_settings()

with DAG(
    dag_id="nova_weekly_training",
    description="Weekly backtest and training; promotes a champion only when it wins.",
    # Sundays 02:00 in Bahia, clear of the daily run at 05:00; the run's D is that Sunday.
    schedule=CronTriggerTimetable("0 2 * * 0", timezone=af.TIMEZONE),
    start_date=pendulum.datetime(2023, 11, 5, tz=af.TIMEZONE),
    catchup=False,
    max_active_runs=1,
    default_args=af.default_args(settings, owner="data-science"),
    tags=["nova", "ml", "weekly"],
    doc_md=__doc__,
) as dag:
    PythonOperator(
        task_id="train",
        python_callable=af.step_task,
        op_kwargs={"step": "train"},
        execution_timeout=timedelta(hours=4),
    )
