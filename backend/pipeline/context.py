"""What a run knows: its dates, its id, its settings and the report it fills in."""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

from backend.lake import delta
from backend.settings import Settings


def new_run_id(start: date, end: date) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{start:%Y%m%d}-{end:%Y%m%d}-{stamp}-{secrets.token_hex(3)}"


@dataclass
class TableStats:
    rows_read: int = 0
    rows_written: int = 0
    rows_quarantined: int = 0


@dataclass
class StepResult:
    name: str
    seconds: float
    status: Literal["success", "failed", "skipped"]
    detail: dict[str, Any] = field(default_factory=dict)
    rows: int = 0

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


@dataclass
class RunReport:
    run_id: str
    kind: str
    start: date
    end: date
    status: Literal["running", "success", "degraded", "failed"] = "running"
    tables: dict[str, TableStats] = field(default_factory=dict)
    steps: list[StepResult] = field(default_factory=list)
    dbt_tests: dict[str, int] = field(
        default_factory=lambda: {"pass": 0, "warn": 0, "fail": 0, "error": 0}
    )
    layers: dict[str, float] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Per source of the run: status (fresh, stale, failed), newest data, age in days before
    # D and the limit (backend/pipeline/freshness.py).
    freshness: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Emails and webhook posts this run sent, and those given up (the notes say why).
    notifications: dict[str, int] = field(default_factory=lambda: {"sent": 0, "failed": 0})

    def degrade(self, reason: str) -> None:
        """Record why the run is degraded (an optional source failed or is stale)."""
        self.errors.append(reason)
        if self.status == "running":
            self.status = "degraded"

    def table(self, name: str) -> TableStats:
        return self.tables.setdefault(name, TableStats())

    def rows_of_step(self, step: str) -> int:
        """Rows a step handled: bronze rows for extract and validate, gold rows published
        for the dbt builds, alerts sent for publish."""
        if step == "forecast":
            return sum(s.rows_written for name, s in self.tables.items() if name.startswith("ml."))
        forecast_marts = {
            f"gold.{m}"
            for m in ("fct_forecasts", "fct_reorder_points", "fct_stock_alerts", "fct_actions")
        }
        if step == "transform_forecasts":
            return sum(s.rows_written for name, s in self.tables.items() if name in forecast_marts)
        layer = {"transform": "gold.", "publish": "events."}.get(step, "bronze.")
        return sum(
            s.rows_written
            for name, s in self.tables.items()
            if name.startswith(layer) and name not in forecast_marts
        )

    @property
    def seconds(self) -> float:
        return sum(step.seconds for step in self.steps)

    def as_dict(self) -> dict[str, Any]:
        payload = asdict(self)
        payload["seconds"] = round(self.seconds, 3)
        for step, result in zip(payload["steps"], self.steps, strict=True):
            step["rows_per_second"] = round(result.rows_per_second, 1)
        return payload


@dataclass
class RunContext:
    """One run over the dates [start, end]: a day (``nova run``) or a backfill batch."""

    start: date
    end: date
    settings: Settings
    kind: Literal["run", "backfill"] = "run"
    sources: tuple[str, ...] = ("erp",)
    run_id: str = ""
    report: RunReport = field(init=False)

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        if not self.run_id:
            self.run_id = new_run_id(self.start, self.end)
        self.report = RunReport(run_id=self.run_id, kind=self.kind, start=self.start, end=self.end)

    @property
    def report_uri(self) -> str:
        return delta.table_uri(
            "reports",
            f"run_date={self.end.isoformat()}",
            f"{self.run_id}.json",
            settings=self.settings,
        )
