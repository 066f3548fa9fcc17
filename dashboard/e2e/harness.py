"""The browser tests' backend: a small gold lake, a Kafka-protocol broker and the real API.

Run from the repository root with the project's venv:

    .venv/bin/python dashboard/e2e/harness.py --state dashboard/e2e/.state/harness.json

It builds the small gold lake of tests/services/gold.py in a temp dir (with a second
order line, every work-list alert in fct_stock_alerts, and two run reports, and bronze loads for the freshness table), starts Tansu,
starts `nova serve` on a free port with NOVA_* settings pointing at both, creates a
service key and (once the API has people: `nova user create`) two planner accounts, one
scoped to a single depot. Then it writes a JSON state file for Playwright and waits for
SIGTERM, when it stops the API and the broker and removes the temp dir.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
from deltalake import write_deltalake

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from backend.events.kafka import ensure_topics  # noqa: E402
from backend.lake import delta  # noqa: E402
from backend.lake.reader import write_gold_version  # noqa: E402
from backend.settings import Settings  # noqa: E402
from tests.services.gold import (  # noqa: E402
    DEPOTS,
    SCHEMAS,
    action_rows,
    alert_rows,
    build_gold,
    write_gold,
)
from tests.services.kafka import kafka_broker  # noqa: E402
from tests.services.postgres import free_port  # noqa: E402


def nova(
    *args: str, env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    executable = Path(sys.executable).with_name("nova")
    return subprocess.run(
        [str(executable), *args], env=env, input=stdin, capture_output=True, text=True, check=False
    )


def has_user_command(env: dict[str, str]) -> bool:
    return nova("user", "--help", env=env).returncode == 0


def create_user(env: dict[str, str], email: str, role: str, depots: list[str]) -> dict[str, Any]:
    password = secrets.token_urlsafe(12)
    args = ["user", "create", "--email", email, "--role", role]
    if depots:
        args += ["--depots", ",".join(depots)]
    done = nova(*args, env=env, stdin=f"{password}\n{password}\n")
    if done.returncode != 0:
        raise RuntimeError(f"nova user create failed: {done.stderr.strip() or done.stdout.strip()}")
    return {"email": email, "password": password, "role": role, "depots": depots}


def workbench_actions() -> list[dict[str, Any]]:
    """The small lake's work list with a second order line (ITM001 at DEP02 instead of a
    watch), so a planner can approve two lines into one supplier's order."""
    rows = []
    for row in action_rows():
        if row["action_id"] == "ACT-ITM001-DEP02":
            row = {**row, "action": "order", "quantity": 12.0, "severity": "warning",
                   "alert_id": "AL-5", "days_to_stockout": 9, "value_at_risk": 40.0,
                   "order_value": 150.0, "reason": "order ITM001 at DEP02"}  # fmt: skip
        rows.append(row)
    return rows


def workbench_alerts(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """fct_stock_alerts holding every alert the work list points at (the API acknowledges
    only alerts gold has), plus the small lake's own alerts."""
    alerts = alert_rows()
    for row in actions:
        if row["alert_id"]:
            alerts.append({
                "alert_id": row["alert_id"], "alert_date": row["as_of_date"],
                "item_id": row["item_id"], "depot_id": row["depot_id"],
                "severity": row["severity"], "on_hand": row["on_hand"],
                "on_order": row["on_order"], "projected_position": row["on_hand"],
                "reorder_point": row["reorder_point"], "safety_stock": row["safety_stock"],
                "suggested_order_qty": row["quantity"],
                "days_to_stockout": row["days_to_stockout"],
                "message": f"{row['item_id']} at {row['depot_id']} below its reorder point",
            })  # fmt: skip
    return alerts


# Two days of `nova run` reports (the Pipeline screen lists them), in write_report's shape.
RUN_REPORTS = [
    ("20261030-20261030-20261031T050000Z-aaaaaa", "2026-10-30", "success", []),
    ("20261031-20261031-20261101T050000Z-bbbbbb", "2026-10-31", "degraded",
     ["inmet: source late, yesterday's weather reused"]),
]  # fmt: skip


def write_run_reports(settings: Settings) -> None:
    for run_id, day, status, errors in RUN_REPORTS:
        report = {
            "run_id": run_id, "kind": "run", "start": day, "end": day, "status": status,
            "started_at": f"{day}T05:00:00+00:00", "seconds": 95.0, "errors": errors,
            "notes": [], "layers": {"bronze": 20.0, "silver": 30.0, "gold": 45.0},
            "dbt_tests": {"pass": 40, "warn": 0, "fail": 0, "error": 0},
            "tables": {"bronze.erp.stock_movements": {"rows_read": 120, "rows_written": 118,
                                                      "rows_quarantined": 2}},
            "steps": [
                {"name": "extract", "seconds": 20.0, "status": "success", "rows": 120,
                 "rows_per_second": 6.0, "detail": {}},
                {"name": "dbt", "seconds": 30.0, "status": "success", "rows": 118,
                 "rows_per_second": None, "detail": {}},
                {"name": "forecast", "seconds": 45.0, "status": "success", "rows": 84,
                 "rows_per_second": None, "detail": {}},
            ],
        }  # fmt: skip
        uri = delta.table_uri("reports", f"run_date={day}", f"{run_id}.json", settings=settings)
        delta.write_json(uri, report, settings)


# When each source last landed in bronze (the freshness table of Overview and Pipeline).
BRONZE_LOADS = {
    ("erp", "stock_movements"): datetime(2026, 11, 1, 5, 1, tzinfo=UTC),
    ("erp", "items"): datetime(2026, 11, 1, 5, 0, tzinfo=UTC),
    ("inmet", "weather"): datetime(2026, 10, 30, 6, 0, tzinfo=UTC),
}


def write_bronze_loads(settings: Settings) -> None:
    for (source, entity), ingested_at in BRONZE_LOADS.items():
        table = pa.table({
            "value": pa.array([1], pa.int64()),
            "_ingested_at": pa.array([ingested_at], pa.timestamp("us", tz="UTC")),
            "_ingest_date": pa.array([ingested_at.date() - timedelta(days=1)], pa.date32()),
        })  # fmt: skip
        write_deltalake(
            delta.table_uri("bronze", source, entity, settings=settings), table,
            mode="overwrite", partition_by=["_ingest_date"],
            storage_options=delta.storage_options(settings),
        )  # fmt: skip


def build_workbench_lake(settings: Settings) -> None:
    build_gold(settings, version=None)
    actions = workbench_actions()
    write_gold(settings, "fct_actions", actions, SCHEMAS["fct_actions"])
    write_gold(settings, "fct_stock_alerts", workbench_alerts(actions), SCHEMAS["fct_stock_alerts"])
    write_run_reports(settings)
    write_bronze_loads(settings)
    write_gold_version(settings, "v1")


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nova serve exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the API at {url} was not ready in {timeout} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--state", type=Path, required=True)
    args = parser.parse_args()
    stop = False

    def request_stop(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    workdir = Path(tempfile.mkdtemp(prefix="nova-dash-e2e-"))
    try:
        with kafka_broker() as bootstrap:
            settings = Settings(
                env="test",
                lake_root=str(workdir / "lake"),
                warehouse_dir=workdir / "warehouse",
                erp_url=f"sqlite:///{workdir / 'erp.sqlite'}",
                kafka_bootstrap=bootstrap,
            )
            build_workbench_lake(settings)
            asyncio.run(ensure_topics(bootstrap, settings.alerts_topic))
            port = free_port()
            env = {
                "PATH": "/usr/bin:/bin",
                "HOME": str(workdir),
                "NOVA_ENV": "test",
                "NOVA_LAKE_ROOT": settings.lake_root,
                "NOVA_WAREHOUSE_DIR": str(settings.warehouse_dir),
                "NOVA_ERP_URL": settings.erp_url,
                "NOVA_KAFKA_BOOTSTRAP": bootstrap,
                "NOVA_API_HOST": "127.0.0.1",
                "NOVA_API_PORT": str(port),
            }
            key = nova("apikey", "create", "--role", "viewer", "--name", "e2e", env=env)
            if key.returncode != 0:
                raise RuntimeError(f"nova apikey create failed: {key.stderr.strip()}")
            users: list[dict[str, Any]] = []
            if has_user_command(env):
                users.append(create_user(env, "planner@nova.test", "planner", []))
                users.append(create_user(env, "ssa@nova.test", "planner", [DEPOTS[0]]))
            log = (workdir / "api.log").open("wb")
            api = subprocess.Popen(
                [str(Path(sys.executable).with_name("nova")), "serve"],
                env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
            try:
                url = f"http://127.0.0.1:{port}"
                wait_ready(url, api)
                state = {
                    "api_url": url,
                    "kafka_bootstrap": bootstrap,
                    "alerts_topic": settings.alerts_topic,
                    "service_key": key.stdout.strip().splitlines()[-1],
                    "users": users,
                    "depots": DEPOTS,
                    "api_log": str(workdir / "api.log"),
                }
                args.state.parent.mkdir(parents=True, exist_ok=True)
                partial = args.state.with_suffix(".tmp")
                partial.write_text(json.dumps(state, indent=2))
                partial.replace(args.state)  # the reader never sees half a file
                print(f"harness ready: API {url}, Kafka {bootstrap}", flush=True)
                while not stop and api.poll() is None:
                    time.sleep(0.2)
            finally:
                api.terminate()
                api.wait(15)
                log.close()
    finally:
        args.state.unlink(missing_ok=True)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
