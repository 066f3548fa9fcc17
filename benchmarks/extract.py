"""Benchmark of the external sources' extract on the recorded responses.

For the default demo's network (8 depots, 2,000 items), times each external source alone
(extract + bronze write, as the pipeline's extract step does it), then the four together
the way the extract step runs them (in parallel threads), and prints rows/s per source
and the parallel wall time against the sum of the sources' times. Runs a 3-year backfill
window, then the next day on the same lakes. The recordings' caches are cleared before every measurement, so
each one generates its responses from scratch, as a fresh process would.
Then the ERP: a full load of the demo ERP and its validation (the contracts, quarantine),
and the next day's incremental read (with its lookback) and validation.

    uv run python benchmarks/extract.py [--items 2000 --depots 8 --start 2023-11-02 --end 2026-10-30]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.table import Table

from backend.demo import recorded
from backend.demo.erp import DemoConfig, generate_demo
from backend.pipeline import steps
from backend.pipeline.context import RunContext
from backend.settings import Settings

SOURCES = ("inmet", "bacen", "anatel", "suppliers")
console = Console()


def _clear_recordings() -> None:
    for cache in (recorded._station_year, recorded._sgs_values, recorded.anatel_rows):
        cache.cache_clear()


def _settings(work: Path, erp_url: str, name: str, fresh: bool) -> Settings:
    lake = work / name
    if fresh:
        shutil.rmtree(lake, ignore_errors=True)
    return Settings(
        lake_root=str(lake),
        warehouse_dir=work / "warehouse",
        erp_url=erp_url,
        sources_mode="recorded",
    )


def _window(work: Path, erp_url: str, start: date, end: date, label: str, fresh: bool) -> None:
    table = Table("source", "rows", "seconds", "rows/s", title=f"{label}: {start}..{end}")
    total_rows, total_seconds = 0, 0.0
    for name in SOURCES:
        _clear_recordings()
        ctx = RunContext(
            start, end, _settings(work, erp_url, f"lake-{name}", fresh), sources=(name,)
        )
        began = time.perf_counter()
        written = steps.extract_source(ctx, name)
        seconds = time.perf_counter() - began
        rows = sum(written.values())
        total_rows += rows
        total_seconds += seconds
        table.add_row(name, f"{rows:,}", f"{seconds:.2f}", f"{rows / seconds:,.0f}")
    _clear_recordings()
    ctx = RunContext(start, end, _settings(work, erp_url, "lake-parallel", fresh), sources=SOURCES)
    began = time.perf_counter()
    steps.extract(ctx)
    parallel = time.perf_counter() - began
    assert ctx.report.status != "degraded", ctx.report.errors
    table.add_row("sum of the four", f"{total_rows:,}", f"{total_seconds:.2f}", "")
    table.add_row(
        "parallel extract step",
        f"{total_rows:,}",
        f"{parallel:.2f}",
        f"{total_rows / parallel:,.0f}",
    )
    console.print(table)
    console.print(
        f"parallel / sum of the sources' times: {parallel:.2f} s / {total_seconds:.2f} s "
        f"= {parallel / total_seconds:.2f}"
    )


def _erp(work: Path, erp_url: str, start: date, end: date, day: date) -> None:
    table = Table("step", "rows", "seconds", "rows/s", title=f"erp: {start}..{end}, then {day}")
    for label, (a, b), fresh in (
        ("full load", (start, end), True),
        ("next day", (day, day), False),
    ):
        ctx = RunContext(a, b, _settings(work, erp_url, "lake-erp", fresh), sources=("erp",))
        began = time.perf_counter()
        rows = sum(steps.extract_source(ctx, "erp").values())
        extract_s = time.perf_counter() - began
        began = time.perf_counter()
        held = sum(steps.validate(ctx).values())
        validate_s = time.perf_counter() - began
        table.add_row(f"{label}: extract", f"{rows:,}", f"{extract_s:.2f}", _rate(rows, extract_s))
        table.add_row(
            f"{label}: validate ({held:,} quarantined)",
            f"{rows:,}",
            f"{validate_s:.2f}",
            _rate(rows, validate_s),
        )
    console.print(table)


def _rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f}" if seconds > 0 else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--depots", type=int, default=8)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2023, 11, 2))
    parser.add_argument("--end", type=date.fromisoformat, default=date(2026, 10, 30))
    parser.add_argument("--day", type=date.fromisoformat, default=date(2026, 10, 31))
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="nova-bench-extract-"))
    try:
        erp_url = f"sqlite:///{work / 'erp.sqlite'}"
        # The sources read the ERP's depots and catalogue only; one year of movements is
        # enough and quicker to generate (not timed).
        generate_demo(erp_url, DemoConfig(items=args.items, depots=args.depots, years=1))
        _window(work, erp_url, args.start, args.end, "backfill window", fresh=True)
        # The day after, on the lakes the backfill filled (Anatel: an incremental load).
        _window(work, erp_url, args.day, args.day, "the next day", fresh=False)
        _erp(work, erp_url, args.start, args.end, args.day)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
