"""The champion/challenger rule and the MLflow registry round trip (temp store)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from ml import registry


@pytest.mark.parametrize(
    ("challenger", "champion", "promote"),
    [
        (0.50, None, True),  # no champion yet
        (0.50, 0.60, True),  # better
        (0.60, 0.50, False),  # worse
        (0.50, 0.50, False),  # a tie keeps the champion
        (0.50, math.nan, True),  # a champion that could not be scored
        (math.nan, 0.50, False),  # a broken challenger never wins
    ],
)
def test_promotion_rule(challenger: float, champion: float | None, promote: bool):
    assert registry.should_promote(challenger, champion) is promote


def test_min_gain_demands_a_real_improvement():
    assert not registry.should_promote(0.99, 1.0, min_gain=0.02)
    assert registry.should_promote(0.97, 1.0, min_gain=0.02)


def test_register_alias_load_and_promote(tmp_path: Path):
    import mlflow

    from ml.model import DemandForecaster
    from ml.models.baselines import HistoricAverage

    registry.configure(f"sqlite:///{tmp_path / 'mlflow.db'}", tmp_path / "artifacts")
    exp = registry.experiment("test", tmp_path / "artifacts")
    model = DemandForecaster(
        freq="D",
        h=3,
        models=[HistoricAverage()],
        model_sets={},
        weights={"all": {"HistoricAverage": 1.0}},
        intervals={"all": {"80": [-1.0, 1.0], "95": [-2.0, 2.0]}},
        edges=[3],
    )
    with pytest.raises(registry.NoChampionError, match="nova train"):
        registry.load(registry.CHAMPION)
    with mlflow.start_run(experiment_id=exp) as run:
        version = registry.register(model, run_id=run.info.run_id)
    assert registry.champion_version() is None
    loaded, v = registry.load(registry.CHALLENGER)
    assert v == version and loaded.weights == model.weights
    registry.promote(version)
    assert registry.champion_version() == version


def test_requirement_mismatches_are_reported(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    """The check that replaces MLflow's on load names the pins the environment misses."""
    from importlib.metadata import version

    requirements = tmp_path / "requirements.txt"
    requirements.write_text(
        f"numpy=={version('numpy')}\npandas==0.0.1\nno-such-dist-nova==1.0\n-r other.txt\n"
        "scipy>=1\n"
    )
    with caplog.at_level("WARNING", logger="ml.registry"):
        found = registry.warn_requirement_mismatches(requirements)
    assert found == [
        f"pandas (current: {version('pandas')}, required: pandas==0.0.1)",
        "no-such-dist-nova (current: uninstalled, required: no-such-dist-nova==1.0)",
    ]
    assert "pandas==0.0.1" in caplog.text and "numpy" not in caplog.text
    assert registry.warn_requirement_mismatches(tmp_path / "absent.txt") == []
    # what register() pins is this environment: nothing to report
    requirements.write_text("\n".join(registry.pip_requirements()))
    assert registry.warn_requirement_mismatches(requirements) == []
