"""The pieces of the Airflow runner that need no Airflow: dates, run ids, the report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from unittest.mock import patch
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr

from backend.pipeline import airflow_support as af
from backend.pipeline.context import RunContext, StepResult
from backend.settings import Settings
from tests.services.webhook import Hook, webhook_receiver

BAHIA = ZoneInfo("America/Bahia")


def test_run_date_is_the_logical_day_in_bahia():
    # A scheduled run for D: logical date D 05:00 in Bahia, started on D+1.
    scheduled = datetime(2026, 10, 31, 5, tzinfo=BAHIA)
    assert af.run_date(scheduled, datetime(2026, 11, 1, 8, tzinfo=UTC)) == date(2026, 10, 31)
    # `airflow dags test nova_daily 2026-10-31` with Bahia as the default timezone.
    assert af.run_date(datetime(2026, 10, 31, tzinfo=BAHIA), datetime.now(UTC)) == date(
        2026, 10, 31
    )
    # 01:00 UTC on Nov 1 is still Oct 31 in Bahia (UTC-3).
    assert af.run_date(datetime(2026, 11, 1, 1, tzinfo=UTC), datetime.now(UTC)) == date(
        2026, 10, 31
    )
    # Triggered with no logical date: yesterday in Bahia.
    assert af.run_date(None, datetime(2026, 11, 1, 2, tzinfo=UTC)) == date(2026, 10, 30)


def test_run_id_is_the_same_for_every_task_of_a_dag_run():
    after = datetime(2026, 11, 1, 8, tzinfo=UTC)
    day = date(2026, 10, 31)
    first = af.run_id_for(day, "scheduled__2026-10-31T08:00:00+00:00", after)
    assert first == af.run_id_for(day, "scheduled__2026-10-31T08:00:00+00:00", after)
    assert first != af.run_id_for(day, "manual__2026-11-01T09:00:00+00:00", after)
    assert first.startswith("20261031-20261031-20261101T080000Z-")
    assert "/" not in first and ":" not in first


@dataclass
class FakeDagRun:
    run_id: str
    run_after: datetime


def _ctx(settings: Settings, sources: tuple[str, ...]) -> RunContext:
    airflow_context = {
        "logical_date": datetime(2026, 10, 31, 5, tzinfo=BAHIA),
        "dag_run": FakeDagRun("manual__x", datetime(2026, 11, 1, 8, tzinfo=UTC)),
    }
    return af.context_for(airflow_context, sources, settings)


def _part(settings: Settings, sources: tuple[str, ...], step: str, ok: bool) -> None:
    ctx = _ctx(settings, sources)
    ctx.report.table(f"bronze.{sources[0]}.rows").rows_written = 5
    ctx.report.steps.append(StepResult(step, 1.0, "success" if ok else "failed"))
    if not ok:
        ctx.report.errors.append(f"{step}: source down")
    af.save_part(ctx, step)


def test_report_merges_the_tasks_shares_and_marks_an_optional_source_degraded(
    settings: Settings,
):
    sources = ("erp", "weather")
    # every step of the ERP path: the extract, its check, dbt and the later steps that exist
    erp_path = af.expected_steps(["erp"])
    assert erp_path[:3] == ["extract_erp", "validate_erp", "transform"]
    for step in erp_path:
        _part(settings, ("erp",), step, ok=True)
    _part(settings, ("weather",), "extract_weather", ok=False)

    ctx = _ctx(settings, sources)
    af.merge_parts(ctx, af.load_parts(ctx))

    report = ctx.report
    assert report.status == "degraded"
    assert [s.name for s in report.steps] == [
        "extract_erp",
        "extract_weather",
        "validate_erp",
        "validate_weather",
        *erp_path[2:],
    ]
    assert {s.name: s.status for s in report.steps}["validate_weather"] == "skipped"
    assert report.tables["bronze.erp.rows"].rows_written == 5 * len(erp_path)
    assert "extract_weather: source down" in report.errors


def test_report_fails_when_the_erp_or_the_dbt_build_did_not_succeed(settings: Settings):
    _part(settings, ("erp",), "extract_erp", ok=False)
    ctx = _ctx(settings, ("erp",))
    af.merge_parts(ctx, af.load_parts(ctx))
    assert ctx.report.status == "failed"
    assert {s.name: s.status for s in ctx.report.steps}["transform"] == "skipped"


def test_a_step_that_skips_itself_leaves_the_run_successful_with_its_reason(settings: Settings):
    from backend.pipeline.forecast import StepSkipped

    for step in af.expected_steps(["erp"]):
        if step == "forecast":
            ctx = _ctx(settings, ("erp",))

            def no_champion() -> None:
                raise StepSkipped("no champion model: run `nova train`")

            assert af.run_step(ctx, step, no_champion) is None
        else:
            _part(settings, ("erp",), step, ok=True)
    ctx = _ctx(settings, ("erp",))
    af.merge_parts(ctx, af.load_parts(ctx))
    assert ctx.report.status == "success"
    assert {s.name: s.status for s in ctx.report.steps}["forecast"] == "skipped"
    assert ctx.report.notes == ["forecast skipped: no champion model: run `nova train`"]


def test_a_stale_optional_source_makes_the_merged_report_degraded(settings: Settings):
    for step in af.expected_steps(["erp"]):
        _part(settings, ("erp",), step, ok=True)
    ctx = _ctx(settings, ("bacen",))
    ctx.report.freshness["bacen"] = {"source": "bacen", "status": "stale", "newest": "2026-10-20"}
    ctx.report.errors.append("bacen is stale: newest data 2026-10-20")
    ctx.report.notifications["sent"] = 2
    ctx.report.steps.append(StepResult("extract_bacen", 1.0, "success"))
    af.save_part(ctx, "extract_bacen")
    _part(settings, ("bacen",), "validate_bacen", ok=True)

    merged = _ctx(settings, ("erp", "bacen"))
    af.merge_parts(merged, af.load_parts(merged))
    assert merged.report.status == "degraded"
    assert merged.report.freshness["bacen"]["status"] == "stale"
    assert "bacen is stale: newest data 2026-10-20" in merged.report.errors
    assert merged.report.notifications == {"sent": 2, "failed": 0}


def _dbt_failed_first(settings: Settings, *, later_ran: bool) -> RunContext:
    for step in af.expected_steps(["erp"]):
        if step == af.TRANSFORM:
            _part(settings, ("erp",), step, ok=False)
        elif step in af.LATER_STEPS and not later_ran:
            continue
        else:
            _part(settings, ("erp",), step, ok=True)
    ctx = _ctx(settings, ("erp",))
    af.merge_parts(ctx, af.load_parts(ctx))
    return ctx


def test_a_dbt_build_retried_by_its_node_tasks_leaves_the_run_successful(settings: Settings):
    # The producer's first try failed; its retry did not build again, the model tasks
    # rebuilt their nodes, and forecast (downstream of every dbt task) ran.
    ctx = _dbt_failed_first(settings, later_ran=True)
    assert ctx.report.status == "success"
    transform = next(s for s in ctx.report.steps if s.name == af.TRANSFORM)
    assert transform.status == "success"
    assert transform.detail["first_try"] == ""
    assert not [e for e in ctx.report.errors if e.startswith("transform")]
    assert any("failed on its first try" in n for n in ctx.report.notes)


def test_a_dbt_build_that_stayed_failed_fails_the_run(settings: Settings):
    ctx = _dbt_failed_first(settings, later_ran=False)
    assert ctx.report.status == "failed"
    assert "transform: source down" in ctx.report.errors


def test_manual_run_params_choose_the_date_and_the_sources(settings: Settings):
    airflow_context = {
        "logical_date": None,
        "dag_run": FakeDagRun("manual__y", datetime(2026, 11, 20, 8, tzinfo=UTC)),
        "params": {"date": "2026-10-15", "sources": ["erp", "bacen"]},
    }
    ctx = af.context_for(airflow_context, settings=settings)
    assert (ctx.start, ctx.end, ctx.sources) == (date(2026, 10, 15), date(2026, 10, 15),
                                                 ("erp", "bacen"))  # fmt: skip
    assert ctx.run_id.startswith("20261015-20261015-")
    assert af.run_date_macro(None, airflow_context["dag_run"], {"date": "2026-10-15"}) == (
        "2026-10-15"
    )
    # empty Params: the logical date's day and every source
    assert af.param_date({"date": None}) is None and af.param_sources({"sources": []}) is None
    with pytest.raises(ValueError, match="not a date"):
        af.param_date({"date": "15/10/2026"})
    with pytest.raises(ValueError, match="unknown"):
        af.param_sources({"sources": ["erp", "nope"]})
    with pytest.raises(ValueError, match="must include"):
        af.param_sources({"sources": ["bacen"]})


@dataclass
class FakeTaskInstance:
    task_id: str


def test_a_failed_task_announces_the_run_once_and_an_optional_source_does_not(
    settings: Settings,
):
    hook = Hook()
    with webhook_receiver(hook) as url:
        notifying = settings.model_copy(update={"notify_webhook_url": SecretStr(url)})
        base = {
            "logical_date": datetime(2026, 10, 31, 5, tzinfo=BAHIA),
            "dag_run": FakeDagRun("manual__x", datetime(2026, 11, 1, 8, tzinfo=UTC)),
            "exception": RuntimeError("ERP refused the connection"),
        }
        with patch.object(af, "get_settings", return_value=notifying):
            af.on_task_failure({**base, "ti": FakeTaskInstance("extract_bacen")})
            assert hook.bodies == []
            af.on_task_failure({**base, "ti": FakeTaskInstance("extract_erp")})
            af.on_task_failure({**base, "ti": FakeTaskInstance("run_report")})
    (body,) = hook.bodies
    assert "2026-10-31 failed: extract_erp: ERP refused the connection" in body["text"]
