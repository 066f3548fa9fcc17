"""Airflow's own task logging (structlog, JSON) carries the run id, step and source that a
task's step binds: run in a fresh process, as Airflow's logging configuration is global."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.airflow

SCRIPT = textwrap.dedent(
    """
    import io, logging, sys
    from datetime import date
    from airflow._shared.logging.structlog import configure_logging

    out = io.BytesIO()
    configure_logging(json_output=True, output=out)  # what a task process does
    from backend.pipeline import airflow_support
    from backend.pipeline.context import RunContext
    from backend.settings import Settings

    settings = Settings(lake_root=sys.argv[1] + "/lake", warehouse_dir=sys.argv[1] + "/wh")
    ctx = RunContext(start=date(2026, 11, 1), end=date(2026, 11, 1), settings=settings,
                     sources=("inmet",))
    log = logging.getLogger("backend.ingest.inmet")
    airflow_support.run_step(ctx, "extract_inmet", lambda: log.info("fetched %d stations", 4))
    print(ctx.run_id)
    sys.stdout.write(out.getvalue().decode())
    """
)


def test_task_log_lines_carry_the_run_step_and_source(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    run_id, *lines = result.stdout.splitlines()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    (fetched,) = [r for r in records if r["event"] == "fetched 4 stations"]
    assert (fetched["run_id"], fetched["step"], fetched["source"]) == (
        run_id, "extract_inmet", "inmet"
    )  # fmt: skip
    assert fetched["logger"] == "backend.ingest.inmet"
