"""The bodies of `nova forecast` and `nova train` (kept out of cli.py so the CLI starts
fast and its commands stay one screen each)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console

    from backend.settings import Settings

METRICS = ("rmsse", "mase", "bias", "cov80", "cov95")


def backtest_table(by_class: pd.DataFrame, title: str) -> object:
    """A rich table: one row per model, columns class x metric, best RMSSE first."""
    from rich.table import Table

    classes = [
        c
        for c in ("all", "smooth", "erratic", "intermittent", "lumpy")
        if c in set(by_class["demand_class"])
    ]
    table = Table("model", "class", "series", *METRICS, title=title)
    order = by_class[by_class["demand_class"] == "all"].sort_values("rmsse")["model"].tolist()
    for model in order:
        part = by_class[by_class["model"] == model].set_index("demand_class")
        for i, c in enumerate(classes):
            if c not in part.index:
                continue
            row = part.loc[c]
            cells = [
                "" if row.get(m) is None or row.get(m) != row.get(m) else f"{row[m]:.3f}"
                for m in METRICS
            ]
            table.add_row(model if i == 0 else "", c, str(int(row["series"])), *cells)
        table.add_section()
    return table


def run_forecast_command(
    console: Console,
    *,
    input_: Path,
    output: Path,
    freq: str,
    horizon: int,
    windows: int,
    expensive: bool,
    jobs: int,
) -> None:
    import time

    from ml.data import read_long_table
    from ml.model import default_candidates, train_ensemble

    if not input_.exists():
        raise FileNotFoundError(f"{input_} does not exist")
    df = read_long_table(input_)
    began = time.perf_counter()
    console.print(
        f"{df['unique_id'].nunique():,} series, {len(df):,} rows; backtest {windows} "
        f"windows of {horizon} periods"
    )
    result = train_ensemble(
        df[["unique_id", "ds", "y"]],
        freq=freq,
        h=horizon,
        candidates=default_candidates(freq, n_jobs=jobs, expensive=expensive),
        n_windows=windows,
        n_jobs=jobs,
    )
    console.print(backtest_table(result.by_class, "Backtest (mean per series)"))
    forecasts = result.model.predict(df, horizon, n_jobs=jobs, classes=result.classes)
    output.parent.mkdir(parents=True, exist_ok=True)
    if output.suffix == ".parquet":
        forecasts.to_parquet(output, index=False)
    else:
        forecasts.to_csv(output, index=False)
    if result.failures:
        console.print(f"fallback used (model: series): {result.failures}")
    console.print(
        f"wrote {len(forecasts):,} forecasts to {output} in {time.perf_counter() - began:.1f}s"
    )


def run_train_command(
    console: Console, settings: Settings, day: date | None, json_file: Path | None = None
) -> None:
    import json

    from ml.train import train

    summary = train(settings, run_date=day, log=console.print)
    console.print(backtest_table(summary.by_class, "Backtest on the sampled series"))
    if summary.evaluation is not None:
        console.print(backtest_table(summary.evaluation, "Evaluation window (never trained on)"))
    champion = (
        f"v{summary.champion_version} RMSSE {summary.champion_score:.4f}"
        if summary.champion_version and summary.champion_score is not None
        else (f"v{summary.champion_version} (not scorable)" if summary.champion_version else "none")
    )
    console.print(
        f"challenger v{summary.version}: RMSSE {summary.challenger_score:.4f} on the "
        f"evaluation window; champion: {champion} -> "
        + ("[green]promoted to champion[/]" if summary.promoted else "[yellow]champion kept[/]")
    )
    console.print(
        f"MLflow run {summary.run_id} at {settings.mlflow_uri}; "
        + ", ".join(f"{k} {v:.0f}s" for k, v in summary.seconds.items())
    )
    if json_file is not None:
        json_file.parent.mkdir(parents=True, exist_ok=True)
        json_file.write_text(json.dumps(summary.tables(), indent=1, default=str))
        console.print(f"tables written to {json_file}")
