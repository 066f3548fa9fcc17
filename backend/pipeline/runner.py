"""The in-process runner: the whole graph of steps for a date or a range, in order."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from backend.lake.lock import LakeLock, default_owner
from backend.observability.logs import StepLogging, logged_run
from backend.pipeline import steps
from backend.pipeline.context import RunContext, StepResult
from backend.pipeline.forecast import StepSkipped


class RunObserver(Protocol):
    """What the CLI's progress display (or a test) hears from the runner."""

    def step_started(self, name: str, total: int | None) -> None: ...
    def step_total(self, name: str, total: int) -> None: ...
    def step_advanced(self, name: str, label: str) -> None: ...
    def step_finished(self, name: str, result: StepResult) -> None: ...


class SilentObserver:
    def step_started(self, name: str, total: int | None) -> None:
        pass

    def step_total(self, name: str, total: int) -> None:
        pass

    def step_advanced(self, name: str, label: str) -> None:
        pass

    def step_finished(self, name: str, result: StepResult) -> None:
        pass


def plan(ctx: RunContext, observer: RunObserver) -> list[tuple[str, Callable[[], Any]]]:
    """The daily graph as (step name, call) in dependency order."""

    def node_done(step: str) -> Callable[[str, str], None]:
        return lambda node, status: observer.step_advanced(step, f"{node} {status}")

    return [
        ("extract", lambda: steps.extract(ctx)),
        ("validate", lambda: steps.validate(ctx)),
        (
            "transform",
            lambda: steps.transform(
                ctx, node_done("transform"), lambda n: observer.step_total("transform", n)
            ),
        ),
        ("forecast", lambda: steps.forecast(ctx)),
        (
            "transform_forecasts",
            lambda: steps.transform_forecasts(
                ctx,
                node_done("transform_forecasts"),
                lambda n: observer.step_total("transform_forecasts", n),
            ),
        ),
        ("publish", lambda: steps.publish(ctx)),
    ]


def run(ctx: RunContext, observer: RunObserver | None = None) -> RunContext:
    """Run every step under the lake's run lock (another run on the same lake waits its
    turn); the report is written to the lake even when a step fails."""
    owner = default_owner(f"nova {ctx.kind} {ctx.run_id}")
    with LakeLock(ctx.settings, owner=owner) as lock, logged_run(ctx):  # lines carry run id, step
        return _run_locked(ctx, StepLogging(observer or SilentObserver()), lock)


def _run_locked(ctx: RunContext, observer: RunObserver, lock: LakeLock) -> RunContext:
    report = ctx.report
    try:
        for name, call in plan(ctx, observer):
            observer.step_started(name, None)
            began = time.perf_counter()
            try:
                if name == "publish":
                    lock.check()  # a run that lost its lease must not publish over another
                call()
            except StepSkipped as skip:
                # Not a failure: the report says why and what to run (e.g. `nova train`).
                result = StepResult(
                    name, time.perf_counter() - began, "skipped", {"reason": str(skip)}
                )
                report.steps.append(result)
                observer.step_finished(name, result)
                report.notes.append(f"{name} skipped: {skip}")
                continue
            except Exception as exc:
                result = StepResult(
                    name, time.perf_counter() - began, "failed", {"error": str(exc)}
                )
                report.steps.append(result)
                observer.step_finished(name, result)
                report.status = "failed"
                report.errors.append(f"{name}: {exc}")
                raise
            result = StepResult(
                name, time.perf_counter() - began, "success", rows=report.rows_of_step(name)
            )
            report.steps.append(result)
            observer.step_finished(name, result)
        if report.status == "running":
            report.status = "success"
    finally:
        # a run that failed or ended degraded is announced before its report is saved, so
        # the report says whether the notifications went out
        steps.notify_run(ctx)
        steps.write_report(ctx)
    return ctx
