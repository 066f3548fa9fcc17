"""Airflow for the tests: a home in a temp dir with its SQLite metadata database, the
project's Airflow configuration (infra/airflow) and a dbt manifest built for the DAGs.

Airflow reads its configuration when first imported, so the environment is set here,
before any test module imports it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.pipeline.airflow_support import airflow_env
from backend.settings import REPO_ROOT, Settings, get_settings

# Per process (pytest-xdist workers each get theirs); created by the fixture, removed after.
HOME = Path(tempfile.gettempdir()) / f"nova-airflow-{os.getpid()}"
MANIFEST = HOME / "dbt-target" / "manifest.json"
# Retries stay on, with short waits: a failing source still fails after its retries.
TEST_SETTINGS = {
    "NOVA_AIRFLOW_DBT_MANIFEST": str(MANIFEST),
    "NOVA_AIRFLOW_RETRY_DELAY_SECONDS": "0.1",
    "NOVA_AIRFLOW_EXTRACT_RETRIES": "1",
    "NOVA_AIRFLOW_DBT_POKE_SECONDS": "1",
}
ENV = {**airflow_env(HOME, Settings()), **TEST_SETTINGS}
os.environ.update(ENV)


def airflow_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `airflow ARGS` in a fresh process with the test home; fails with its output."""
    airflow = str(Path(sys.executable).with_name("airflow"))
    result = subprocess.run(
        [airflow, *args], env={**os.environ, **(env or {})}, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return result


@pytest.fixture(scope="session")
def airflow_home() -> Iterator[Path]:
    """The migrated metadata database and the manifest (what `make dbt-manifest` builds)."""
    HOME.mkdir(parents=True, exist_ok=True)
    dbt = str(Path(sys.executable).with_name("dbt"))
    project = str(REPO_ROOT / "dbt")
    subprocess.run(
        [dbt, "parse", "--quiet", "--project-dir", project, "--profiles-dir", project,
         "--target-path", str(MANIFEST.parent)],
        check=True,
    )  # fmt: skip
    airflow_cli("db", "migrate")
    get_settings.cache_clear()
    yield HOME
    get_settings.cache_clear()
    shutil.rmtree(HOME, ignore_errors=True)
