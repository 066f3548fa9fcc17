"""`nova serve --workers 2` as real processes: /metrics sums both workers' counters, whichever
worker answers the scrape, and the workers log JSON lines."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from tests.services.postgres import ServiceUnavailable, free_port

pytestmark = pytest.mark.integration
LIVEZ = {"method": "GET", "route": "/livez", "status": "200"}


@dataclass
class Served:
    url: str
    metrics_dir: Path
    process: subprocess.Popen[str]
    probes: int  # /livez answers while waiting for the start (counted like any request)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    port = free_port()
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_1.db").write_bytes(b"a previous start's counts")
    report = tmp_path / "lake" / "reports" / "run_date=2026-11-01"
    report.mkdir(parents=True)
    (report / "20261101-20261101-20261102T050000Z-aaaaaa.json").write_text(
        json.dumps({"run_id": "20261101-20261101-20261102T050000Z-aaaaaa", "status": "success",
                    "seconds": 60.0, "steps": [], "tables": {}, "errors": []})
    )  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOVA_", "PROMETHEUS_"))}
    env.update(
        NOVA_ENV="test",
        NOVA_LAKE_ROOT=str(tmp_path / "lake"),
        NOVA_WAREHOUSE_DIR=str(tmp_path / "warehouse"),
        NOVA_ERP_URL=f"sqlite:///{tmp_path / 'erp.sqlite'}",
        NOVA_METRICS_DIR=str(metrics_dir),
        NOVA_LOG_FORMAT="json",
        NOVA_API_RATE_PER_MINUTE="0",
    )
    command = [sys.executable, "-m", "backend.cli", "serve", "--workers", "2", "--port", str(port)]
    process = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    try:
        while True:
            try:
                if httpx.get(f"{url}/livez", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise ServiceUnavailable(f"nova serve did not start: {process.stderr.read()}")  # type: ignore[union-attr]
            time.sleep(0.2)
        yield Served(url, metrics_dir, process, probes=1)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


def livez_by_process(metrics_dir: Path) -> dict[str, float]:
    """Each worker's own count of answered /livez requests, from its counter file."""
    counts = {}
    for path in metrics_dir.glob("counter_*.db"):
        for family in MultiProcessCollector.merge([str(path)], accumulate=True):
            for sample in family.samples:
                if sample.name == "nova_api_requests_total" and sample.labels == LIVEZ:
                    counts[path.stem.removeprefix("counter_")] = sample.value
    return counts


def scraped(url: str, name: str, labels: dict[str, str]) -> float | None:
    # A fresh connection per scrape: any worker may answer it.
    with httpx.Client(timeout=10, headers={"Connection": "close"}) as client:
        body = client.get(f"{url}/metrics").text
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return None


def hit(url: str) -> None:
    with httpx.Client(timeout=10, headers={"Connection": "close"}) as client:
        assert client.get(f"{url}/livez").status_code == 200


def test_counters_of_both_workers_add_up_and_stopped_workers_leave(served: Served) -> None:
    assert not (served.metrics_dir / "counter_1.db").exists()  # emptied at start
    sent = served.probes
    # The kernel hands connections to whichever worker accepts first: send until both
    # have answered some (each worker's own file says how many it answered).
    with ThreadPoolExecutor(8) as pool:
        while sent < 4000:
            list(pool.map(lambda _: hit(served.url), range(100)))
            sent += 100
            per_worker = livez_by_process(served.metrics_dir)
            if len([c for c in per_worker.values() if c > 0]) >= 2:
                break
    per_worker = livez_by_process(served.metrics_dir)
    assert len(per_worker) == 2 and all(c > 0 for c in per_worker.values()), per_worker
    assert sum(per_worker.values()) == sent
    # Every scrape, answered by either worker, serves the sum.
    for _ in range(8):
        assert scraped(served.url, "nova_api_requests_total", LIVEZ) == sent
    # The pipeline's gauges are served too, read from the lake's run report.
    status = scraped(served.url, "nova_pipeline_run_status", {"status": "success"})
    assert status == 1.0

    # Stopping: the workers log JSON lines, and each marks itself dead.
    assert list(served.metrics_dir.glob("gauge_livesum_*.db"))  # the WebSocket clients gauge
    served.process.send_signal(signal.SIGTERM)
    _, stderr = served.process.communicate(timeout=30)
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    assert lines, stderr
    assert len(lines) == len([line for line in stderr.splitlines() if line.strip()]), stderr
    assert {"uvicorn.error"} <= {line["logger"] for line in lines}
    assert all({"event", "level", "timestamp"} <= line.keys() for line in lines)
    assert not [line for line in lines if "color_message" in line]  # uvicorn's coloured copy
    # Each worker marked itself dead: no live gauge file of a stopped worker is left.
    assert not list(served.metrics_dir.glob("gauge_livesum_*.db"))
