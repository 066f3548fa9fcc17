"""Running dbt in-process on the committed project and profile."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from backend.settings import Settings

TEST_STATUSES = ("pass", "warn", "fail", "error")


@dataclass
class DbtOutcome:
    success: bool
    nodes: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    def count(self, resource_type: str, status: str) -> int:
        return sum(
            1 for n in self.nodes if n["resource_type"] == resource_type and n["status"] == status
        )

    @property
    def failures(self) -> list[dict[str, Any]]:
        return [n for n in self.nodes if n["status"] in ("fail", "error")]

    def seconds_by_layer(self) -> dict[str, float]:
        """Node execution time summed per layer (silver, gold): where the build goes."""
        totals: dict[str, float] = {}
        for node in self.nodes:
            totals[node["layer"]] = totals.get(node["layer"], 0.0) + node["seconds"]
        return totals


def layer_of(fqn: list[str]) -> str:
    """Marts are gold; seeds, staging and intermediate models (and their tests) silver."""
    return "gold" if "marts" in fqn else "silver"


@contextmanager
def dbt_environment(
    settings: Settings, run_date: date | None = None, run_start: date | None = None
) -> Iterator[None]:
    """dbt resolves ``env_var()`` in profiles.yml and models from the process environment.

    The run's dates travel as env vars rather than ``--vars``: a changed var makes dbt
    re-parse the whole project (about 2 s a run), a changed env var only what reads it.
    NOVA_RUN_DATE is the run date D; NOVA_RUN_START the first bronze partition that
    incremental models must (re)process.
    """
    env = {
        **settings.dbt_env,
        **settings.dbt_credentials_env,
        "NOVA_RUN_DATE": run_date.isoformat() if run_date else "",
        "NOVA_RUN_START": run_start.isoformat() if run_start else "",
    }
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def dbt_args(command: str, settings: Settings) -> list[str]:
    """Project, profile and target, with dbt's artifacts (manifest, partial parse, logs)
    beside the warehouse they describe: two lakes never share them, and neither do two
    runs on different lakes at once (dbt/target stays the analysts')."""
    project = str(settings.dbt_project_dir)
    args = [command, "--project-dir", project, "--profiles-dir", project]
    if command not in ("deps", "clean"):
        args += ["--target", settings.dbt_target]
    args += [
        "--target-path", str(settings.warehouse_path / "dbt-target"),
        "--log-path", str(settings.warehouse_path / "dbt-logs"),
    ]  # fmt: skip
    return args


# dbt commands that read sources (parse, docs, deps and clean do not)
SPARK_STAGED_COMMANDS = ("build", "run", "test", "seed", "show", "compile", "source")


def prepare_local_spark(settings: Settings) -> None:
    """On dbt's local Spark session, bronze must be staged into the session's catalog
    before dbt reads it (backend/lake/spark.py); a cluster reads the lake itself."""
    if settings.spark_method != "session":
        return
    from backend.lake.spark import local_session, stage_sources

    stage_sources(local_session(settings), settings)


def run_dbt(
    command: str,
    settings: Settings,
    *,
    select: list[str] | None = None,
    run_date: date | None = None,
    run_start: date | None = None,
    on_node: Callable[[str, str], None] | None = None,
    on_total: Callable[[int], None] | None = None,
    extra: list[str] | None = None,
) -> DbtOutcome:
    """Invoke dbt; ``on_node(name, status)`` is called as each node finishes, and
    ``on_total(n)`` once dbt knows how many nodes it will run."""
    from dbt.cli.main import dbtRunner

    announced = False

    def callback(event: Any) -> None:
        nonlocal announced
        name = event.info.name
        if on_total is not None and not announced and name == "LogStartLine":
            announced = True
            on_total(int(event.data.total))
        if on_node is not None and name == "NodeFinished":
            info = event.data.node_info
            on_node(info.node_name, info.node_status)

    # --quiet: the caller shows progress from the node events; dbt still prints errors.
    args = ["--quiet", *dbt_args(command, settings)]
    if select:
        args += ["--select", *select]
    args += extra or []
    settings.warehouse_path.mkdir(parents=True, exist_ok=True)
    with dbt_environment(settings, run_date, run_start):
        if command in SPARK_STAGED_COMMANDS and settings.dbt_target == "spark":
            prepare_local_spark(settings)
        result = dbtRunner(callbacks=[callback]).invoke(args)
    nodes = []
    for node_result in getattr(result.result, "results", None) or []:
        node = node_result.node
        nodes.append(
            {
                "unique_id": node.unique_id,
                "resource_type": str(node.resource_type),
                "layer": layer_of(list(getattr(node, "fqn", []))),
                "status": str(node_result.status),
                "seconds": round(node_result.execution_time or 0.0, 3),
                "message": node_result.message,
                "rows": (node_result.adapter_response or {}).get("rows_affected"),
            }
        )
    error = None if result.success else str(result.exception or "dbt reported failures")
    return DbtOutcome(success=result.success, nodes=nodes, error=error)


def outcome_from_artifacts(target_dir: Path) -> DbtOutcome:
    """A finished dbt invocation's outcome from the artifacts it left (run_results.json,
    manifest.json): for runs that happened in another process, such as Airflow's."""
    results = json.loads((target_dir / "run_results.json").read_text())
    manifest = json.loads((target_dir / "manifest.json").read_text())
    known = {**manifest.get("nodes", {}), **manifest.get("unit_tests", {})}
    nodes = []
    for result in results["results"]:
        unique_id = result["unique_id"]
        node = known.get(unique_id, {})
        nodes.append(
            {
                "unique_id": unique_id,
                "resource_type": node.get("resource_type", unique_id.split(".", 1)[0]),
                "layer": layer_of(list(node.get("fqn", []))),
                "status": str(result["status"]),
                "seconds": round(result.get("execution_time") or 0.0, 3),
                "message": result.get("message"),
                "rows": (result.get("adapter_response") or {}).get("rows_affected"),
            }
        )
    outcome = DbtOutcome(success=True, nodes=nodes, seconds=float(results.get("elapsed_time", 0)))
    if outcome.failures:
        outcome.success = False
        outcome.error = "dbt reported failures"
    return outcome
