"""What a training run records in MLflow besides its metrics: the gold data it read (each
Delta table's path and version) and plots of the challenger's residuals."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from backend.settings import Settings

RESIDUAL_PLOTS = ("plots/residuals_by_horizon.png", "plots/residuals_by_class.png")


@dataclass(frozen=True)
class GoldRead:
    """A gold Delta table as a training run read it."""

    table: str
    uri: str
    version: int

    @property
    def digest(self) -> str:
        """Names the table's content: a Delta version of a path never changes."""
        return hashlib.sha256(f"{self.uri}@{self.version}".encode()).hexdigest()[:16]


def gold_versions(settings: Settings, tables: Sequence[str]) -> dict[str, GoldRead]:
    """Each gold table's path and current Delta version."""
    from deltalake import DeltaTable

    from backend.lake import delta

    found = {}
    for table in tables:
        uri = delta.table_uri("gold", table, settings=settings)
        version = DeltaTable(uri, storage_options=delta.storage_options(settings)).version()
        found[table] = GoldRead(table, uri, int(version))
    return found


def log_gold_inputs(
    df: pd.DataFrame, before: dict[str, GoldRead], after: dict[str, GoldRead]
) -> None:
    """Log each gold table the run read as an MLflow dataset input (context ``training``):
    the table's path and Delta version as its source and digest, the frame's schema, its
    row count as the profile. ``before`` and ``after`` are the versions just before and after the
    read: a table published to meanwhile is tagged with both, since the read may hold
    either.

    A metadata-only dataset: the rows stay in the lake, where the version finds them again
    (MLflow's pandas dataset would profile all of them, 90 s for the demo's 8.7M rows).
    """
    import mlflow
    from mlflow.data.delta_dataset_source import DeltaDatasetSource
    from mlflow.data.meta_dataset import MetaDataset
    from mlflow.models import infer_signature

    class GoldDataset(MetaDataset):
        """MLflow's metadata-only dataset with the row count read as its profile."""

        def __init__(self, rows: int, **kwargs: Any) -> None:
            self.rows = rows
            super().__init__(**kwargs)

        @property
        def profile(self) -> Any | None:
            return {"num_rows": self.rows}

        def to_dict(self) -> dict[str, str]:
            return {**super().to_dict(), "profile": json.dumps(self.profile)}

    schema = infer_signature(df.head(1000)).inputs
    for table, read in before.items():
        moved = after.get(table, read).version
        tags = {"gold.table": table, "gold.delta_version": str(read.version)}
        if moved != read.version:
            tags["gold.delta_version_after_read"] = str(moved)
        dataset = GoldDataset(
            len(df),
            source=DeltaDatasetSource(path=read.uri, delta_table_version=read.version),
            name=f"gold.{table}@v{read.version}",
            digest=read.digest,
            schema=schema,
        )
        mlflow.log_input(dataset, context="training", tags=tags)


def residuals(forecasts: pd.DataFrame, actuals: pd.DataFrame) -> pd.DataFrame:
    """``actual - forecast`` per series and day, with the step ahead and the demand class."""
    data = forecasts[["unique_id", "ds", "step", "demand_class", "yhat"]].merge(
        actuals[["unique_id", "ds", "y"]], on=["unique_id", "ds"]
    )
    data["residual"] = data["y"] - data["yhat"]
    return data


def log_residual_plots(forecasts: pd.DataFrame, actuals: pd.DataFrame) -> None:
    """Residuals of the forecasts on the evaluation window: their mean and mean absolute
    value by step ahead per demand class, and their histogram per demand class."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import mlflow

    data = residuals(forecasts, actuals)
    if data.empty:
        return
    classes = sorted(data["demand_class"].dropna().unique())
    by_step = (
        data.assign(abs_residual=data["residual"].abs())
        .groupby(["demand_class", "step"])[["residual", "abs_residual"]]
        .mean()
    )
    fig, (bias, spread) = plt.subplots(2, 1, figsize=(10, 6), sharex=True)
    for demand_class in classes:
        part = by_step.loc[demand_class]
        bias.plot(part.index, part["residual"], label=demand_class)
        spread.plot(part.index, part["abs_residual"], label=demand_class)
    bias.axhline(0.0, color="0.5", lw=0.8)
    bias.set_ylabel("mean residual (units)")
    bias.set_title("residuals (actual - forecast) by days ahead, evaluation window")
    spread.set_ylabel("mean |residual| (units)")
    spread.set_xlabel("days ahead")
    bias.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    mlflow.log_figure(fig, RESIDUAL_PLOTS[0])
    plt.close(fig)

    fig, axes = plt.subplots(1, len(classes), figsize=(3.2 * len(classes), 3), squeeze=False)
    for ax, demand_class in zip(axes[0], classes, strict=True):
        values = data.loc[data["demand_class"] == demand_class, "residual"]
        ax.hist(values, bins=30, color="tab:blue", alpha=0.8)
        ax.axvline(0.0, color="0.3", lw=0.8)
        ax.axvline(float(values.mean()), color="tab:red", lw=0.8, ls="--", label="mean")
        ax.set_title(f"{demand_class} ({len(values):,} days)", fontsize=9)
        ax.set_xlabel("actual - forecast (units)")
    axes[0, 0].set_ylabel("series-days")
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    mlflow.log_figure(fig, RESIDUAL_PLOTS[1])
    plt.close(fig)
