"""The pipeline's gauges, read from the run reports and the served gold."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from backend.lake import delta
from backend.observability.metrics import PipelineMetrics, exposition, prepare_multiprocess_dir
from backend.settings import Settings
from tests.services.gold import SCHEMAS, alert_rows, write_gold

START = datetime(2026, 11, 2, 5, 0, tzinfo=UTC)


def report(run_id: str, status: str, **extra: Any) -> dict[str, Any]:
    return {
        "run_id": run_id, "kind": "run", "start": "2026-11-01", "end": "2026-11-01",
        "status": status, "seconds": 120.5,
        "steps": [
            {"name": "extract", "seconds": 1.5, "status": "success", "rows": 900, "detail": {}},
            {"name": "validate", "seconds": 4.0, "status": "success", "rows": 900, "detail": {}},
            {"name": "transform", "seconds": 115.0, "status": status, "rows": 0, "detail": {}},
        ],
        "tables": {
            "bronze.erp.movements": {"rows_read": 800, "rows_written": 800, "rows_quarantined": 12},
            "bronze.inmet.weather": {"rows_read": 100, "rows_written": 100, "rows_quarantined": 0},
            "gold.fct_daily_demand": {"rows_read": 0, "rows_written": 5000, "rows_quarantined": 0},
        },
        "dbt_tests": {"pass": 40, "warn": 1, "fail": 0, "error": 0},
        "errors": ["transform: dbt build failed"] if status == "failed" else [],
        **extra,
    }  # fmt: skip


def save(settings: Settings, payload: dict[str, Any], day: str = "2026-11-01") -> Path:
    path = Path(delta.table_uri("reports", f"run_date={day}", f"{payload['run_id']}.json",
                                settings=settings))  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload))
    return path


def samples(body: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: dict[Any, float], name: str, **labels: str) -> float:
    return found[(name, tuple(sorted(labels.items())))]


def test_no_reports_and_no_gold_still_lists_every_family(settings: Settings) -> None:
    body = exposition(PipelineMetrics(settings), None)
    names = {f.name for f in text_string_to_metric_families(body.decode())}
    assert {"nova_pipeline_run_status", "nova_pipeline_step_seconds",
            "nova_pipeline_source_age_days", "nova_gold_published_timestamp_seconds",
            "nova_gold_stock_alerts"} <= names  # fmt: skip
    assert value(samples(body), "nova_pipeline_reports_up") == 1.0


def test_latest_run_and_last_run_per_status(settings: Settings) -> None:
    save(settings, report("20261101-20261101-20261101T050000Z-aaaaaa", "success"))
    save(settings, report("20261102-20261102-20261102T050000Z-bbbbbb", "failed",
                          freshness={"erp": {"status": "fresh", "latest": "2026-11-02",
                                             "age_days": 0},
                                     "inmet": {"status": "stale", "age_days": 4.5,
                                               "latest": "2026-10-29T12:00:00+00:00"}}),
         day="2026-11-02")  # fmt: skip
    found = samples(exposition(PipelineMetrics(settings), None))
    assert value(found, "nova_pipeline_run_status", status="failed") == 1.0
    assert value(found, "nova_pipeline_run_status", status="success") == 0.0
    assert value(found, "nova_pipeline_run_finished_timestamp_seconds") == START.timestamp() + 120.5
    success_at = START.timestamp() - 86400 + 120.5
    assert value(found, "nova_pipeline_last_finished_timestamp_seconds", status="success") == (
        success_at
    )
    assert value(found, "nova_pipeline_run_errors") == 1.0
    assert value(found, "nova_pipeline_step_seconds", step="transform", status="failed") == 115.0
    assert value(found, "nova_pipeline_step_rows", step="extract") == 900.0
    assert value(found, "nova_pipeline_table_rows_quarantined", table="bronze.erp.movements") == 12
    assert ("nova_pipeline_table_rows_quarantined", (("table", "gold.fct_daily_demand"),)) not in (
        found
    )
    assert value(found, "nova_pipeline_dbt_tests", result="warn") == 1.0
    assert value(found, "nova_pipeline_source_age_days", source="inmet") == 4.5
    assert value(found, "nova_pipeline_source_status", source="inmet", status="stale") == 1.0
    assert value(found, "nova_pipeline_source_latest_timestamp_seconds", source="erp") == (
        datetime(2026, 11, 2, tzinfo=UTC).timestamp()
    )


def test_a_report_without_freshness_and_a_broken_file_are_read_defensively(
    settings: Settings,
) -> None:
    save(settings, report("20261101-20261101-20261101T050000Z-aaaaaa", "degraded"))
    broken = save(settings, {"run_id": "20261102-20261102-20261102T050000Z-cccccc"}, "2026-11-02")
    broken.write_text("{not json")
    found = samples(exposition(PipelineMetrics(settings), None))
    assert value(found, "nova_pipeline_reports_up") == 1.0
    assert value(found, "nova_pipeline_run_status", status="degraded") == 1.0
    assert not [k for k in found if k[0] == "nova_pipeline_source_age_days"]


def test_a_rewritten_report_is_read_again(settings: Settings) -> None:
    """An Airflow retry of the report task rewrites the same file with a new status."""
    metrics = PipelineMetrics(settings)
    payload = report("20261102-20261102-20261102T050000Z-bbbbbb", "failed")
    save(settings, payload)
    assert value(samples(exposition(metrics, None)), "nova_pipeline_run_status", status="failed")
    save(settings, {**payload, "status": "success", "errors": [], "seconds": 300.25})
    found = samples(exposition(metrics, None))
    assert value(found, "nova_pipeline_run_status", status="success") == 1.0
    assert value(found, "nova_pipeline_run_seconds") == 300.25


def test_gold_version_table_times_and_alerts_by_severity(settings: Settings) -> None:
    write_gold(settings, "fct_stock_alerts", alert_rows(), SCHEMAS["fct_stock_alerts"])
    gold = {"version": "v1", "published_at": "2026-11-02T06:00:00+00:00",
            "tables": {"fct_stock_alerts": 0}}  # fmt: skip
    before = datetime.now(UTC).timestamp()
    found = samples(exposition(PipelineMetrics(settings), gold))
    assert value(found, "nova_gold_published_timestamp_seconds") == (
        datetime(2026, 11, 2, 6, tzinfo=UTC).timestamp()
    )
    assert value(found, "nova_gold_stock_alerts", severity="critical") == 1.0
    assert value(found, "nova_gold_stock_alerts", severity="warning") == 1.0
    written = value(found, "nova_gold_table_updated_timestamp_seconds", table="fct_stock_alerts")
    assert before - 60 <= written <= datetime.now(UTC).timestamp() + 1


def test_the_multiprocess_directory_is_emptied(tmp_path: Path) -> None:
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "counter_123.db").write_bytes(b"old")
    assert prepare_multiprocess_dir(folder) == folder
    assert list(folder.iterdir()) == []
    made = prepare_multiprocess_dir(None)
    assert made.is_dir() and made.name.startswith("nova-metrics-")
    made.rmdir()


@pytest.mark.parametrize("bad", [{"freshness": "not a dict"}, {"steps": [{"seconds": 1}]}])
def test_malformed_report_fields_are_skipped(settings: Settings, bad: dict[str, Any]) -> None:
    save(settings, report("20261101-20261101-20261101T050000Z-aaaaaa", "success", **bad))
    found = samples(exposition(PipelineMetrics(settings), None))
    assert value(found, "nova_pipeline_run_status", status="success") == 1.0


def test_an_unreachable_lake_is_reported_not_raised(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: PipelineMetrics) -> None:
        raise OSError("connection refused by the object store")

    monkeypatch.setattr(PipelineMetrics, "_report_files", refuse)
    found = samples(exposition(PipelineMetrics(settings), None))
    assert value(found, "nova_pipeline_reports_up") == 0.0
    assert not [k for k in found if k[0] == "nova_pipeline_run_status"]
