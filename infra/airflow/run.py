"""Start Airflow 3 with this project's configuration (`make airflow`), or run one `airflow`
command with it.

    python infra/airflow/run.py [--home .airflow] [--port 8080]     # standalone UI
    python infra/airflow/run.py -- dags test nova_daily 2026-10-31   # any airflow command

Standalone runs the metadata migration, the scheduler, the DAG processor, the triggerer and
the API server (UI) in one process tree, with the metadata database in SQLite under the
Airflow home, or in the PostgreSQL that NOVA_AIRFLOW_DB_URL names. Its output goes to
<home>/standalone.log; this script prints the UI address and login once the UI answers.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from backend.lake.gold import gold_tables
from backend.pipeline.airflow_support import airflow_env
from backend.settings import REPO_ROOT, get_settings


def standalone_env(home: Path, port: int) -> tuple[dict[str, str], str]:
    """Environment of `airflow standalone` and the admin's password (kept in the home, so
    it stays the same from one start to the next)."""
    settings = get_settings()
    env = {**os.environ, **airflow_env(home, settings)}
    passwords = home / "passwords.json"
    if not passwords.is_file():
        home.mkdir(parents=True, exist_ok=True)
        passwords.write_text(json.dumps({"admin": secrets.token_urlsafe(12)}))
        passwords.chmod(0o600)
    password = json.loads(passwords.read_text())["admin"]
    env.update(
        {
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__BASE_URL": f"http://localhost:{port}",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://localhost:{port}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        }
    )
    return env, password


def wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 240) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(1)
    return False


def airflow_executable() -> str:
    found = shutil.which("airflow") or str(Path(sys.executable).with_name("airflow"))
    if not Path(found).is_file():
        raise SystemExit("airflow is not installed: run `make install`")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=REPO_ROOT / ".airflow")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("command", nargs="*", help="an airflow command (default: standalone)")
    args = parser.parse_args()
    home = args.home.resolve()
    settings = get_settings()
    if not settings.airflow_dbt_manifest.is_file():
        raise SystemExit(f"{settings.airflow_dbt_manifest} is missing: run `make dbt-manifest`")
    if args.command:
        env = {**os.environ, **airflow_env(home, settings)}
        os.execve(airflow_executable(), ["airflow", *args.command], env)

    env, password = standalone_env(home, args.port)
    log_path = home / "standalone.log"
    print(f"Starting Airflow 3 (home {home}, log {log_path}) ...", flush=True)
    with log_path.open("ab") as log:
        # Its own process group: stopping this script stops every Airflow process with it.
        process = subprocess.Popen(
            [airflow_executable(), "standalone"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        if not wait_healthy(f"http://localhost:{args.port}/api/v2/monitor/health", process):
            raise SystemExit(f"Airflow did not start; see {log_path}")
        lake = settings.lake_uri
        print(f"\nAirflow UI: http://localhost:{args.port}")
        print(f"login:      admin / {password}")
        print("DAGs:       nova_daily, nova_weekly_training (paused: unpause or trigger them)")
        print(f"lake:       {lake} ({len(gold_tables(settings))} gold tables)")
        if not gold_tables(settings):
            print("            no gold yet: `make demo` builds the demo lake")
        print("Stop with Ctrl-C.", flush=True)
        process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop standalone and the scheduler, DAG processor, triggerer and API server it runs."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout=30)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


if __name__ == "__main__":
    main()
