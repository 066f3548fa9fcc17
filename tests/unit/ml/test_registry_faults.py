"""A registry that fails is not "no champion", and only the configured store's artifacts
of a registered version are loaded (issue 15)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from ml import registry

pytestmark = pytest.mark.reliability


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def no_mlflow_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    # MLflow's own client settings: fail at once instead of retrying for minutes.
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")


def _model() -> object:
    from ml.model import DemandForecaster
    from ml.models.baselines import HistoricAverage

    return DemandForecaster(
        freq="D",
        h=3,
        models=[HistoricAverage()],
        model_sets={},
        weights={"all": {"HistoricAverage": 1.0}},
        intervals={"all": {"80": [-1.0, 1.0], "95": [-2.0, 2.0]}},
        edges=[3],
    )


@pytest.mark.usefixtures("no_mlflow_retries")
def test_an_unreachable_tracking_server_is_an_outage_not_no_champion():
    registry.configure(f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(registry.RegistryUnavailable, match="failed to answer"):
        registry.champion_version()
    with pytest.raises(registry.RegistryUnavailable):
        registry.load(registry.CHAMPION)


def test_an_empty_registry_is_no_champion(tmp_path: Path):
    registry.configure(f"sqlite:///{tmp_path / 'mlflow.db'}", tmp_path / "artifacts")
    assert registry.champion_version() is None
    with pytest.raises(registry.NoChampionError):
        registry.load(registry.CHAMPION)


def test_a_version_whose_artifacts_lie_outside_the_configured_store_is_not_loaded(
    tmp_path: Path,
):
    import mlflow

    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    elsewhere = tmp_path / "someone-elses-artifacts"
    registry.configure(store, elsewhere)
    exp = registry.experiment("planted", elsewhere)
    with mlflow.start_run(experiment_id=exp) as run:
        version = registry.register(_model(), run_id=run.info.run_id)  # type: ignore[arg-type]
    registry.promote(version)
    # The run's configuration names another artifact root: the champion's is not trusted.
    registry.configure(store, tmp_path / "artifacts")
    assert registry.champion_version() == version
    with pytest.raises(registry.UntrustedArtifacts, match="outside the configured store"):
        registry.load(registry.CHAMPION)
    registry.configure(store, elsewhere)
    loaded, loaded_version = registry.load(registry.CHAMPION)
    assert loaded_version == version and loaded.h == 3
