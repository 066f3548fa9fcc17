"""`make dashboard`: the API and the production workbench on the lake `make demo` built.

    .venv/bin/python dashboard/scripts/demo_stack.py [--port 3000] [--api-port 8000] [--bench]

Starts `nova serve` (settings as for every other command: NOVA_* variables or the defaults,
i.e. the demo lake), then the dashboard's server (`next build` must have run), creates a
demo planner account the first time (once the API has people: `nova user create`), prints
the address and the login, and waits for Ctrl-C. The password is kept in
<warehouse>/dashboard_demo_login.json (owner-only), so later runs print the same login.
With --bench it runs the browser benchmark (scripts/bench.mjs) instead of waiting.
"""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from backend.settings import get_settings  # noqa: E402

DEMO_EMAIL = "planner@nova.local"
NOVA = Path(sys.executable).with_name("nova")


def has_user_command() -> bool:
    return (
        subprocess.run([str(NOVA), "user", "--help"], capture_output=True, check=False).returncode
        == 0
    )


def demo_login(warehouse: Path) -> dict[str, str] | None:
    """The demo planner's login, creating the account the first time; None without sign-in."""
    path = warehouse / "dashboard_demo_login.json"
    if path.exists():
        login: dict[str, str] = json.loads(path.read_text())
        return login
    if not has_user_command():
        return None
    password = secrets.token_urlsafe(12)
    done = subprocess.run(
        [str(NOVA), "user", "create", "--email", DEMO_EMAIL, "--role", "planner"],
        input=f"{password}\n{password}\n", capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(
            f"could not create the demo planner: {done.stderr.strip() or done.stdout.strip()}"
        )
    warehouse.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"email": DEMO_EMAIL, "password": password}))
    path.chmod(0o600)
    return {"email": DEMO_EMAIL, "password": password}


def wait_http(url: str, process: subprocess.Popen[bytes], what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{what} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(
        f"{what} not ready at {url} after {timeout} s (has `make demo` built the lake?)"
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=3000, help="the dashboard's port")
    parser.add_argument("--api-port", type=int, default=None, help="the API's port (NOVA_API_PORT)")
    parser.add_argument("--bench", action="store_true", help="run the browser benchmark, then stop")
    args = parser.parse_args()
    settings = get_settings()
    api_port = args.api_port or settings.api_port
    node = shutil.which("node")
    if node is None:
        raise SystemExit("node is not on PATH (Node.js 20 is needed)")
    login = demo_login(settings.warehouse_path)
    api = subprocess.Popen([str(NOVA), "serve", "--host", "127.0.0.1", "--port", str(api_port)])
    dashboard: subprocess.Popen[bytes] | None = None
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        api_url = f"http://127.0.0.1:{api_port}"
        wait_http(f"{api_url}/readyz", api, "the API")
        dashboard = subprocess.Popen(
            [node, "server.mjs", f"--port={args.port}", "--host=127.0.0.1", f"--api={api_url}"],
            cwd=ROOT / "dashboard",
        )  # fmt: skip
        base = f"http://127.0.0.1:{args.port}"
        wait_http(f"{base}/healthz", dashboard, "the dashboard")
        if args.bench:
            bench = [node, "scripts/bench.mjs", f"--base={base}"]
            if login:
                bench += [f"--email={login['email']}", f"--password={login['password']}"]
            raise SystemExit(subprocess.run(bench, cwd=ROOT / "dashboard", check=False).returncode)
        print(f"\nThe workbench: {base}")
        if login:
            # The password stays out of the terminal's scrollback and any log: it is in a file.
            where = settings.warehouse_path / "dashboard_demo_login.json"
            print(f"Sign in as {login['email']}; the password is in {where} (readable by you only)")
        else:
            print("No account yet: sign-in arrives with the planner API (issue 12).")
        print("Ctrl-C stops the dashboard and the API.")
        while api.poll() is None and dashboard.poll() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        if dashboard is not None:
            stop(dashboard)
        stop(api)


if __name__ == "__main__":
    main()
