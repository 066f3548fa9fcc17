"""Saved run reports: ``<lake>/reports/run_date=<D>/<run id>.json``, written by every
``nova run``, backfill batch and Airflow DAG run (backend/pipeline/steps.py write_report).

Read live, not through the gold-version cache: a failed run writes its report without
publishing a new gold version, and that is exactly the run a planner must see.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any

import pyarrow.fs as pafs
from fastapi import APIRouter, HTTPException, Path, status

from backend.api.deps import CurrentPrincipal, LakeDep
from backend.api.routes.common import ERRORS, NOT_FOUND, STRICT, Limit, Offset
from backend.api.schemas_planner import RunReportPublic, RunsPublic, RunSummary
from backend.lake import delta
from backend.lake.reader import GoldReader
from backend.settings import Settings

router = APIRouter(prefix="/runs", tags=["runs"], responses=ERRORS, dependencies=STRICT)

# <start>-<end>-<UTC stamp>-<6 hex>, as backend/pipeline/context.py new_run_id and
# airflow_support.run_id_for make them. Checked before the id goes near a path.
RUN_ID = r"^\d{8}-\d{8}-\d{8}T\d{6}Z-[0-9a-f]{6}$"
_RUN_ID = re.compile(RUN_ID)
RunId = Annotated[
    str,
    Path(
        pattern=RUN_ID,
        max_length=41,
        description="A run id (`nova run` prints it).",
        examples=["20261031-20261031-20261101T050312Z-a1b2c3"],
    ),
]


def reports_root(settings: Settings) -> str:
    return delta.table_uri("reports", settings=settings)


def report_uri(settings: Settings, run_id: str) -> str:
    """Where the report of ``run_id`` lies: its last run date is part of the id."""
    if not _RUN_ID.fullmatch(run_id):
        raise ValueError(f"not a run id: {run_id!r}")
    end = datetime.strptime(run_id.split("-")[1], "%Y%m%d").date()  # ValueError: no such day
    return f"{reports_root(settings)}/run_date={end.isoformat()}/{run_id}.json"


def _sort_key(run_id: str) -> tuple[str, str]:
    """Newest first by the UTC stamp, as backend/lake/gold.py latest_report orders them."""
    return run_id.split("-")[2], run_id


def list_run_ids(settings: Settings) -> list[str]:
    """Every saved report's run id, newest first (a listing: no report is read)."""
    fs, root = delta.filesystem(reports_root(settings), settings)
    infos = fs.get_file_info(pafs.FileSelector(root, recursive=True, allow_not_found=True))
    ids = [
        info.base_name.removesuffix(".json")
        for info in infos
        if info.type == pafs.FileType.File and info.base_name.endswith(".json")
    ]
    return sorted((i for i in ids if _RUN_ID.fullmatch(i)), key=_sort_key, reverse=True)


def read_report(settings: Settings, run_id: str) -> dict[str, Any] | None:
    """The saved report of ``run_id``, or None when there is none."""
    try:
        payload = delta.read_json(report_uri(settings, run_id), settings)
    except (FileNotFoundError, ValueError):  # ValueError: not a day, or not JSON
        return None
    return payload if isinstance(payload, dict) else None


def started_at(run_id: str) -> str:
    stamp = datetime.strptime(run_id.split("-")[2], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    return stamp.isoformat()


def summary(report: dict[str, Any]) -> RunSummary:
    return RunSummary(
        run_id=report["run_id"], kind=report.get("kind", "run"),
        status=report.get("status", "running"), start=date.fromisoformat(str(report["start"])),
        end=date.fromisoformat(str(report["end"])), started_at=started_at(report["run_id"]),
        seconds=report.get("seconds"), errors=len(report.get("errors") or []),
    )  # fmt: skip


def detail(report: dict[str, Any]) -> RunReportPublic:
    tables = report.get("tables") or {}
    return RunReportPublic(
        **summary(report).model_dump(),
        steps=report.get("steps") or [],
        tables=tables,
        quarantined=sum(int(t.get("rows_quarantined") or 0) for t in tables.values()),
        dbt_tests=report.get("dbt_tests") or {},
        layers=report.get("layers") or {},
        error_messages=report.get("errors") or [],
        notes=report.get("notes") or [],
    )


def latest_run(settings: Settings) -> RunSummary | None:
    """The newest readable report's summary."""
    for run_id in list_run_ids(settings):
        report = read_report(settings, run_id)
        if report is not None:
            return summary(report)
    return None


@router.get("", response_model=RunsPublic)
async def list_runs(lake: LakeDep, _principal: CurrentPrincipal, limit: Limit = 20,
                    offset: Offset = 0):  # fmt: skip
    """Run reports, newest first: status, dates, duration and error count of each."""

    def build(reader: GoldReader) -> RunsPublic:
        ids = list_run_ids(reader.settings)
        page = []
        for run_id in ids[offset : offset + limit]:
            report = read_report(reader.settings, run_id)
            if report is not None:  # removed between the listing and the read
                page.append(summary(report))
        return RunsPublic(data=page, count=len(ids), limit=limit, offset=offset)

    return await lake.run(build)


@router.get("/{run_id}", response_model=RunReportPublic, responses=NOT_FOUND)
async def get_run(lake: LakeDep, _principal: CurrentPrincipal, run_id: RunId):
    """One run's report: its steps with times and rows, rows and quarantined rows per
    table, dbt test results, errors and notes."""
    report = await lake.run(lambda reader: read_report(reader.settings, run_id))
    if report is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no run {run_id!r}")
    return detail(report)
