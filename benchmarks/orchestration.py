"""Benchmark of the Airflow runner against `nova run` on the same demo lake and date.

Prints the parse time of each DAG file (as Airflow's DagBag measures it, in a fresh
process: cosmos and the project's modules are imported, dbt never runs), then the wall
time of `airflow dags test nova_daily D` and of `nova run --date D`, each a fresh process
on its own copy of the same lake, run twice (the second run finds dbt's partial parse),
and whether both leave the same gold. Target: Airflow at most 3x `nova run`.

    uv run python benchmarks/orchestration.py [--items 40 --depots 2 --towers 20 --years 1]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table

from backend.demo.erp import DemoConfig, generate_demo
from backend.lake import delta
from backend.lake.gold import content_hash, gold_tables
from backend.pipeline.airflow_support import airflow_env
from backend.settings import REPO_ROOT, Settings

console = Console()
BIN = Path(sys.executable).parent

PARSE = """
import json, sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
assert not bag.import_errors, bag.import_errors
print(json.dumps({s.file: s.duration.total_seconds() for s in bag.dagbag_stats}))
"""


def _settings(root: Path) -> Settings:
    return Settings(
        lake_root=str(root / "lake"),
        warehouse_dir=root / "warehouse",
        erp_url=f"sqlite:///{root / 'erp.sqlite'}",
    )


def _nova_env(root: Path) -> dict[str, str]:
    return {
        "NOVA_LAKE_ROOT": str(root / "lake"),
        "NOVA_WAREHOUSE_DIR": str(root / "warehouse"),
        "NOVA_ERP_URL": f"sqlite:///{root / 'erp.sqlite'}",
    }


def _timed(cmd: list[str], env: dict[str, str]) -> float:
    began = time.perf_counter()
    result = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        console.print(result.stdout[-3000:], result.stderr[-3000:])
        raise SystemExit(f"{' '.join(cmd[:4])} failed")
    return time.perf_counter() - began


def _gold(root: Path) -> dict[str, tuple[int, str]]:
    settings = _settings(root)
    return {
        name: content_hash(delta.table_uri("gold", name, settings=settings))
        for name in gold_tables(settings)
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=40)
    parser.add_argument("--depots", type=int, default=2)
    parser.add_argument("--towers", type=int, default=20)
    parser.add_argument("--years", type=int, default=1)
    parser.add_argument("--date", type=date.fromisoformat, default=date(2026, 10, 31))
    args = parser.parse_args()
    day = args.date

    work = Path(tempfile.mkdtemp(prefix="nova-orchestration-"))
    try:
        home = work / "airflow"
        manifest = home / "dbt-target" / "manifest.json"
        base_env = {
            **os.environ,
            **airflow_env(home, Settings()),
            "NOVA_AIRFLOW_DBT_MANIFEST": str(manifest),
            "NOVA_AIRFLOW_DBT_POKE_SECONDS": "1",
        }
        project = str(REPO_ROOT / "dbt")
        subprocess.run(
            [str(BIN / "dbt"), "parse", "--quiet", "--project-dir", project,
             "--profiles-dir", project, "--target-path", str(manifest.parent)],
            check=True, env=base_env,
        )  # fmt: skip
        subprocess.run([str(BIN / "airflow"), "db", "migrate"], env=base_env, check=True,
                       capture_output=True)  # fmt: skip

        parse = subprocess.run(
            [sys.executable, "-c", PARSE, str(REPO_ROOT / "dags")],
            env=base_env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        durations = json.loads(parse.stdout.strip().splitlines()[-1])
        table = Table("DAG file", "parse seconds", "target", title="DAG parse (DagBag)")
        for file, seconds in sorted(durations.items()):
            verdict = "[green]< 2 s[/]" if seconds < 2 else "[red]>= 2 s[/]"
            table.add_row(Path(file).name, f"{seconds:.2f}", verdict)
        console.print(table)

        history = work / "history"
        settings = _settings(history)
        config = DemoConfig(items=args.items, depots=args.depots, towers=args.towers,
                            years=args.years, end_date=day)  # fmt: skip
        generate_demo(settings.erp_url, config)
        first = day - timedelta(days=365 * args.years - 1)
        _timed(
            [str(BIN / "nova"), "backfill", "--start", first.isoformat(),
             "--end", (day - timedelta(days=1)).isoformat()],
            {**base_env, **_nova_env(history)},
        )  # fmt: skip
        roots = {name: work / name for name in ("nova", "airflow_lake")}
        for root in roots.values():
            shutil.copytree(history, root)

        nova_cmd = [str(BIN / "nova"), "run", "--date", day.isoformat()]
        airflow_cmd = [str(BIN / "airflow"), "dags", "test", "nova_daily", day.isoformat()]
        walls: dict[str, list[float]] = {"nova run": [], "airflow dags test": []}
        for _ in range(2):
            walls["nova run"].append(_timed(nova_cmd, {**base_env, **_nova_env(roots["nova"])}))
            walls["airflow dags test"].append(
                _timed(airflow_cmd, {**base_env, **_nova_env(roots["airflow_lake"])})
            )
        table = Table("runner", "1st run (s)", "2nd run (s)", title=f"Daily run of {day}")
        for name, times in walls.items():
            table.add_row(name, *(f"{t:.1f}" for t in times))
        console.print(table)
        for index, label in ((0, "1st"), (1, "2nd")):
            ratio = walls["airflow dags test"][index] / walls["nova run"][index]
            verdict = "[green]meets[/]" if ratio <= 3 else "[red]misses[/]"
            console.print(
                f"{label} run: Airflow / nova run = {ratio:.2f}x ({verdict} the 3x target)"
            )
        same = _gold(roots["nova"]) == _gold(roots["airflow_lake"])
        console.print(f"same gold tables (row counts and content hashes): {same}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
