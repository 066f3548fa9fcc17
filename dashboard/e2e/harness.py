"""The browser tests' backend: a small gold lake, a Kafka-protocol broker and the real API.

Run from the repository root with the project's venv:

    .venv/bin/python dashboard/e2e/harness.py --state dashboard/e2e/.state/harness.json

It builds the small gold lake of tests/services/gold.py in a temp dir, starts Tansu,
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
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from backend.events.kafka import ensure_topics  # noqa: E402
from backend.settings import Settings  # noqa: E402
from tests.services.gold import DEPOTS, build_gold  # noqa: E402
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
            build_gold(settings)
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
