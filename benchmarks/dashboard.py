"""Workbench benchmark: first-page JavaScript (gzipped) and the Largest Contentful Paint of
Overview and Work list, in headless Chromium (Debian's /usr/bin/chromium), with a warm API
cache. Targets (issue 13): LCP at most 1.5 s; first-page JavaScript at most 250 kB gzipped.

By default on the lake `make demo` built (the API and the dashboard started by
dashboard/scripts/demo_stack.py, signed in as the demo planner); with --small-lake, or when
no gold version is published yet (no demo lake), on the browser tests' small gold lake
(dashboard/e2e/harness.py), signed in as its planner. Installs the dashboard's packages and
builds it first when needed. Prints one JSON document (the lake it measured included).

    uv run --no-sync python benchmarks/dashboard.py [--small-lake] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD = ROOT / "dashboard"
sys.path.insert(0, str(ROOT))

from backend.lake.reader import read_gold_version  # noqa: E402
from backend.settings import get_settings  # noqa: E402


def ensure_built(npm: str) -> None:
    if not (DASHBOARD / "node_modules").exists():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=DASHBOARD, check=True)
    if not (DASHBOARD / ".next" / "BUILD_ID").exists():
        subprocess.run([npm, "run", "build"], cwd=DASHBOARD, check=True)


def wait_file(path: Path, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the small-lake harness did not start")
        time.sleep(0.3)


def wait_ok(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{url} not ready")


def small_lake(node: str, runs: int) -> int:
    """The browser tests' backend, then the dashboard and the benchmark in front of it."""
    state = Path(tempfile.mkdtemp(prefix="nova-dash-bench-")) / "harness.json"
    harness = subprocess.Popen(
        [sys.executable, "dashboard/e2e/harness.py", "--state", str(state)], cwd=ROOT
    )
    server: subprocess.Popen[bytes] | None = None
    try:
        wait_file(state, harness)
        info = json.loads(state.read_text())
        server = subprocess.Popen(
            [node, "server.mjs", "--port=3190", "--host=127.0.0.1", f"--api={info['api_url']}"],
            cwd=DASHBOARD,
        )  # fmt: skip
        wait_ok("http://127.0.0.1:3190/healthz")
        bench = [node, "scripts/bench.mjs", "--base=http://127.0.0.1:3190", f"--runs={runs}"]
        planners = [u for u in info["users"] if not u["depots"]]
        if planners:
            bench += [f"--email={planners[0]['email']}", f"--password={planners[0]['password']}"]
        return subprocess.run(bench, cwd=DASHBOARD, check=False).returncode
    finally:
        for process in (server, harness):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small-lake", action="store_true")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise SystemExit("Node.js 20 and npm are needed")
    ensure_built(npm)
    if args.small_lake or read_gold_version(get_settings()) is None:
        if not args.small_lake:
            print("no published gold (run `make demo` first): measuring the small lake", flush=True)
        raise SystemExit(small_lake(node, args.runs))
    raise SystemExit(
        subprocess.run(
            [sys.executable, "dashboard/scripts/demo_stack.py", "--bench", "--port", "3190"],
            cwd=ROOT,
            check=False,
        ).returncode
    )


if __name__ == "__main__":
    main()
