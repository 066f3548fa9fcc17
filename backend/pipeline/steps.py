"""The steps of the daily run. Each is a plain function of a RunContext, so the `nova`
runner and Airflow call exactly the same code."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import pyarrow as pa
from deltalake import DeltaTable

from backend.ingest.base import (
    ExtractWindow,
    ensure_bronze_tables,
    get_source,
    registered_sources,
    write_bronze,
)
from backend.lake import delta
from backend.observability.logs import in_context
from backend.pipeline.context import RunContext
from backend.pipeline.dbt import DbtOutcome, run_dbt
from backend.quality.quarantine import validate_window

if TYPE_CHECKING:
    from backend.notify import NotifyResult

NodeCallback = Callable[[str, str], None]

# Unit tests check the models' logic, not the day's data: CI runs them (tests/unit/dbt),
# the daily run skips them.
DAILY_EXCLUDE = ["--exclude-resource-type", "unit_test"]
# The forecast marts read the forecast step's output, so they build after it.
FORECAST_TAG = "tag:forecast"
FORECAST_MARTS = (
    "fct_forecasts",
    "fct_reorder_points",
    "fct_alert_history",
    "fct_stock_alerts",
    "fct_actions",
)


# The ERP feeds every mart: without it a run cannot go on (`nova run` and Airflow alike).
REQUIRED_SOURCES = ("erp",)


class SourceError(RuntimeError):
    """A source failed; the message names it and why."""


class DbtBuildError(RuntimeError):
    """dbt build finished with failing models or tests."""


# Per (run id, source): the bronze tables this process's extract just wrote, handed to
# the same run's validate step (which takes them out). Airflow runs the steps as separate
# processes: there validate finds nothing here and reads bronze.
_just_written: dict[tuple[str, str], dict[str, pa.Table]] = {}


def extract_source(ctx: RunContext, name: str) -> dict[str, int]:
    """Extract one source for the run's window into bronze; rows written per entity."""
    source = get_source(name)
    window = ExtractWindow(ctx.start, ctx.end, ctx.run_id, ctx.settings)
    try:
        extracts = source.extract(window)
    except Exception as exc:
        raise SourceError(
            f"source {name!r} failed to extract {ctx.start}..{ctx.end}: {exc}"
        ) from exc
    tables: dict[str, pa.Table] = {}
    written = write_bronze(source, window, extracts, keep=tables)
    _just_written[(ctx.run_id, name)] = tables
    source.commit(window, extracts)
    for item in extracts:
        stats = ctx.report.table(f"bronze.{name}.{item.entity}")
        stats.rows_read = item.rows.num_rows
        stats.rows_written = written[item.entity]
        note = item.details.get("note")
        if note:  # e.g. a source that has nothing to give yet (appdb before the API ran)
            ctx.report.notes.append(str(note))
    check_freshness(ctx, name)
    return written


def check_freshness(ctx: RunContext, name: str, *, extracted: bool = True) -> None:
    """Judge the source's freshness on D and put it in the report: a stale ERP raises
    (the run fails), another stale source degrades the run."""
    from backend.pipeline import freshness

    result = freshness.check(name, ctx.end, ctx.settings, extracted=extracted)
    ctx.report.freshness[name] = result.as_dict()
    if result.status != "stale":
        return
    if name in freshness.REQUIRED:
        raise SourceError(result.reason)
    ctx.report.degrade(result.reason)


def extract(ctx: RunContext) -> dict[str, dict[str, int]]:
    """Every source of the run in parallel; one failing source does not stop the others."""
    results: dict[str, dict[str, int]] = {}
    failures: list[str] = []
    for name in registered_sources():
        ensure_bronze_tables(get_source(name), ctx.settings)
    _just_written.clear()  # a run whose validate never came must not hold its tables
    with ThreadPoolExecutor(max_workers=max(1, len(ctx.sources))) as pool:
        futures = {
            name: pool.submit(in_context(extract_source, source=name), ctx, name)
            for name in ctx.sources
        }
        for name, future in futures.items():
            try:
                results[name] = future.result()
            except Exception as exc:
                failures.append(str(exc))
                if name not in ctx.report.freshness:  # a stale source was judged already
                    try:
                        check_freshness(ctx, name, extracted=False)
                    except Exception as check_exc:  # the report must still say the failure
                        ctx.report.notes.append(f"{name}: freshness not checked: {check_exc}")
    if failures:
        if any(name not in results for name in REQUIRED_SOURCES):
            raise SourceError("; ".join(failures))
        for failure in failures:
            ctx.report.degrade(failure)
    return results


def validate(ctx: RunContext) -> dict[str, int]:
    """Check the window's bronze against the contracts; failing rows go to quarantine."""
    quarantined: dict[str, int] = {}
    for name in ctx.sources:
        source = get_source(name)
        written = _just_written.pop((ctx.run_id, name), None)
        counts = validate_window(
            name, list(source.schemas), ctx.start, ctx.end, ctx.settings, written
        )
        for entity, count in counts.items():
            ctx.report.table(f"bronze.{name}.{entity}").rows_quarantined = count
            quarantined[f"{name}.{entity}"] = count
    return quarantined


def transform(
    ctx: RunContext,
    on_node: NodeCallback | None = None,
    on_total: Callable[[int], None] | None = None,
) -> DbtOutcome:
    """One dbt build of silver (staging, intermediate) and gold (marts) with their tests.

    One invocation rather than one per layer: dbt's start-up and parse cost about 5 s
    each time, and one DAG lets gold models start while other silver tests still run.
    The dbt plugin publishes each mart to gold Delta as it is built.
    """
    return _build(ctx, on_node, on_total, extra=[*DAILY_EXCLUDE, "--exclude", FORECAST_TAG])


def forecast(ctx: RunContext) -> int:
    """The champion model forecasts every item x depot -> ``<lake>/ml/ml_forecasts``."""
    from backend.pipeline.forecast import run_forecast

    return run_forecast(ctx)


def train(ctx: RunContext) -> dict[str, object]:
    """The weekly training run, as `nova train` does it: backtest on gold demand up to the
    run's date, register the challenger, promote it to champion only if it wins."""
    import logging

    from ml.train import train as train_and_register

    summary = train_and_register(
        ctx.settings, run_date=ctx.end, log=logging.getLogger("nova.train").info
    )
    decision = "promoted to champion" if summary.promoted else "champion kept"
    ctx.report.notes.append(
        f"challenger v{summary.version} RMSSE {summary.challenger_score:.4f}: {decision}"
    )
    return {"version": summary.version, "promoted": summary.promoted, "run_id": summary.run_id}


def transform_forecasts(
    ctx: RunContext,
    on_node: NodeCallback | None = None,
    on_total: Callable[[int], None] | None = None,
) -> DbtOutcome:
    """dbt build of the forecast marts: fct_forecasts, fct_reorder_points, the alert
    history, fct_stock_alerts and the work list (fct_actions)."""
    from backend.pipeline.forecast import StepSkipped, has_forecasts_for

    if any(s.name == "forecast" and s.status == "skipped" for s in ctx.report.steps):
        raise StepSkipped("the forecast step was skipped: no fresh forecasts to build on")
    # Airflow runs this as its own task, without the forecast step's report: the lake says
    if not has_forecasts_for(ctx):
        raise StepSkipped(
            f"no forecasts for {ctx.end} in ml/ml_forecasts: the forecast step did not run "
            "for this date (without a champion, run `nova train`)"
        )
    return _build(ctx, on_node, on_total, select=[FORECAST_TAG], extra=DAILY_EXCLUDE)


def _build(
    ctx: RunContext,
    on_node: NodeCallback | None,
    on_total: Callable[[int], None] | None,
    *,
    extra: list[str],
    select: list[str] | None = None,
) -> DbtOutcome:
    outcome = run_dbt(
        "build",
        ctx.settings,
        select=select,
        run_date=ctx.end,
        run_start=ctx.start,
        on_node=on_node,
        on_total=on_total,
        extra=extra,
    )
    record_transform(ctx, outcome)
    return outcome


def record_transform(ctx: RunContext, outcome: DbtOutcome) -> None:
    """Put a dbt build's outcome in the report (tests, time per layer, gold rows); raise
    if it failed. Airflow's dbt tasks (cosmos) report through here too."""
    for status in ctx.report.dbt_tests:
        ctx.report.dbt_tests[status] += outcome.count("test", status)
    for layer, seconds in outcome.seconds_by_layer().items():
        ctx.report.layers[layer] = round(seconds, 3)
    for node in outcome.nodes:
        if node["resource_type"] == "model" and node["layer"] == "gold":
            name = node["unique_id"].rsplit(".", 1)[-1]
            ctx.report.table(f"gold.{name}").rows_written = gold_row_count(ctx, name)
    if not outcome.success:
        failed = ", ".join(f"{n['unique_id']} ({n['status']})" for n in outcome.failures)
        raise DbtBuildError(f"dbt build failed: {failed or outcome.error}")


def gold_row_count(ctx: RunContext, name: str) -> int:
    """Rows of a gold Delta table, from the log's file statistics (no data read)."""
    uri = delta.table_uri("gold", name, settings=ctx.settings)
    if not delta.table_exists(uri, ctx.settings):
        return 0
    table = DeltaTable(uri, storage_options=delta.storage_options(ctx.settings))
    actions = table.get_add_actions(flatten=True)
    return int(sum(actions.column("num_records").to_pylist()))


def publish(ctx: RunContext) -> dict[str, int]:
    """Send new stock alerts to Kafka through the outbox, then bump the gold version."""
    from backend.events.outbox import bump_gold_version, publish_alerts

    result = publish_alerts(ctx.settings, ctx.run_id)
    stats = ctx.report.table("events.stock_alerts")
    stats.rows_read, stats.rows_written = result.alerts, result.sent
    ctx.report.notes.extend(result.notes)
    bump_gold_version(ctx.settings, ctx.run_id, ctx.end)
    notify_alerts(ctx)
    return {
        "alerts": result.alerts,
        "new": result.new,
        "sent": result.sent,
        "pending": result.pending,
    }


def _record_notifications(ctx: RunContext, result: NotifyResult) -> None:
    ctx.report.notifications["sent"] += result.sent
    ctx.report.notifications["failed"] += result.failed
    ctx.report.notes.extend(result.notes)


def notify_alerts(ctx: RunContext) -> None:
    """Email and webhook the day's new alerts (critical ones on platinum towers at once,
    a digest per depot for the rest); a send that fails is a note, never a failure."""
    from backend.notify import notify_alerts as send_alerts

    _record_notifications(ctx, send_alerts(ctx.settings, run_id=ctx.run_id, run_date=ctx.end))


def notify_run(ctx: RunContext) -> None:
    """Announce the run's outcome when it failed or ended degraded (once per date and
    outcome); `nova run` and Airflow's report task and failure callbacks all call this."""
    from backend.notify import notify_run as send_outcome

    _record_notifications(ctx, send_outcome(ctx.settings, ctx.report.as_dict(), ctx.report_uri))


def write_report(ctx: RunContext) -> str:
    """Save the run report as JSON in the lake; returns its URI."""
    delta.write_json(ctx.report_uri, ctx.report.as_dict(), ctx.settings)
    return ctx.report_uri
