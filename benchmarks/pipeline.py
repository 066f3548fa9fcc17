"""Benchmark of the spine: demo ERP -> bronze -> dbt on DuckDB -> gold Delta.

Prints the wall time of the initial load (a 3-year backfill as one batch), of one
incremental day, and rows/s per step. Targets on 2 cores: incremental day under 20 s,
3-year backfill under 2 minutes (demo generation not counted).

    uv run python benchmarks/pipeline.py [--items 2000 --depots 8 --towers 600 --years 3]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table

from backend.demo.erp import DemoConfig, generate_demo
from backend.pipeline import runner
from backend.pipeline.context import RunContext, RunReport
from backend.settings import Settings

console = Console()


def _print_run(title: str, wall: float, report: RunReport, target: float) -> None:
    verdict = "[green]meets[/]" if wall < target else "[red]misses[/]"
    console.print(f"\n[bold]{title}[/]: {wall:.1f} s wall ({verdict} the {target:.0f} s target)")
    table = Table("step", "seconds", "rows", "rows/s")
    for step in report.steps:
        table.add_row(
            step.name, f"{step.seconds:.2f}", f"{step.rows:,}", f"{step.rows_per_second:,.0f}"
        )
    console.print(table)
    layers = ", ".join(f"{k} {v:.1f}s" for k, v in sorted(report.layers.items()))
    console.print(f"dbt node time by layer (summed over threads): {layers}")
    tests = report.dbt_tests
    console.print(f"dbt tests: {tests['pass']} passed, {tests['fail'] + tests['error']} failed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--depots", type=int, default=8)
    parser.add_argument("--towers", type=int, default=600)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--end-date", type=date.fromisoformat, default=date(2026, 10, 31))
    parser.add_argument("--workdir", type=Path, help="keep the lake here (default: a temp dir)")
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="nova-bench-"))
    settings = Settings(
        lake_root=str(workdir / "lake"),
        warehouse_dir=workdir / "warehouse",
        erp_url=f"sqlite:///{workdir / 'erp.sqlite'}",
    )
    config = DemoConfig(
        items=args.items,
        depots=args.depots,
        towers=args.towers,
        years=args.years,
        end_date=args.end_date,
    )
    try:
        began = time.perf_counter()
        counts = generate_demo(settings.erp_url, config)
        console.print(
            f"demo ERP ({args.items} items, {args.depots} depots, {args.towers} towers, "
            f"{args.years} years): {time.perf_counter() - began:.1f} s (not counted), "
            + ", ".join(f"{name} {rows:,}" for name, rows in counts.items())
        )
        first = config.end_date - timedelta(days=config.years * 365 - 1)
        last = config.end_date

        backfill = RunContext(
            start=first, end=last - timedelta(days=1), settings=settings, kind="backfill"
        )
        began = time.perf_counter()
        runner.run(backfill)
        _print_run(
            f"backfill {first}..{last - timedelta(days=1)}",
            time.perf_counter() - began,
            backfill.report,
            120,
        )

        daily = RunContext(start=last, end=last, settings=settings, kind="run")
        began = time.perf_counter()
        runner.run(daily)
        _print_run(f"incremental day {last}", time.perf_counter() - began, daily.report, 20)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
