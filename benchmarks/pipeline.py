"""Benchmark of the spine: demo ERP -> bronze -> dbt on DuckDB -> gold Delta.

Prints the wall time of the initial load (a 3-year backfill as one batch), of one
incremental day, and rows/s per step. Each run is a fresh `nova` process, as a user or a
scheduler starts it, so start-up and imports are counted. Targets on 2 cores: incremental
day under 20 s, 3-year backfill under 2 minutes (demo generation not counted).

    uv run python benchmarks/pipeline.py [--items 2000 --depots 8 --towers 600 --years 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console

from backend.cli import print_report
from backend.demo.erp import DemoConfig, generate_demo
from backend.lake.gold import latest_report
from backend.settings import Settings

console = Console()


def _print_run(title: str, wall: float, report: dict[str, Any], target: float) -> None:
    verdict = "[green]meets[/]" if wall < target else "[red]misses[/]"
    console.print(f"\n[bold]{title}[/]: {wall:.1f} s wall ({verdict} the {target:.0f} s target)")
    print_report(report)


def _nova(args: list[str], env: dict[str, str], settings: Settings) -> tuple[float, dict[str, Any]]:
    """Run `nova ARGS` in a fresh process; its wall time and the report it saved."""
    began = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "backend.cli", *args], env=env, check=True, capture_output=True
    )
    wall = time.perf_counter() - began
    saved = latest_report(settings)
    assert saved is not None, "the run saved no report"
    return wall, saved


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

        env = {
            **os.environ,
            "NOVA_LAKE_ROOT": settings.lake_root,
            "NOVA_WAREHOUSE_DIR": str(settings.warehouse_dir),
            "NOVA_ERP_URL": settings.erp_url,
        }
        before = last - timedelta(days=1)
        wall, report = _nova(
            ["backfill", "--start", str(first), "--end", str(before)], env, settings
        )
        _print_run(f"backfill {first}..{before}", wall, report, 120)
        wall, report = _nova(["run", "--date", str(last)], env, settings)
        _print_run(f"incremental day {last}", wall, report, 20)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
