"""Screenshot of the Airflow UI's graph view of nova_daily (docs/airflow/nova_daily_graph.png).

Runs `airflow dags test nova_daily D` on the lake that the NOVA_* settings name (a demo lake
with history: `make demo`), starts Airflow's API server (the UI) on a free port with the
project's configuration, and drives headless Chromium over the DevTools protocol: the UI
keeps its grid/graph choice in the browser's local storage, which a plain
`chromium --screenshot` cannot set.

    uv run python scripts/airflow_screenshot.py [--date 2026-10-31] [--out PATH]
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from websockets.sync.client import connect

from backend.pipeline.airflow_support import airflow_env
from backend.settings import REPO_ROOT, get_settings

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, timeout: float = 180) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return json.loads(response.read() or b"null")
        except (OSError, ValueError):
            time.sleep(1)
    raise TimeoutError(url)


class DevTools:
    """The few DevTools protocol calls the screenshot needs."""

    def __init__(self, ws_url: str) -> None:
        self.ws = connect(ws_url, max_size=None, open_timeout=30)
        self.ids = itertools.count(1)

    def call(self, method: str, **params: Any) -> Any:
        call_id = next(self.ids)
        self.ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == call_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def click(self, selector: str) -> None:
        """A real mouse click in the middle of the element that ``selector`` finds."""
        found = self.call(
            "Runtime.evaluate",
            expression=f"JSON.stringify(document.querySelector({json.dumps(selector)})"
            "?.getBoundingClientRect())",
            returnByValue=True,
        )
        box = json.loads(found["result"].get("value") or "null")
        if not box:
            raise RuntimeError(f"nothing matches {selector}")
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--date", default="2026-10-31")
    parser.add_argument("--home", type=Path, help="keep Airflow's home here; reuse its run")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs/airflow/nova_daily_graph.png")
    args = parser.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        raise SystemExit("chromium is not installed (apt-get install chromium)")

    work = Path(tempfile.mkdtemp(prefix="nova-screenshot-"))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        home, port, debug_port = args.home or work / "airflow", free_port(), free_port()
        env = {
            **os.environ,
            **airflow_env(home, get_settings()),
            "AIRFLOW__API__PORT": str(port),
            # The screenshot shows the DAG, not a login page.
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        }
        log = (work / "airflow.log").open("wb")
        if not (home / "airflow.db").is_file():
            subprocess.run([str(BIN / "airflow"), "db", "migrate"], env=env, check=True, stdout=log)
            subprocess.run(
                [str(BIN / "airflow"), "dags", "test", "nova_daily", args.date],
                env=env, check=True, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        api = [str(BIN / "airflow"), "api-server", "--port", str(port)]
        processes.append(subprocess.Popen(api, env=env, stdout=log, stderr=subprocess.STDOUT))
        base = f"http://localhost:{port}"
        wait_for(f"{base}/api/v2/monitor/health")
        browser = [chromium, "--headless=new", "--no-sandbox", "--disable-gpu",
                   f"--remote-debugging-port={debug_port}", f"--user-data-dir={work / 'chrome'}",
                   "--window-size=2400,1100", "about:blank"]  # fmt: skip
        processes.append(subprocess.Popen(browser, stdout=log, stderr=subprocess.STDOUT))
        targets = wait_for(f"http://127.0.0.1:{debug_port}/json")
        page = next(t for t in targets if t["type"] == "page")
        tools = DevTools(page["webSocketDebuggerUrl"])
        tools.call("Page.enable")
        tools.call("Page.navigate", url=f"{base}/")
        time.sleep(5)
        tools.call(
            "Runtime.evaluate",
            expression="localStorage.setItem('default_dag_view', JSON.stringify('graph'))",
        )
        runs = wait_for(f"{base}/api/v2/dags/nova_daily/dagRuns")["dag_runs"]
        run_id = urllib.parse.quote(runs[-1]["dag_run_id"], safe="")
        tools.call("Page.navigate", url=f"{base}/dags/nova_daily/runs/{run_id}")
        time.sleep(10)  # the UI loads the DAG's structure and the run's task states
        # Fold the details panel away, expand the dbt task group (a real mouse click on its
        # expand button: the UI ignores synthetic clicks there), fit the graph to the window.
        tools.call(
            "Runtime.evaluate",
            expression="document.querySelector('[aria-label=\"Collapse Details Panel\"]')?.click()",
        )
        time.sleep(2)
        tools.click("[data-testid=expand-all-button]")
        time.sleep(4)
        tools.call(
            "Runtime.evaluate",
            expression="document.querySelector('[aria-label=\"Fit View\"]')?.click()",
        )
        time.sleep(3)
        shot = tools.call("Page.captureScreenshot", format="png")
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_bytes(base64.b64decode(shot["data"]))
        print(f"wrote {args.out}")
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
