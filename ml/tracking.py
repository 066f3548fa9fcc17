"""What a training run records in MLflow besides its metrics: the gold data it read (each
Delta table's path and version) and plots of the challenger's residuals."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

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
    the frame's schema and size, the table's path and Delta version as its source and
    digest. ``before`` and ``after`` are the versions just before and after the read: a
    table published to meanwhile is tagged with both, since the read may hold either."""
    import mlflow
    from mlflow.data.delta_dataset_source import DeltaDatasetSource
    from mlflow.data.pandas_dataset import from_pandas

    for table, read in before.items():
        moved = after.get(table, read).version
        tags = {"gold.table": table, "gold.delta_version": str(read.version)}
        if moved != read.version:
            tags["gold.delta_version_after_read"] = str(moved)
        dataset = from_pandas(
            df,
            source=DeltaDatasetSource(path=read.uri, delta_table_version=read.version),
            name=f"gold.{table}@v{read.version}",
            digest=read.digest,
            targets="y" if "y" in df.columns else None,
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
