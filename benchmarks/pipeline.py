"""Benchmark of the daily run: demo ERP -> bronze -> dbt on DuckDB -> gold Delta ->
forecast -> forecast marts -> publish.

Builds the demo ERP (not counted), then times, each as a fresh `nova` process as a user
or a scheduler starts it (start-up and imports counted):
  1. the backfill of the history up to the day before D (one batch);
  2. `nova train --date D-1` (weekly training: printed, no target);
  3. the daily run of D (`nova run --date D`), step by step from its report.
The spine is the daily run's extract, validate and transform steps (extract to gold);
the forecast step is read from the same report. Targets (issue 17, default demo, idle 2
cores): daily run <= 30 s, forecast step <= 12 s, spine <= 10 s, backfill <= 30 s.

    uv run python benchmarks/pipeline.py [--items 2000 --depots 8 --towers 600 --years 3]
    uv run python benchmarks/pipeline.py --lake DIR --date 2026-10-31   # a built lake:
        # only the daily run of --date (DIR holds .demo/erp.sqlite, .lake, .warehouse)
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

SPINE_STEPS = ("extract", "validate", "transform")
TARGETS = {"daily run": 30.0, "forecast step": 12.0, "spine": 10.0, "backfill": 30.0}


def _nova(args: list[str], env: dict[str, str]) -> float:
    """Run `nova ARGS` in a fresh process; its wall time. A degraded run (exit 3: an
    outside source is stale) still published gold, so it counts."""
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "backend.cli", *args], env=env, capture_output=True, text=True
    )
    wall = time.perf_counter() - began
    if done.returncode not in (0, 3):
        console.print(done.stdout[-4000:], done.stderr[-4000:])
        raise SystemExit(f"nova {' '.join(args)} failed with exit code {done.returncode}")
    return wall


def _report(settings: Settings) -> dict[str, Any]:
    saved = latest_report(settings)
    assert saved is not None, "the run saved no report"
    return saved


def step_seconds(report: dict[str, Any]) -> dict[str, float]:
    """Seconds per step of a run report."""
    return {step["name"]: float(step["seconds"]) for step in report["steps"]}


def _print_run(title: str, wall: float, report: dict[str, Any]) -> dict[str, float]:
    console.print(f"\n[bold]{title}[/]: {wall:.1f} s wall (fresh process)")
    print_report(report)
    seconds = step_seconds(report)
    for name, value in seconds.items():
        console.print(f"  step {name:<20} {value:6.1f} s")
    return seconds


def verdict(figures: dict[str, float | None]) -> str:
    """The `targets:` line: each target with its figure; `met` only if all are."""
    parts, met = [], True
    for name, limit in TARGETS.items():
        value = figures.get(name)
        if value is None:
            parts.append(f"{name} not measured (<= {limit:.0f} s)")
            met = False
            continue
        met = met and value <= limit
        parts.append(f"{name} {value:.1f} s (<= {limit:.0f} s)")
    return f"targets: {'met' if met else 'not met'}: " + ", ".join(parts)


def _load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--depots", type=int, default=8)
    parser.add_argument("--towers", type=int, default=600)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--end-date", type=date.fromisoformat, default=date(2026, 10, 31))
    parser.add_argument("--workdir", type=Path, help="keep the lake here (default: a temp dir)")
    parser.add_argument(
        "--lake",
        type=Path,
        help="a built lake (DIR/.demo/erp.sqlite, DIR/.lake, DIR/.warehouse): only time the "
        "daily run of --date on it",
    )
    parser.add_argument("--date", type=date.fromisoformat, help="with --lake: the run date")
    args = parser.parse_args()

    figures: dict[str, float | None] = {}
    if args.lake:
        root = args.lake.resolve()
        settings = Settings(
            lake_root=str(root / ".lake"),
            warehouse_dir=root / ".warehouse",
            erp_url=f"sqlite:///{root / '.demo' / 'erp.sqlite'}",
        )
        workdir = None
        last = args.date or args.end_date
    else:
        workdir = args.workdir or Path(tempfile.mkdtemp(prefix="nova-bench-"))
        settings = Settings(
            lake_root=str(workdir / "lake"),
            warehouse_dir=workdir / "warehouse",
            erp_url=f"sqlite:///{workdir / 'erp.sqlite'}",
        )
        last = args.end_date
    env = {
        **os.environ,
        "NOVA_LAKE_ROOT": settings.lake_root,
        "NOVA_WAREHOUSE_DIR": str(settings.warehouse_dir),
        "NOVA_ERP_URL": settings.erp_url,
    }
    try:
        if workdir is not None:
            config = DemoConfig(
                items=args.items,
                depots=args.depots,
                towers=args.towers,
                years=args.years,
                end_date=args.end_date,
            )
            began = time.perf_counter()
            counts = generate_demo(settings.erp_url, config)
            console.print(
                f"demo ERP ({args.items} items, {args.depots} depots, {args.towers} towers, "
                f"{args.years} years): {time.perf_counter() - began:.1f} s (not counted), "
                + ", ".join(f"{name} {rows:,}" for name, rows in counts.items())
            )
            first = last - timedelta(days=config.years * 365 - 1)
            before = last - timedelta(days=1)
            wall = _nova(["backfill", "--start", str(first), "--end", str(before)], env)
            _print_run(f"backfill {first}..{before}", wall, _report(settings))
            figures["backfill"] = wall
            wall = _nova(["train", "--date", str(before)], env)
            console.print(f"\n[bold]nova train --date {before}[/]: {wall:.1f} s (no target)")

        wall = _nova(["run", "--date", str(last)], env)
        seconds = _print_run(f"daily run {last}", wall, _report(settings))
        figures["daily run"] = wall
        figures["spine"] = sum(seconds.get(name, 0.0) for name in SPINE_STEPS)
        forecast = seconds.get("forecast")
        figures["forecast step"] = forecast
        console.print(
            f"\nspine (extract to gold) {figures['spine']:.1f} s, forecast step "
            + (f"{forecast:.1f} s" if forecast is not None else "not run")
            + f"; load average {_load()}"
        )
        print(verdict(figures))
    finally:
        if workdir is not None and args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
