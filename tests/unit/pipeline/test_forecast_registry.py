"""The forecast step: a registry outage fails the step; only an empty registry skips it."""

from __future__ import annotations

import socket
from datetime import date
from pathlib import Path

import pytest

from backend.pipeline.context import RunContext
from backend.pipeline.forecast import StepSkipped, run_forecast
from backend.settings import Settings
from ml import registry

pytestmark = pytest.mark.reliability
D = date(2026, 10, 31)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_registry_fails_the_forecast_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")  # MLflow's client, not ours
    settings = Settings(
        env="test",
        lake_root=str(tmp_path / "lake"),
        warehouse_dir=tmp_path / "wh",
        mlflow_tracking_uri=f"http://127.0.0.1:{_closed_port()}",
    )
    ctx = RunContext(start=D, end=D, settings=settings)
    # Before issue 15 this was StepSkipped ("no champion"): the run then published a new
    # gold version over yesterday's forecasts, reorder points and alerts.
    with pytest.raises(registry.RegistryUnavailable):
        run_forecast(ctx)


def test_a_registry_with_no_model_skips_the_forecast_step(tmp_path: Path):
    settings = Settings(
        env="test",
        lake_root=str(tmp_path / "lake"),
        warehouse_dir=tmp_path / "wh",
        mlflow_tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}",
    )
    with pytest.raises(StepSkipped, match="nova train"):
        run_forecast(RunContext(start=D, end=D, settings=settings))
