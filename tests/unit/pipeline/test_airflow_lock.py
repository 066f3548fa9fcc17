"""A DAG run holds the lake's run lock across its tasks (separate processes), so that a
`nova run` on the same lake waits for it, and releases it in its last task."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from backend.lake.lock import LakeLock, LockLost
from backend.pipeline import airflow_support as af
from backend.pipeline.context import RunContext
from backend.settings import Settings

pytestmark = pytest.mark.reliability
BAHIA = ZoneInfo("America/Bahia")


@dataclass
class DagRun:
    run_id: str
    run_after: datetime


def _task_ctx(settings: Settings, airflow_run_id: str) -> RunContext:
    """What each task process rebuilds from its DAG run."""
    return af.context_for(
        {
            "logical_date": datetime(2026, 10, 31, 5, tzinfo=BAHIA),
            "dag_run": DagRun(airflow_run_id, datetime(2026, 11, 1, 8, tzinfo=UTC)),
        },
        ("erp",),
        settings,
    )


def test_the_tasks_of_a_dag_run_share_the_lock_and_nova_run_waits(tmp_path: Path):
    settings = Settings(
        env="test",
        lake_root=str(tmp_path / "lake"),
        warehouse_dir=tmp_path / "wh",
        run_lock_wait_seconds=0,
    )
    af.hold_lake_lock(_task_ctx(settings, "scheduled__1"))  # extract_erp
    af.hold_lake_lock(_task_ctx(settings, "scheduled__1"))  # validate_erp, another process
    nova_run = LakeLock(settings, owner="nova run")
    assert not nova_run.try_acquire()
    with pytest.raises(TimeoutError):  # another DAG run (a manual trigger) waits as well
        af.hold_lake_lock(_task_ctx(settings, "manual__2"))
    af.release_lake_lock(_task_ctx(settings, "scheduled__1"))  # run_report
    assert nova_run.try_acquire()
    with pytest.raises(LockLost):  # a late task of the finished DAG run must not write
        af.lake_lock(_task_ctx(settings, "scheduled__1")).check()
    nova_run.release()
