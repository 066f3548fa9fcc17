"""Benchmark of the two dbt engines: the same project on DuckDB and on a local Spark session.

For each demo size (the default demo and SCALE times more items) it loads bronze once with
the pipeline, then times, each in a fresh process and a fresh warehouse:
  - DuckDB: `dbt build` of silver and gold (gold published to Delta), tests included;
  - Spark: staging bronze into the session's catalog (Delta snapshot -> Parquet), and the
    same `dbt build` on the local session (session start counted).
Prints a table per size, so the crossover (if any on this machine) is visible.

    uv run python benchmarks/engines.py [--items 2000 --scales 1 10 --years 3]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table

from backend.demo.erp import DemoConfig, generate_demo
from backend.ingest.base import registered_sources
from backend.pipeline import steps
from backend.pipeline.context import RunContext
from backend.settings import Settings

console = Console(width=120)

# One engine run in a fresh interpreter: dbt, Spark's JVM and DuckDB start cold, as a
# scheduled build does. Prints a JSON line of its timings.
CHILD = """
import json, sys, time
from datetime import date
from backend.pipeline.dbt import run_dbt
from backend.pipeline.steps import DAILY_EXCLUDE, FORECAST_TAG
from backend.settings import Settings
settings = Settings.model_validate_json(sys.argv[1])
run_date = date.fromisoformat(sys.argv[2])
timings = {}
began = time.perf_counter()
if settings.dbt_target == "spark":
    from backend.lake.spark import local_session, stage_sources
    stage_sources(local_session(settings), settings)
    timings["stage_s"] = time.perf_counter() - began
built = time.perf_counter()
outcome = run_dbt("build", settings, run_date=run_date,
                  extra=[*DAILY_EXCLUDE, "--exclude", FORECAST_TAG])
timings["build_s"] = time.perf_counter() - built
timings["total_s"] = time.perf_counter() - began
timings["ok"] = outcome.error is None
timings["models"] = outcome.count("model", "success")
timings["tests"] = outcome.count("test", "pass")
print(json.dumps(timings))
"""


def _engine_run(settings: Settings, run_date: date) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, settings.model_dump_json(), run_date.isoformat()],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _demand_rows(settings: Settings) -> int:
    from backend.lake import delta
    from backend.lake.duck import connect

    uri = delta.table_uri("gold", "fct_daily_demand", settings=settings)
    conn = connect()
    try:
        row = conn.execute("select count(*) from delta_scan(?)", [uri]).fetchone()
    finally:
        conn.close()
    assert row is not None
    return int(row[0])


def bench_size(workdir: Path, config: DemoConfig) -> dict[str, object]:
    root = workdir / f"items-{config.items}"
    shutil.rmtree(root, ignore_errors=True)
    base = Settings(
        env="test",
        lake_root=str(root / "lake"),
        warehouse_dir=root / "load",
        erp_url=f"sqlite:///{root / 'erp.sqlite'}",
    )
    with console.status(f"demo ERP with {config.items} items and its bronze"):
        generate_demo(base.erp_url, config)
        start = config.end_date - timedelta(days=365 * config.years - 1)
        # bronze and quarantine of every source, as `nova backfill` loads them, without
        # the pipeline's own dbt build (the builds below are what is timed)
        ctx = RunContext(
            start=start,
            end=config.end_date,
            settings=base,
            kind="backfill",
            sources=tuple(registered_sources()),
        )
        steps.extract(ctx)
        steps.validate(ctx)
    result: dict[str, object] = {"items": config.items}
    for target in ("duckdb", "spark"):
        settings = base.model_copy(
            update={"dbt_target": target, "warehouse_dir": root / f"warehouse-{target}"}
        )
        with console.status(f"dbt build on {target} ({config.items} items)"):
            result[target] = _engine_run(settings, config.end_date)
    result["demand_rows"] = _demand_rows(base)  # gold, as the DuckDB build published it
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000, help="items of the base demo")
    parser.add_argument("--depots", type=int, default=8)
    parser.add_argument("--towers", type=int, default=600)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--workdir", type=Path, help="keep the lakes here (default: a temp dir)")
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="nova-engines-"))
    table = Table(title="dbt build of silver + gold, fresh process and warehouse, seconds")
    for column in ("items", "fct_daily_demand rows", "DuckDB build", "Spark stage bronze",
                   "Spark build", "Spark total", "Spark / DuckDB"):  # fmt: skip
        table.add_column(column, justify="right")
    try:
        for scale in args.scales:
            config = DemoConfig(
                items=args.items * scale,
                depots=args.depots,
                towers=args.towers * scale,
                years=args.years,
            )
            result = bench_size(workdir, config)
            duck, spark = result["duckdb"], result["spark"]
            assert isinstance(duck, dict) and isinstance(spark, dict)
            for name, run in (("duckdb", duck), ("spark", spark)):
                if not run["ok"]:
                    raise SystemExit(f"the {name} build failed at {config.items} items")
            console.print(
                f"{config.items} items: DuckDB {duck['models']} models / {duck['tests']} tests, "
                f"Spark {spark['models']} models / {spark['tests']} tests"
            )
            table.add_row(
                f"{config.items:,}",
                f"{result['demand_rows']:,}",
                f"{duck['build_s']:.1f}",
                f"{spark['stage_s']:.1f}",
                f"{spark['build_s']:.1f}",
                f"{spark['total_s']:.1f}",
                f"{spark['total_s'] / duck['build_s']:.1f}x",
            )
            console.print(table)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
