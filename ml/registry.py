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


class RegistryUnavailable(RuntimeError):
    """The registry could not answer (server down, store broken): not the same as "no
    champion", so a run must fail rather than carry on without forecasts."""


class UntrustedArtifacts(RuntimeError):
    """A model version whose artifacts lie outside the configured store, or not ready."""


# Artifact locations a model may be loaded from, set by configure(): the local store's
# artifact root, or the tracking server's proxied store (``mlflow-artifacts:``).
_trusted_roots: tuple[str, ...] = ()


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

    global _trusted_roots
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    roots: list[str] = []
    if artifact_root is not None:
        artifact_root.mkdir(parents=True, exist_ok=True)
        roots.append(artifact_root.resolve().as_uri().rstrip("/") + "/")
    if tracking_uri.startswith(("http://", "https://")):
        # A server with --serve-artifacts hands out its own store's artifacts only.
        roots.append("mlflow-artifacts:")
    _trusted_roots = tuple(roots)


def _is_missing_alias(exc: Exception) -> bool:
    """Whether the registry answered "no such model or alias" (as opposed to failing)."""
    code = getattr(exc, "error_code", "")
    if code == "RESOURCE_DOES_NOT_EXIST":
        return True
    message = str(exc).lower()
    return code == "INVALID_PARAMETER_VALUE" and "alias" in message and "not found" in message


def _version_by_alias(alias: str) -> Any | None:
    """The ModelVersion carrying ``alias``; None only when the registry says there is none.
    Any other failure (unreachable server, broken store) raises RegistryUnavailable."""
    import mlflow
    from mlflow import MlflowClient

    try:
        return MlflowClient().get_model_version_by_alias(MODEL_NAME, alias)
    except Exception as exc:
        if _is_missing_alias(exc):
            return None
        raise RegistryUnavailable(
            f"the model registry at {mlflow.get_tracking_uri()} failed to answer for "
            f"{MODEL_NAME}@{alias}: {type(exc).__name__}: {str(exc)[:300]}"
        ) from exc


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
    """The champion's version; None when none is registered. RegistryUnavailable when the
    registry cannot say."""
    found = _version_by_alias(CHAMPION)
    return None if found is None else str(found.version)


def load(alias: str = CHAMPION) -> tuple[DemandForecaster, str]:
    """The forecaster behind ``models:/demand-forecaster@<alias>`` and its version.

    The alias is resolved once to a version, and exactly that registered version is
    loaded (an alias moved meanwhile cannot mix two models), only once it is READY and
    only from the configured artifact store: a version pointing elsewhere could make the
    run unpickle files nobody vetted.
    """
    import mlflow
    import mlflow.pyfunc
    from mlflow import MlflowClient

    found = _version_by_alias(alias)
    if found is None:
        raise NoChampionError(
            f"no model version of {MODEL_NAME!r} has the alias {alias!r} in the registry at "
            f"{mlflow.get_tracking_uri()}: run `nova train` first"
        )
    version = str(found.version)
    if found.status != "READY":
        raise UntrustedArtifacts(f"{MODEL_NAME} v{version} is {found.status}, not READY")
    try:
        location = MlflowClient().get_model_version_download_uri(MODEL_NAME, version)
    except Exception as exc:
        raise RegistryUnavailable(
            f"the registry could not locate {MODEL_NAME} v{version}: {exc}"
        ) from exc
    if not any(str(location).startswith(root) for root in _trusted_roots):
        raise UntrustedArtifacts(
            f"{MODEL_NAME} v{version} keeps its artifacts at {location}, outside the "
            f"configured store {list(_trusted_roots)}: refusing to load it"
        )
    model = mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}/{version}")
    return model.unwrap_python_model().forecaster, version


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
