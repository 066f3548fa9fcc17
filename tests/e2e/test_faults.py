"""Runs under faults, on a tiny demo with a champion model and a real Kafka-protocol broker:

- a run SIGKILLed in the middle of a bronze write, of an outbox send and of a gold publish,
  then re-run, leaves gold identical to an uninterrupted run's, every alert on the topic
  exactly once;
- four `nova run` started together on one lake take turns (the lake lock) and leave the
  gold of one run;
- a registry outage fails the run and leaves the published gold version where it was.

Each scenario starts from a copy of one prepared lake (backfill + a trained champion).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from backend.demo.erp import DemoConfig, generate_demo
from backend.lake import delta
from backend.lake.gold import content_hash, gold_tables, latest_report
from backend.lake.reader import read_gold_version
from backend.pipeline import runner
from backend.pipeline.context import RunContext
from backend.settings import Settings

pytestmark = [pytest.mark.slow, pytest.mark.reliability, pytest.mark.integration]

END = date(2026, 10, 31)
CONFIG = DemoConfig(items=12, depots=2, towers=10, years=1, end_date=END, seed=5)
OPTIONS: dict[str, Any] = {
    "env": "test",
    "forecast_horizon": 14,
    "forecast_history_days": 300,
    "train_sample_per_class": 10,
    "train_windows": 1,
    "forecast_jobs": 1,
    "run_lock_ttl_seconds": 5.0,  # a killed run's lock is taken over within seconds
}

# A `nova run --date END` in a child process that SIGKILLs itself at one point.
CHILD = r"""
import asyncio, json, os, signal, sys
from datetime import date
import pyarrow as pa

def die():
    os.kill(os.getpid(), signal.SIGKILL)

options, kill_at = json.loads(sys.argv[1]), sys.argv[2]
import backend.lake.delta as lake_io
import backend.events.outbox as outbox

if kill_at == "bronze":
    real_write = lake_io.write_deltalake
    def write(uri, data, **kwargs):
        if "/bronze/" in uri and data.num_rows > 1:
            first, *_ = data.to_batches(max_chunksize=(data.num_rows + 1) // 2)
            def batches():
                yield first
                die()  # delta-rs holds the first half; the commit never happens
            data = pa.RecordBatchReader.from_batches(data.schema, batches())
        return real_write(uri, data, **kwargs)
    lake_io.write_deltalake = write
elif kill_at == "outbox":
    real_send = outbox._send
    async def send(bootstrap, topic, payloads, settings):
        await real_send(bootstrap, topic, payloads[: len(payloads) // 2 or 1], settings)
        die()  # Kafka acknowledged half; the outbox still says pending
    outbox._send = send
elif kill_at == "publish":
    real_json = lake_io.write_json
    def write_json(uri, payload, settings=None, **kwargs):
        if uri.endswith("/gold/_version.json"):
            with open(uri + ".tmp", "w") as half:
                half.write(json.dumps(payload, default=str)[:20])
            die()  # half of the new version written, not yet renamed into place
        return real_json(uri, payload, settings, **kwargs)
    lake_io.write_json = write_json

from backend.pipeline import runner
from backend.pipeline.context import RunContext
from backend.settings import Settings
D = date.fromisoformat(options.pop("run_date"))
ctx = runner.run(RunContext(start=D, end=D, settings=Settings(**options)))
print(ctx.report.status)
"""


def _settings(options: dict[str, Any]) -> Settings:
    return Settings(**options)


def _gold(settings: Settings) -> dict[str, tuple[int, str]]:
    return {
        name: content_hash(delta.table_uri("gold", name, settings=settings), settings)
        for name in gold_tables(settings)
    }


def _status(done: subprocess.CompletedProcess[str]) -> str:
    """The run's status, the child's last line (libraries may draw progress bars first)."""
    lines = done.stdout.strip().splitlines()
    return lines[-1].strip() if lines else ""


def _child(options: dict[str, Any], kill_at: str) -> subprocess.CompletedProcess[str]:
    payload = json.dumps({**options, "run_date": END.isoformat()})
    return subprocess.run(
        [sys.executable, "-c", CHILD, payload, kill_at],
        capture_output=True,
        text=True,
        timeout=600,
    )


async def _read_topic(bootstrap: str, topic: str) -> Counter[str]:
    """Every message key on ``topic``, with how often it was sent."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    keys: Counter[str] = Counter()
    try:
        await consumer.topics()
        tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        ends = await consumer.end_offsets(tps)
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                keys.update(r.key.decode() for r in records if r.key is not None)
    finally:
        await consumer.stop()
    return keys


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory, kafka_bootstrap: str) -> Path:
    """A lake backfilled up to the day before END, with a champion model."""
    from ml.train import train

    root: Path = tmp_path_factory.mktemp("faults-base")
    settings = _settings({**OPTIONS, **_paths(root), "kafka_bootstrap": kafka_bootstrap})
    generate_demo(settings.erp_url, CONFIG)
    backfill = runner.run(
        RunContext(start=END - timedelta(days=364), end=END - timedelta(days=1),
                   settings=settings, kind="backfill")
    )  # fmt: skip
    assert backfill.report.status == "success", backfill.report.errors
    assert train(settings, log=lambda _: None).promoted
    return root


def _paths(root: Path) -> dict[str, str]:
    return {
        "lake_root": str(root / "lake"),
        "warehouse_dir": str(root / "warehouse"),
        "erp_url": f"sqlite:///{root / 'erp.sqlite'}",
    }


def _copy(prepared: Path, into: Path, bootstrap: str, topic: str) -> dict[str, Any]:
    """Options of a copy of the prepared lake. The copied MLflow store names the prepared
    artifact root, so the copy's artifact root is a link to it (the same configured store)."""
    shutil.copytree(prepared, into, symlinks=True)
    artifacts = into / "warehouse" / "mlartifacts"
    shutil.rmtree(artifacts)
    artifacts.symlink_to(prepared / "warehouse" / "mlartifacts", target_is_directory=True)
    return {**OPTIONS, **_paths(into), "kafka_bootstrap": bootstrap, "alerts_topic": topic}


@pytest.fixture(scope="module")
def reference(
    prepared: Path, tmp_path_factory: pytest.TempPathFactory, kafka_bootstrap: str
) -> tuple[dict[str, tuple[int, str]], Counter[str]]:
    """Gold and the alerts sent by one uninterrupted run of END."""
    options = _copy(prepared, tmp_path_factory.mktemp("faults") / "ref", kafka_bootstrap, "ref")
    done = _child(options, "none")
    assert done.returncode == 0 and _status(done) == "success", done.stderr[-3000:]
    alerts = asyncio.run(_read_topic(kafka_bootstrap, "ref"))
    assert alerts and set(alerts.values()) == {1}
    return _gold(_settings(options)), alerts


def test_runs_killed_mid_write_then_rerun_leave_the_same_gold_and_alerts(
    prepared: Path, reference: tuple[dict[str, Any], Counter[str]], tmp_path: Path,
    kafka_bootstrap: str,
):  # fmt: skip
    gold, alerts = reference
    options = _copy(prepared, tmp_path / "lake-copy", kafka_bootstrap, "faults")
    settings = _settings(options)
    published = read_gold_version(settings)
    # In this order each point is reached: the outbox has pending alerts until a send
    # completes, and the gold version is written after the outbox.
    for point in ("bronze", "outbox", "publish"):
        killed = _child(options, point)
        assert killed.returncode == -signal.SIGKILL, (point, killed.stderr[-3000:])
        assert read_gold_version(settings) == published, point  # nothing half-published
    half_sent = asyncio.run(_read_topic(kafka_bootstrap, "faults"))
    assert sum(half_sent.values()) > 0  # the killed outbox send did reach Kafka

    done = _child(options, "none")
    assert done.returncode == 0 and _status(done) == "success", done.stderr[-3000:]
    assert _gold(settings) == gold
    assert asyncio.run(_read_topic(kafka_bootstrap, "faults")) == alerts  # each once
    assert read_gold_version(settings) != published
    assert not any(p.name.endswith(".tmp") for p in Path(settings.lake_uri, "gold").iterdir())


def test_four_concurrent_nova_runs_leave_the_gold_of_one_run(
    prepared: Path, reference: tuple[dict[str, Any], Counter[str]], tmp_path: Path,
    kafka_bootstrap: str,
):  # fmt: skip
    gold, alerts = reference
    options = _copy(prepared, tmp_path / "lake-copy", kafka_bootstrap, "concurrent")
    env = {**os.environ, **{f"NOVA_{k.upper()}": str(v) for k, v in options.items()}}
    nova = str(Path(sys.executable).with_name("nova"))
    # The reference run's sources (the ERP): the lake holds no history of the others, so
    # they would be stale on END and the runs degraded (exit 3).
    runs = [
        subprocess.Popen(
            [nova, "run", "--date", END.isoformat(), "--sources", "erp"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [run.communicate(timeout=900)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0, 0], [o[-2000:] for o in outputs]
    settings = _settings(options)
    assert _gold(settings) == gold
    assert asyncio.run(_read_topic(kafka_bootstrap, "concurrent")) == alerts
    report = latest_report(settings)
    assert report is not None and report["status"] == "success"


def test_a_registry_outage_fails_the_run_and_keeps_the_published_gold(
    prepared: Path, tmp_path: Path, kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch
):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")  # MLflow's client setting
    options = _copy(prepared, tmp_path / "lake-copy", kafka_bootstrap, "outage")
    settings = _settings({**options, "mlflow_tracking_uri": f"http://127.0.0.1:{closed}"})
    published = read_gold_version(settings)
    with pytest.raises(Exception, match="registry"):
        runner.run(RunContext(start=END, end=END, settings=settings))
    report = latest_report(settings)
    assert report is not None and report["status"] == "failed"
    assert [s["status"] for s in report["steps"]][-1] == "failed"
    assert "publish" not in [s["name"] for s in report["steps"]]
    assert read_gold_version(settings) == published
