"""What the API's /metrics serves: its own counters, summed over every worker process, and
the pipeline's health, read from the lake.

Several workers: `nova serve` points prometheus_client's multiprocess mode at one
directory (``NOVA_METRICS_DIR``, or a fresh temporary one), emptied before the workers
start; each worker writes its counters to its own files there, and whichever worker
answers a scrape sums them (:class:`prometheus_client.multiprocess.MultiProcessCollector`).
A worker that stops marks itself dead, so its live gauges (WebSocket clients, consumer
lag) leave the sums.

The pipeline is a batch process that exits after each run, so it exports nothing itself:
its run reports in the lake are the record. :class:`PipelineMetrics` reads the latest
reports (each file parsed once; a scrape lists the report folder) and the published gold
version (per-table commit times and the day's stock alerts, read once per version), and
turns them into gauges at each scrape.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow.fs as pafs
from prometheus_client import CollectorRegistry, generate_latest, values
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import REGISTRY, Collector

from backend.lake import delta
from backend.settings import Settings

log = logging.getLogger(__name__)

# Modules that define the metrics of the API and of `nova stream` (imported to list them).
METRIC_MODULES = (
    "backend.api.metrics",
    "backend.api.cache",
    "backend.events.metrics",
    "backend.events.stream",
)
RUN_STATUSES = ("success", "degraded", "failed")
STAMP_FORMAT = "%Y%m%dT%H%M%SZ"


# --- several worker processes ---------------------------------------------------------------


def prepare_multiprocess_dir(path: Path | None) -> Path:
    """The directory the workers' counters go to, emptied (a restart must not add the
    previous run's counts to the new ones); a new temporary one when ``path`` is None."""
    if path is None:
        return Path(tempfile.mkdtemp(prefix="nova-metrics-"))
    path.mkdir(parents=True, exist_ok=True)
    for entry in path.iterdir():
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    return path


def multiprocess_active() -> bool:
    """Whether this process's metrics live in the multiprocess directory (decided by
    prometheus_client when it is first imported, from PROMETHEUS_MULTIPROC_DIR)."""
    return bool(getattr(values.ValueClass, "_multiprocess", False))


def mark_process_dead() -> None:
    """A worker that stops: its live gauges leave the sums (its counters stay counted)."""
    if multiprocess_active():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid())


class _DefaultRegistry(Collector):
    """This process's own metrics (one process: no multiprocess directory)."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


# --- the pipeline, from its run reports -----------------------------------------------------


@dataclass(frozen=True)
class _Summary:
    status: str
    finished: float | None


def _finished_at(report: Mapping[str, Any]) -> float | None:
    """When the run ended: its ``finished_at`` if the report has one, else its start (the
    UTC stamp in its run id) plus its seconds."""
    finished = report.get("finished_at")
    if isinstance(finished, str):
        try:
            return _timestamp(finished)
        except ValueError:
            pass
    try:
        started = datetime.strptime(str(report["run_id"]).split("-")[2], STAMP_FORMAT)
    except (KeyError, IndexError, ValueError):
        return None
    return started.replace(tzinfo=UTC).timestamp() + float(report.get("seconds") or 0.0)


def _timestamp(text: str) -> float:
    """Seconds since the epoch of an ISO date (its midnight, UTC) or datetime (UTC if naive)."""
    if len(text) == 10:
        day = date.fromisoformat(text)
        return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()
    moment = datetime.fromisoformat(text)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _gauge(name: str, doc: str, labels: Iterable[str] = ()) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=list(labels))


class PipelineMetrics:
    """Gauges of the latest run reports and the published gold, for one lake."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._summaries: dict[str, tuple[tuple[int | None, Any], _Summary]] = {}
        self._latest: tuple[str, tuple[int | None, Any], dict[str, Any]] | None = None
        self._gold: tuple[str, list[Metric]] | None = None
        # Scrapes run in worker threads; one at a time reads and fills the caches.
        self._lock = threading.Lock()

    # -- reading -------------------------------------------------------------------------

    def _report_files(self) -> tuple[pafs.FileSystem, list[pafs.FileInfo]]:
        fs, root = delta.filesystem(
            delta.table_uri("reports", settings=self.settings), self.settings
        )
        infos = fs.get_file_info(pafs.FileSelector(root, recursive=True, allow_not_found=True))
        files = [i for i in infos if i.type == pafs.FileType.File and i.path.endswith(".json")]

        def stamp(info: pafs.FileInfo) -> tuple[str, str]:
            parts = info.base_name.split("-")
            return (parts[2] if len(parts) > 2 else "", info.path)

        return fs, sorted(files, key=stamp, reverse=True)

    @staticmethod
    def _read(fs: pafs.FileSystem, info: pafs.FileInfo) -> dict[str, Any] | None:
        try:
            with fs.open_input_stream(info.path) as stream:
                payload = json.loads(stream.read())
        except (OSError, ValueError) as exc:
            log.warning("run report %s unreadable: %s", info.base_name, exc)
            return None
        return payload if isinstance(payload, dict) else None

    def reports(self) -> tuple[dict[str, Any] | None, dict[str, _Summary]]:
        """The newest report, and the newest run ending in each status (files are parsed
        once each; a rewritten file, e.g. an Airflow retry of the report task, again)."""
        fs, files = self._report_files()
        latest: dict[str, Any] | None = None
        by_status: dict[str, _Summary] = {}
        for info in files:
            signature = (info.size, info.mtime_ns)
            cached = self._summaries.get(info.path)
            if latest is None:  # the newest readable report: all of it is served
                if self._latest is not None and self._latest[:2] == (info.path, signature):
                    report: dict[str, Any] | None = self._latest[2]
                else:
                    report = self._read(fs, info)
                if report is None:
                    continue
                latest = report
                self._latest = (info.path, signature, report)
                summary = _Summary(str(report.get("status", "")), _finished_at(report))
            elif cached is not None and cached[0] == signature:
                summary = cached[1]
            else:
                older = self._read(fs, info)
                if older is None:
                    continue
                summary = _Summary(str(older.get("status", "")), _finished_at(older))
            self._summaries[info.path] = (signature, summary)
            by_status.setdefault(summary.status, summary)
            if all(s in by_status for s in RUN_STATUSES):
                break
        return latest, by_status

    # -- the gauges ----------------------------------------------------------------------

    def families(self, gold: Mapping[str, Any] | None) -> list[Metric]:
        """Every pipeline and gold gauge (each family present, empty when nothing is known,
        so the names are always listed)."""
        with self._lock:
            up = _gauge(
                "nova_pipeline_reports_up", "1 when the run reports could be listed and read"
            )
            try:
                latest, by_status = self.reports()
                up.add_metric([], 1)
            except Exception as exc:  # the lake unreachable: say so, serve the rest
                log.warning("run reports unreadable: %s", exc)
                latest, by_status = None, {}
                up.add_metric([], 0)
            return [up, *self._report_families(latest, by_status), *self._gold_families(gold)]

    def _report_families(
        self, report: Mapping[str, Any] | None, by_status: Mapping[str, _Summary]
    ) -> Iterator[Metric]:
        last = _gauge(
            "nova_pipeline_last_finished_timestamp_seconds",
            "When the latest run that ended in each status finished (Unix seconds)",
            ["status"],
        )
        for ended, summary in sorted(by_status.items()):
            if summary.finished is not None and ended in RUN_STATUSES:
                last.add_metric([ended], summary.finished)
        yield last
        status = _gauge(
            "nova_pipeline_run_status",
            "The latest run's status: 1 on its status, 0 on the others",
            ["status"],
        )
        finished = _gauge(
            "nova_pipeline_run_finished_timestamp_seconds",
            "When the latest run finished (Unix seconds)",
        )
        seconds = _gauge("nova_pipeline_run_seconds", "The latest run's duration (seconds)")
        errors = _gauge("nova_pipeline_run_errors", "Errors the latest run's report lists")
        step_seconds = _gauge(
            "nova_pipeline_step_seconds",
            "Seconds of each step of the latest run",
            ["step", "status"],
        )
        step_rows = _gauge(
            "nova_pipeline_step_rows", "Rows each step of the latest run handled", ["step"]
        )
        written = _gauge(
            "nova_pipeline_table_rows_written", "Rows the latest run wrote, by table", ["table"]
        )
        quarantined = _gauge(
            "nova_pipeline_table_rows_quarantined",
            "Rows the latest run's contracts sent to quarantine, by bronze table",
            ["table"],
        )
        tests = _gauge(
            "nova_pipeline_dbt_tests", "dbt tests of the latest run by result", ["result"]
        )
        age = _gauge(
            "nova_pipeline_source_age_days",
            "Age of each source's newest data at the latest run",
            ["source"],
        )
        source_latest = _gauge(
            "nova_pipeline_source_latest_timestamp_seconds",
            "Each source's newest data at the latest run (Unix seconds)",
            ["source"],
        )
        source_status = _gauge(
            "nova_pipeline_source_status",
            "Each source's freshness at the latest run: 1 on its status (e.g. fresh, stale)",
            ["source", "status"],
        )
        if report is not None:
            current = str(report.get("status", ""))
            for name in sorted({*RUN_STATUSES, current} - {""}):
                status.add_metric([name], 1.0 if name == current else 0.0)
            if (at := _finished_at(report)) is not None:
                finished.add_metric([], at)
            seconds.add_metric([], _number(report.get("seconds")) or 0.0)
            errors.add_metric([], float(len(report.get("errors") or [])))
            for step in report.get("steps") or []:
                if not isinstance(step, Mapping) or "name" not in step:
                    continue
                name = str(step["name"])
                step_seconds.add_metric(
                    [name, str(step.get("status", ""))], _number(step.get("seconds")) or 0.0
                )
                step_rows.add_metric([name], _number(step.get("rows")) or 0.0)
            for table, stats in sorted((report.get("tables") or {}).items()):
                if not isinstance(stats, Mapping):
                    continue
                written.add_metric([table], _number(stats.get("rows_written")) or 0.0)
                if table.startswith("bronze."):
                    quarantined.add_metric([table], _number(stats.get("rows_quarantined")) or 0.0)
            for result, count in sorted((report.get("dbt_tests") or {}).items()):
                if (value := _number(count)) is not None:
                    tests.add_metric([str(result)], value)
            # Added to reports by the freshness checks; older reports have none.
            freshness = report.get("freshness")
            for source, state in sorted(
                (freshness if isinstance(freshness, Mapping) else {}).items()
            ):
                if not isinstance(state, Mapping):
                    continue
                if (days := _number(state.get("age_days"))) is not None:
                    age.add_metric([source], days)
                if isinstance(newest := state.get("latest"), str):
                    with contextlib.suppress(ValueError):
                        source_latest.add_metric([source], _timestamp(newest))
                if state.get("status") is not None:
                    source_status.add_metric([source, str(state["status"])], 1.0)
        yield from (status, finished, seconds, errors, step_seconds, step_rows, written,
                    quarantined, tests, age, source_latest, source_status)  # fmt: skip

    def _gold_families(self, gold: Mapping[str, Any] | None) -> list[Metric]:
        published = _gauge(
            "nova_gold_published_timestamp_seconds",
            "When the gold version the API serves was published (Unix seconds)",
        )
        if gold is None:
            return [published, *self._empty_gold()]
        published_at = gold.get("published_at")
        if isinstance(published_at, str):
            with contextlib.suppress(ValueError):
                published.add_metric([], _timestamp(published_at))
        version = str(gold.get("version"))
        if self._gold is None or self._gold[0] != version:
            self._gold = (version, self._read_gold(gold))
        return [published, *self._gold[1]]

    @staticmethod
    def _empty_gold() -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        return (
            _gauge(
                "nova_gold_table_updated_timestamp_seconds",
                "When each served gold table's version was committed (Unix seconds)",
                ["table"],
            ),
            _gauge(
                "nova_gold_stock_alerts",
                "Stock alerts of the served gold's run date (fct_stock_alerts), by severity",
                ["severity"],
            ),
        )

    def _read_gold(self, gold: Mapping[str, Any]) -> list[Metric]:
        """Per-table commit times and the day's alerts by severity: once per gold version."""
        from deltalake import DeltaTable

        from backend.lake.reader import GoldReader

        updated, alerts = self._empty_gold()
        tables = gold.get("tables")
        for table, version in sorted((tables if isinstance(tables, Mapping) else {}).items()):
            uri = delta.table_uri("gold", str(table), settings=self.settings)
            try:
                commit = DeltaTable(
                    uri, version=int(version), storage_options=delta.storage_options(self.settings)
                ).history(1)
            except Exception as exc:
                log.warning("gold table %s: no commit time: %s", table, exc)
                continue
            if commit and (stamp := _number(commit[0].get("timestamp"))) is not None:
                updated.add_metric([str(table)], stamp / 1000.0)
        try:
            rows = GoldReader.published(self.settings, dict(gold)).rows(
                "select severity, count(*) as alerts from delta_scan($t_fct_stock_alerts) group by 1",
                tables=["fct_stock_alerts"],
            )
        except Exception as exc:
            log.warning("gold fct_stock_alerts unreadable: %s", exc)
            rows = []
        counts = {"critical": 0.0, "warning": 0.0}
        counts.update({str(r["severity"]): float(r["alerts"]) for r in rows})
        for severity, count in sorted(counts.items()):
            alerts.add_metric([severity], count)
        return [updated, alerts]


class _Families(Collector):
    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterable[Metric]:
        return self.families


def exposition(pipeline: PipelineMetrics, gold: Mapping[str, Any] | None) -> bytes:
    """The /metrics body (blocking: it may read the lake). In multiprocess mode the
    workers' files are summed; otherwise this process's registry is served as it is."""
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_active():
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_DefaultRegistry())
    registry.register(_Families(pipeline.families(gold)))
    return generate_latest(registry)


def exported_names(settings: Settings) -> set[str]:
    """Every series name the code exports (counters' ``_total``, histograms' ``_bucket``,
    ``_sum`` and ``_count`` included): what alert rules and dashboards may query."""
    for module in METRIC_MODULES:
        importlib.import_module(module)
    names: set[str] = set()
    families = [*REGISTRY.collect(), *PipelineMetrics(settings).families(None)]
    for family in families:
        names.add(family.name)
        suffixes = {
            "counter": ("_total", "_created"),
            "histogram": ("_bucket", "_sum", "_count", "_created"),
            "summary": ("_sum", "_count", "_created"),
        }.get(family.type, ())
        names.update(f"{family.name}{suffix}" for suffix in suffixes)
        names.update(sample.name for sample in family.samples)
    return names
