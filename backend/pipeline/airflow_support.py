"""What Airflow's tasks call: the RunContext of a DAG run, one pipeline step per task, and
the run report assembled from every task's share.

The DAG files (dags/) only declare; each task calls the same step function as `nova run`
(backend.pipeline.steps) through here. A DAG run is one run of the daily pipeline for a
date D; its tasks run in separate processes, so each rebuilds the same RunContext from the
DAG run (same D, same run id) and saves its share of the report in the lake
(``<lake>/report_parts/run_date=D/<run id>/<task>.json``). The last task merges the
shares and writes the run report where `nova run` writes it.

Airflow is imported inside functions only: the `nova` CLI never needs it.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow.fs as pafs

from backend.ingest.base import registered_sources
from backend.lake import delta
from backend.lake.lock import LakeLock, default_owner
from backend.observability.logs import logged_step
from backend.pipeline import steps
from backend.pipeline.context import RunContext, RunReport, StepResult
from backend.pipeline.dbt import outcome_from_artifacts
from backend.pipeline.forecast import StepSkipped
from backend.settings import REPO_ROOT, Settings, get_settings

TIMEZONE = "America/Bahia"
# The dbt of this environment, whatever PATH the Airflow process has.
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))
# Steps after the dbt build, in the order of `nova run`'s plan. Each becomes a task when
# backend.pipeline.steps defines it (forecast and transform_forecasts: issue 4; publish,
# with the alert outbox and the gold version bump that turns the API cache over: issue 5).
LATER_STEPS = ("forecast", "transform_forecasts", "publish")
REQUIRED_SOURCES = steps.REQUIRED_SOURCES  # the DAG gates dbt on these sources' checks
TRANSFORM = "transform"
REPORT = "run_report"

AirflowContext = Mapping[str, Any]


def param_date(params: Mapping[str, Any] | None) -> date | None:
    """The ``date`` Param of a manual run (YYYY-MM-DD), or None."""
    value = (params or {}).get("date")
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"Param date: {value!r} is not a date (YYYY-MM-DD)") from None


def param_sources(params: Mapping[str, Any] | None) -> tuple[str, ...] | None:
    """The ``sources`` Param of a manual run (a list of source names), or None for all."""
    value = (params or {}).get("sources")
    if not value:
        return None
    names = [value] if isinstance(value, str) else list(value)
    known = registered_sources()
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"Param sources: unknown {unknown}; known: {known}")
    missing = [r for r in REQUIRED_SOURCES if r not in names]
    if missing:
        raise ValueError(f"Param sources must include {missing}: every mart is built on it")
    return tuple(dict.fromkeys(names))


def run_date(logical_date: datetime | None, run_after: datetime) -> date:
    """The date D that a DAG run processes.

    A scheduled run covers the day D: its data interval is [D 05:00, D+1 05:00) in
    America/Bahia, it starts once that interval has ended (D+1 at 05:00, when D's
    movements are all in the ERP), and its logical date is D 05:00. So D is the logical
    date's calendar day in America/Bahia, for backfills and `airflow dags test nova_daily D`
    alike (infra/airflow sets Bahia as Airflow's default timezone, so a bare date means
    midnight there). A run triggered without a logical date processes yesterday.
    """
    zone = ZoneInfo(TIMEZONE)
    if logical_date is None:
        return (run_after.astimezone(zone) - timedelta(days=1)).date()
    return logical_date.astimezone(zone).date()


def run_id_for(day: date, airflow_run_id: str, run_after: datetime) -> str:
    """The pipeline's run id for a DAG run: the same in every task of that run, and shaped
    like `nova run`'s (dates, UTC stamp, 6 hex digits) so reports sort the same way."""
    stamp = run_after.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    digest = hashlib.sha256(airflow_run_id.encode()).hexdigest()[:6]
    return f"{day:%Y%m%d}-{day:%Y%m%d}-{stamp}-{digest}"


def context_for(
    airflow_context: AirflowContext,
    sources: tuple[str, ...] | None = None,
    settings: Settings | None = None,
) -> RunContext:
    """The RunContext of the task's DAG run (a daily run of D over ``sources``)."""
    dag_run = airflow_context["dag_run"]
    params = airflow_context.get("params")
    day = param_date(params) or run_date(airflow_context.get("logical_date"), dag_run.run_after)
    if sources is None:
        sources = param_sources(params) or tuple(registered_sources())
    return RunContext(
        start=day,
        end=day,
        settings=settings or get_settings(),
        kind="run",
        sources=sources,
        run_id=run_id_for(day, dag_run.run_id, dag_run.run_after),
    )


def run_date_macro(
    logical_date: datetime | None, dag_run: Any, params: Mapping[str, Any] | None = None
) -> str:
    """D as text, for templated fields (the dbt tasks' NOVA_RUN_DATE)."""
    return (param_date(params) or run_date(logical_date, dag_run.run_after)).isoformat()


def run_params(default_sources: list[str]) -> dict[str, Any]:
    """The Params a manual run of nova_daily takes (validated by Airflow on trigger):
    ``date`` (D; empty: the logical date's day) and ``sources`` (empty: all)."""
    from airflow.sdk import Param

    return {
        "date": Param(
            None,
            type=["null", "string"],
            format="date",
            description="Run date D (YYYY-MM-DD); empty: the logical date's day in Bahia.",
        ),
        "sources": Param(
            None,
            type=["null", "array"],
            items={"type": "string", "enum": default_sources},
            description="Sources to extract (the ERP is required); empty: every source.",
        ),
    }


# --- shares of the report ---------------------------------------------------------------


def _parts_dir(ctx: RunContext) -> str:
    return delta.table_uri(
        "report_parts", f"run_date={ctx.end.isoformat()}", ctx.run_id, settings=ctx.settings
    )


def save_part(ctx: RunContext, task: str) -> None:
    """Save what this task put in the report; a retry overwrites its earlier try."""
    delta.write_json(f"{_parts_dir(ctx)}/{task}.json", ctx.report.as_dict(), ctx.settings)


def load_parts(ctx: RunContext) -> dict[str, dict[str, Any]]:
    """Every task's saved share of the run's report, by task."""
    fs, root = delta.filesystem(_parts_dir(ctx), ctx.settings)
    infos = fs.get_file_info(pafs.FileSelector(root, allow_not_found=True))
    parts = {}
    for info in infos:
        if info.type == pafs.FileType.File and info.base_name.endswith(".json"):
            with fs.open_input_stream(info.path) as stream:
                parts[info.base_name.removesuffix(".json")] = json.loads(stream.read())
    return parts


@logged_step  # the task's log lines carry the run id, the step and its one source
def run_step(ctx: RunContext, name: str, call: Callable[[], Any]) -> Any:
    """Run one step as `nova run` does (timed, its result in the report, a failure
    recorded and re-raised) and save the task's share of the report either way."""
    began = time.perf_counter()
    try:
        value = call()
    except StepSkipped as skip:
        # As in `nova run`: not a failure (no champion model yet, say); the task succeeds,
        # the report says why, and the later steps still run.
        ctx.report.steps.append(
            StepResult(name, time.perf_counter() - began, "skipped", {"reason": str(skip)})
        )
        ctx.report.notes.append(f"{name} skipped: {skip}")
        save_part(ctx, name)
        return None
    except Exception as exc:
        ctx.report.steps.append(
            StepResult(name, time.perf_counter() - began, "failed", {"error": str(exc)})
        )
        ctx.report.errors.append(f"{name}: {exc}")
        save_part(ctx, name)
        raise
    ctx.report.steps.append(
        StepResult(name, time.perf_counter() - began, "success", rows=ctx.report.rows_of_step(name))
    )
    save_part(ctx, name)
    return value


# --- what the tasks call ----------------------------------------------------------------


# --- the lake lock of a DAG run -----------------------------------------------------------


def lake_lock(ctx: RunContext) -> LakeLock:
    """The DAG run's share of the lake's run lock. Its tasks run in separate processes
    and cannot beat for each other, so the lease carries a token derived from the run id
    (every task of the run can adopt it) and lasts as long as the DAG run may."""
    return LakeLock(
        ctx.settings,
        owner=default_owner(f"airflow nova_daily {ctx.run_id}"),
        token=hashlib.sha256(f"nova_daily|{ctx.run_id}".encode()).hexdigest()[:16],
        ttl_seconds=ctx.settings.airflow_dagrun_timeout_seconds,
        heartbeat=False,
    )


def hold_lake_lock(ctx: RunContext) -> None:
    """Before a task writes to the lake: adopt the run's lease, or wait for the lock
    (a `nova run` on the same lake) and take it. LockLost if another run took it over."""
    lock = lake_lock(ctx)
    if not lock.resume():
        lock.acquire()
    lock.check()


def release_lake_lock(ctx: RunContext) -> None:
    lock = lake_lock(ctx)
    if lock.resume():
        lock.release()


def _skip_unless_selected(source: str, airflow_context: AirflowContext) -> None:
    """A manual run with the ``sources`` Param leaves the other sources' tasks skipped."""
    selected = param_sources(airflow_context.get("params"))
    if selected is not None and source not in selected:
        from airflow.exceptions import AirflowSkipException

        raise AirflowSkipException(f"source {source!r} not in this run's sources {selected}")


def extract_task(source: str, **airflow_context: Any) -> None:
    """One source's extract for D into bronze, and its freshness on D."""
    _skip_unless_selected(source, airflow_context)
    ctx = context_for(airflow_context, (source,))
    hold_lake_lock(ctx)
    run_step(ctx, f"extract_{source}", lambda: steps.extract_source(ctx, source))


def validate_task(source: str, **airflow_context: Any) -> None:
    """One source's bronze contracts for D; failing rows go to quarantine."""
    _skip_unless_selected(source, airflow_context)
    ctx = context_for(airflow_context, (source,))
    hold_lake_lock(ctx)
    run_step(ctx, f"validate_{source}", lambda: steps.validate(ctx))


def step_task(step: str, **airflow_context: Any) -> None:
    """A later step of the pipeline (forecast, publish ...) over every source."""
    ctx = context_for(airflow_context)
    if step != "train":  # the weekly training writes to MLflow, not the lake
        hold_lake_lock(ctx)
    run_step(ctx, step, lambda: getattr(steps, step)(ctx))


def dbt_build_done(project_dir: str, context: AirflowContext, **_: Any) -> None:
    """Called by the cosmos task that ran `dbt build` (success or not), in its temporary
    project: puts the build's outcome in the report as `nova run`'s transform step does."""
    ctx = context_for(context)
    target = Path(project_dir) / "target"
    if not (target / "run_results.json").is_file():
        return  # dbt stopped before building anything; the report shows no transform
    outcome = outcome_from_artifacts(target)
    began = time.perf_counter()
    try:
        steps.record_transform(ctx, outcome)
    except steps.DbtBuildError as exc:
        ctx.report.errors.append(f"{TRANSFORM}: {exc}")
        result = StepResult(TRANSFORM, outcome.seconds, "failed", {"error": str(exc)})
    else:
        rows = ctx.report.rows_of_step(TRANSFORM)
        result = StepResult(TRANSFORM, outcome.seconds, "success", rows=rows)
    result.seconds += time.perf_counter() - began
    ctx.report.steps.append(result)
    save_part(ctx, TRANSFORM)


def expected_steps(sources: list[str]) -> list[str]:
    """The report's steps of a daily DAG run, in order."""
    later = [name for name in LATER_STEPS if hasattr(steps, name)]
    return [
        *(f"extract_{s}" for s in sources),
        *(f"validate_{s}" for s in sources),
        TRANSFORM,
        *later,
    ]


def merge_parts(ctx: RunContext, parts: Mapping[str, Mapping[str, Any]]) -> None:
    """Fold the tasks' shares into the run's report and decide its status: failed when a
    step the marts need failed or never ran, degraded when only optional sources did."""
    report = ctx.report
    for name in expected_steps(list(ctx.sources)):
        part = parts.get(name)
        if part is None:
            report.steps.append(StepResult(name, 0.0, "skipped", {"error": "did not run"}))
            continue
        for table, stats in part["tables"].items():
            merged = report.table(table)
            for key, value in stats.items():
                setattr(merged, key, getattr(merged, key) + value)
        for step in part["steps"]:
            step = {k: v for k, v in step.items() if k != "rows_per_second"}
            report.steps.append(StepResult(**step))
        for status, count in part["dbt_tests"].items():
            report.dbt_tests[status] += count
        report.layers.update(part["layers"])
        report.errors.extend(part["errors"])
        report.notes.extend(part.get("notes", []))
        report.freshness.update(part.get("freshness", {}))
        for key, count in part.get("notifications", {}).items():
            report.notifications[key] = report.notifications.get(key, 0) + count
    _recovered_transform(report, parts)
    optional = {f"{kind}_{s}" for kind in ("extract", "validate") for s in ctx.sources}
    optional -= {f"{kind}_{s}" for kind in ("extract", "validate") for s in REQUIRED_SOURCES}
    # a step that skipped itself gave its reason (a note); one that never ran did not
    missed = [
        s
        for s in report.steps
        if s.status == "failed" or (s.status == "skipped" and "reason" not in s.detail)
    ]
    stale = [c for c in report.freshness.values() if c.get("status") == "stale"]
    if any(s.name not in optional for s in missed):
        report.status = "failed"
    elif missed or stale:
        report.status = "degraded"
        report.errors.extend(f"{s.name}: did not run" for s in missed if s.status == "skipped")
    else:
        report.status = "success"


def _recovered_transform(report: RunReport, parts: Mapping[str, Mapping[str, Any]]) -> None:
    """The dbt build's task (cosmos' producer) reports its one `dbt build`; when that
    failed and Airflow retried, the producer's retry does not build again: each model's
    task re-runs its own node instead. The step after the dbt task group runs only when
    every one of those tasks ended well, so once it ran, the transform recovered: the
    report says so instead of keeping the first try's failure."""
    after = next((name for name in LATER_STEPS if name in parts), None)
    transform = next((s for s in report.steps if s.name == TRANSFORM), None)
    if after is None or transform is None or transform.status != "failed":
        return
    first_try = transform.detail.get("error", "")
    transform.status = "success"
    transform.detail = {"first_try": first_try, "recovered_by": "the dbt node tasks' retries"}
    prefix = f"{TRANSFORM}: "
    report.errors = [e for e in report.errors if not e.startswith(prefix)]
    report.notes.append(
        f"{TRANSFORM}: the dbt build failed on its first try ({first_try}); its models and "
        f"tests passed on their tasks' retries, and {after} ran after them"
    )


def report_task(**airflow_context: Any) -> str:
    """Write the run report; fail (so the DAG run fails) when the run failed."""
    ctx = context_for(airflow_context)
    merge_parts(ctx, load_parts(ctx))
    steps.notify_run(ctx)  # as `nova run` does: a failed or degraded run is announced
    uri = steps.write_report(ctx)
    release_lake_lock(ctx)  # the last task of the run, whatever happened before it
    if ctx.report.status == "failed":
        raise RuntimeError(f"run {ctx.run_id} failed: {'; '.join(ctx.report.errors)}")
    return uri


def on_task_failure(airflow_context: AirflowContext) -> None:
    """on_failure_callback of every nova_daily task (its last try failed): a task the run
    cannot do without announces the run as failed at once, with the task's error, through
    the same function as `nova run` (steps.notify_run). An optional source's task does
    not: the run carries on and its report (degraded) is announced by the report task.
    Never raises: a callback's error would only hide the task's."""
    import logging

    try:
        task_id = str(airflow_context["ti"].task_id)
        optional = {
            f"{kind}_{s}"
            for kind in ("extract", "validate")
            for s in registered_sources()
            if s not in REQUIRED_SOURCES
        }
        if task_id in optional:
            return
        ctx = context_for(airflow_context)
        error = airflow_context.get("exception")
        ctx.report.status = "failed"
        ctx.report.errors.append(f"{task_id}: {error or 'failed'}")
        steps.notify_run(ctx)
        for note in ctx.report.notes:
            logging.getLogger("nova.notify").warning("%s", note)
    except Exception as exc:
        logging.getLogger("nova.notify").warning("failure notification not sent: %s", exc)


# --- declarations the DAGs share --------------------------------------------------------


def gold_models(manifest_path: Path, *, forecast: bool) -> list[str]:
    """Names of the marts (gold tables) in a dbt manifest: those of the daily dbt build,
    or with ``forecast`` those tagged `forecast` (built after the forecast step)."""
    manifest = json.loads(manifest_path.read_text())
    return sorted(
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and "marts" in node["fqn"]
        and ("forecast" in node["tags"]) == forecast
    )


def gold_asset_uri(name: str, settings: Settings) -> str:
    """The URI of a gold table's Airflow Asset: where the table lives."""
    uri = delta.table_uri("gold", name, settings=settings)
    return uri if "://" in uri else f"file://{uri}"


# The gold tables `nova train` reads (ml/data.py: load_gold_demand).
TRAINING_GOLD = ("fct_daily_demand",)


def training_assets(settings: Settings) -> Any:
    """The Assets (all of them: an AssetAll) whose update triggers a training run."""
    from airflow.sdk import Asset, AssetAll

    return AssetAll(*(Asset(gold_asset_uri(name, settings)) for name in TRAINING_GOLD))


def default_args(settings: Settings, owner: str) -> dict[str, Any]:
    """Owner, retries and a time limit of every task (a hung task fails and retries
    instead of holding the run, and its lake lock, forever)."""
    return {
        "owner": owner,
        "retries": settings.airflow_retries,
        "retry_delay": timedelta(seconds=settings.airflow_retry_delay_seconds),
        "execution_timeout": timedelta(seconds=settings.airflow_task_timeout_seconds),
    }


def watch_in_reschedule_mode(group: Any, settings: Settings) -> None:
    """Make the tasks that follow the dbt build's nodes (cosmos watcher sensors) reschedule
    between checks instead of deferring: they hold no worker slot either way, and
    `airflow dags test`, which runs a deferred task's trigger inline until it fires, would
    otherwise wait forever on a node whose build task has not started yet."""
    from cosmos.operators._watcher.base import BaseConsumerSensor

    for task in group.children.values():
        if hasattr(task, "children"):
            watch_in_reschedule_mode(task, settings)
        elif isinstance(task, BaseConsumerSensor):
            task.deferrable = False
            task.mode = "reschedule"
            task.poke_interval = settings.airflow_dbt_poke_seconds


def extract_args(settings: Settings) -> dict[str, Any]:
    """Extract tasks retry longer, with exponential backoff (a source may be down for a
    while; each try waits about twice as long as the one before, at most an hour)."""
    return {
        "retries": settings.airflow_extract_retries,
        "retry_delay": timedelta(seconds=settings.airflow_retry_delay_seconds),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(hours=1),
    }


# --- Airflow's environment ---------------------------------------------------------------

AIRFLOW_ENV_FILE = REPO_ROOT / "infra" / "airflow" / "airflow.env"


def airflow_env(home: Path, settings: Settings) -> dict[str, str]:
    """Airflow's configuration as environment variables: infra/airflow/airflow.env plus
    the paths of this checkout and the metadata database (``airflow_db_url`` or SQLite in
    ``home``). `make airflow`, the tests and the benchmark all start Airflow with it."""
    env = {}
    for line in AIRFLOW_ENV_FILE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            env[key.strip()] = value.strip()
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
            "AIRFLOW__COSMOS__CACHE_DIR": str(home / "cosmos"),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": settings.airflow_db_url
            or f"sqlite:///{home / 'airflow.db'}",
        }
    )
    return env
