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


# What the logged model needs besides its own code (the `ml` package, logged with it):
# pinned to this environment's versions, so that a serving environment rebuilt from the
# model's requirements unpickles exactly what was trained.
MODEL_REQUIREMENTS = (
    "mlflow",
    "cloudpickle",
    "numpy",
    "pandas",
    "scipy",
    "statsforecast",
    "lightgbm",
    "prophet",
)


def pip_requirements() -> list[str]:
    from importlib.metadata import version

    return [f"{name}=={version(name)}" for name in MODEL_REQUIREMENTS]


def example_history(days: int = 28) -> pd.DataFrame:
    """A small history of the input's shape (two series: one steady, one intermittent)."""
    import numpy as np
    import pandas as pd

    ds = pd.date_range("2026-01-01", periods=days, freq="D")
    steady = 3.0 + (np.arange(days) % 7 == 0)
    intermittent = np.where(np.arange(days) % 5 == 0, 2.0, 0.0)
    return pd.DataFrame(
        {
            "unique_id": ["ITEM-A|DEP-1"] * days + ["ITEM-B|DEP-1"] * days,
            "ds": list(ds) * 2,
            "y": [*steady, *intermittent],
        }
    )


def history_example(history: pd.DataFrame, *, series: int = 2, days: int = 28) -> pd.DataFrame:
    """The last ``days`` of the first ``series`` series of a training history: the logged
    model's input example."""
    ids = sorted(history["unique_id"].unique())[:series]
    part = history[history["unique_id"].isin(ids)]
    return (
        part.sort_values(["unique_id", "ds"])
        .groupby("unique_id")
        .tail(days)[["unique_id", "ds", "y"]]
        .reset_index(drop=True)
    )


def model_signature(forecaster: DemandForecaster) -> Any:
    """Input: the long history; output: the forecast rows; params: the horizon in days
    (default the horizon the forecaster was trained for)."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, ParamSchema, ParamSpec, Schema

    from ml.pyfunc import HORIZON

    bands = [
        ColSpec("double", f"yhat_{side}_{level}")
        for level in forecaster.levels
        for side in ("lo", "hi")
    ]
    return ModelSignature(
        inputs=Schema(
            [ColSpec("string", "unique_id"), ColSpec("datetime", "ds"), ColSpec("double", "y")]
        ),
        outputs=Schema(
            [
                ColSpec("string", "unique_id"),
                ColSpec("datetime", "ds"),
                ColSpec("long", "step"),
                ColSpec("string", "demand_class"),
                ColSpec("double", "yhat"),
                *bands,
                ColSpec("string", "model_name"),
            ]
        ),
        params=ParamSchema([ParamSpec(HORIZON, "long", int(forecaster.h))]),
    )


def register(
    forecaster: DemandForecaster, *, run_id: str, input_example: pd.DataFrame | None = None
) -> str:
    """Log the forecaster as a pyfunc in the active run and register it; give the new
    version the ``challenger`` alias. Returns the version.

    The model carries its signature (history in, forecasts out, ``horizon`` param), an
    input example (``input_example``, else a synthetic one; MLflow checks it predicts), its
    code (the ``ml`` package) and its pinned requirements: ``mlflow.pyfunc.load_model``
    serves it from any directory, without this repository on the path.
    """
    import mlflow.pyfunc
    from mlflow import MlflowClient

    import ml
    from ml.pyfunc import HORIZON, ForecasterModel, history_frame

    example = history_frame(
        input_example if input_example is not None else example_history()
    ).reset_index(drop=True)
    info = mlflow.pyfunc.log_model(
        name="model",
        python_model=ForecasterModel(forecaster),
        registered_model_name=MODEL_NAME,
        code_paths=[str(Path(ml.__file__).parent)],
        pip_requirements=pip_requirements(),
        signature=model_signature(forecaster),
        # a short horizon: MLflow runs the example through the model when it logs it
        input_example=(example, {HORIZON: 7}),
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
    local = _local_dir(str(location))
    # MLflow's own check of the model's requirements against the environment lists every
    # installed distribution's modules (about half a second of each daily run): for a
    # local store the pinned requirements are compared here instead, one lookup each
    model = mlflow.pyfunc.load_model(
        f"models:/{MODEL_NAME}/{version}", suppress_warnings=local is not None
    )
    if local is not None:
        warn_requirement_mismatches(local / "requirements.txt")
    return model.unwrap_python_model().forecaster, version


def _local_dir(location: str) -> Path | None:
    """The directory of a ``file:`` artifact location, None for any other store."""
    from urllib.parse import unquote, urlparse

    parsed = urlparse(location)
    if parsed.scheme != "file":
        return None
    path = Path(unquote(parsed.path))
    return path if path.is_dir() else None


def warn_requirement_mismatches(requirements: Path) -> list[str]:
    """Log (as MLflow does on load) the model's pinned requirements (``name==version``
    lines, what ``pip_requirements`` writes) that the running environment does not meet;
    returns them. Other lines, and a missing file, are skipped."""
    import logging
    import re
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed_version

    if not requirements.is_file():
        return []
    mismatches: list[str] = []
    for line in requirements.read_text().splitlines():
        pinned = re.fullmatch(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;#]+)\s*", line)
        if pinned is None:
            continue
        name, wanted = pinned.groups()
        try:
            current = installed_version(name)
        except PackageNotFoundError:
            current = "uninstalled"
        if current != wanted:
            mismatches.append(f"{name} (current: {current}, required: {name}=={wanted})")
    if mismatches:
        logging.getLogger(__name__).warning(
            "The model's requirements differ from this Python environment:\n - %s",
            "\n - ".join(mismatches),
        )
    return mismatches


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
