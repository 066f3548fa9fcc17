"""Run dbt in-process on the committed project, the way the pipeline does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from backend.settings import Settings


def invoke_dbt(args: list[str], settings: Settings, work_dir: Path) -> Any:
    """``dbt <args>`` with the profile's env vars from ``settings``; output under ``work_dir``."""
    from dbt.cli.main import dbtRunner

    project = str(settings.dbt_project_dir)
    command, *rest = args
    common = [
        "--project-dir", project,
        "--profiles-dir", project,
        "--target", "duckdb",
        "--target-path", str(work_dir / "target"),
        "--log-path", str(work_dir / "logs"),
    ]  # fmt: skip
    with pytest.MonkeyPatch.context() as env:
        for key, value in settings.dbt_env.items():
            env.setenv(key, value)
        return dbtRunner().invoke(["--quiet", command, *common, *rest])
