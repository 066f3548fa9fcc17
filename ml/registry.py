"""MLflow: log a training run, register the ensemble as the pyfunc ``demand-forecaster``,
and move the ``champion`` alias only when the challenger beats it on the same backtest.

Aliases (``challenger``, ``champion``), not the deprecated stages.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from ml.model import DemandForecaster

MODEL_NAME = "demand-forecaster"
CHAMPION = "champion"
CHALLENGER = "challenger"


class NoChampionError(RuntimeError):
    """No model carries the champion alias yet."""


def should_promote(challenger: float, champion: float | None, *, min_gain: float = 0.0) -> bool:
    """The challenger replaces the champion only if its backtest score (lower is better)
    beats the champion's by more than ``min_gain`` (relative); with no champion, or a
    champion that cannot be scored, it is promoted. A non-finite challenger never is."""
    if not math.isfinite(challenger):
        return False
    if champion is None or not math.isfinite(champion):
        return True
    return challenger < champion * (1.0 - min_gain)


def configure(tracking_uri: str, artifact_root: Path | None = None) -> None:
    """Point MLflow at the tracking store (and the registry at the same place)."""
    import mlflow

    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    if artifact_root is not None:
        artifact_root.mkdir(parents=True, exist_ok=True)


def experiment(name: str, artifact_root: Path | None) -> str:
    import mlflow

    found = mlflow.get_experiment_by_name(name)
    if found is not None:
        return str(found.experiment_id)
    location = artifact_root.resolve().as_uri() if artifact_root is not None else None
    return str(mlflow.create_experiment(name, artifact_location=location))


def _python_model_class() -> type:
    import mlflow.pyfunc

    base: Any = mlflow.pyfunc.PythonModel

    class ForecasterModel(base):
        """pyfunc wrapper: input is the long history (unique_id, ds, y); params: h."""

        def __init__(self, forecaster: DemandForecaster) -> None:
            self.forecaster = forecaster

        def predict(
            self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
        ) -> pd.DataFrame:
            h = int((params or {}).get("h") or self.forecaster.h)
            return self.forecaster.predict(model_input, h)

    return ForecasterModel


def register(forecaster: DemandForecaster, *, run_id: str) -> str:
    """Log the forecaster as a pyfunc in the active run and register it; give the new
    version the ``challenger`` alias. Returns the version."""
    import mlflow
    from mlflow import MlflowClient

    cls = _python_model_class()
    info = mlflow.pyfunc.log_model(
        name="model",
        python_model=cls(forecaster),
        registered_model_name=MODEL_NAME,
        pip_requirements=[],  # the project's own environment serves it
    )
    version = str(info.registered_model_version)
    MlflowClient().set_registered_model_alias(MODEL_NAME, CHALLENGER, version)
    return version


def champion_version() -> str | None:
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    try:
        return str(MlflowClient().get_model_version_by_alias(MODEL_NAME, CHAMPION).version)
    except MlflowException:
        return None


def load(alias: str = CHAMPION) -> tuple[DemandForecaster, str]:
    """The forecaster behind ``models:/demand-forecaster@<alias>`` and its version."""
    import mlflow.pyfunc
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    try:
        version = MlflowClient().get_model_version_by_alias(MODEL_NAME, alias).version
    except MlflowException as exc:
        raise NoChampionError(
            f"no model version of {MODEL_NAME!r} has the alias {alias!r} in the registry at "
            f"{mlflow.get_tracking_uri()}: run `nova train` first"
        ) from exc
    model = mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}@{alias}")
    return model.unwrap_python_model().forecaster, str(version)


def promote(version: str) -> None:
    from mlflow import MlflowClient

    MlflowClient().set_registered_model_alias(MODEL_NAME, CHAMPION, version)


@dataclass
class Decision:
    challenger_version: str
    challenger_score: float
    champion_version: str | None
    champion_score: float | None
    promoted: bool

    def as_params(self) -> dict[str, Any]:
        return {
            "decision.challenger_version": self.challenger_version,
            "decision.champion_version": self.champion_version or "none",
            "decision.promoted": self.promoted,
        }
