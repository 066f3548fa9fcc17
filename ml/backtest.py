"""Rolling-origin backtest: forecast from several cutoffs, score every model per series and
per demand class with RMSSE, MASE, bias and interval coverage."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from ml.metrics import naive_scales

if TYPE_CHECKING:
    import pandas as pd

ForecastFn = Callable[["pd.DataFrame", int], "pd.DataFrame"]


def cutoffs(
    df: pd.DataFrame,
    h: int,
    n_windows: int,
    step: int | None,
    freq: str,
    season: int | None = None,
) -> list:
    """The last ``n_windows`` origins, ``step`` periods apart (default ``h``), so the last
    window ends on the last date of ``df``.

    ``season`` (periods in a year): the earliest of those origins is replaced by the one
    ``season`` periods before the last date, whose window covers the same dates a year
    before the horizon that follows ``df``. Weights and bias corrections learnt on
    consecutive recent windows learn that quarter's season: on the default demo both
    windows before August fell in the rising rainy season, and their correction
    over-forecast August-October (issue 18)."""
    import pandas as pd

    from ml.forecaster import pandas_freq

    step = step or h
    last = df["ds"].max()
    offset = pd.tseries.frequencies.to_offset(pandas_freq(freq))
    recent = [last - offset * (h + step * (n_windows - 1 - i)) for i in range(n_windows)]
    if season is None or n_windows < 2:
        return recent
    aligned = last - offset * season
    if aligned in recent or aligned - offset * h < df["ds"].min():
        return recent  # already a recent window, or less than a horizon of history before it
    return sorted([aligned, *recent[1:]])


def cross_validation(
    forecast: ForecastFn,
    df: pd.DataFrame,
    *,
    h: int,
    n_windows: int,
    freq: str,
    step: int | None = None,
    actuals: pd.DataFrame | None = None,
    season: int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Forecasts from every cutoff joined to the actuals: ``unique_id, cutoff, ds, step, y,
    <model columns>``; and per (unique_id, cutoff) the scales of the training history.

    ``actuals`` (default ``df``) are what the forecasts are scored against: the daily
    demand trains on stockout days imputed but is scored with them missing (``y`` NaN
    rows are left out of the error, the demand there is unknown). ``season``: see
    ``cutoffs``."""
    import pandas as pd

    truth = df if actuals is None else actuals
    frames, scales = [], []
    for cutoff in cutoffs(df, h, n_windows, step, freq, season):
        train = df[df["ds"] <= cutoff]
        test = truth[truth["ds"] > cutoff][["unique_id", "ds", "y"]]
        fc = forecast(train, h)
        fc["step"] = fc.groupby("unique_id").cumcount() + 1
        merged = fc.merge(test, on=["unique_id", "ds"], how="inner")
        merged = merged[merged["y"].notna()]
        merged.insert(1, "cutoff", cutoff)
        frames.append(merged)
        sc = train.groupby("unique_id", sort=True)["y"].agg(lambda s: naive_scales(s.to_numpy()))
        scales.append(
            pd.DataFrame(
                {
                    "unique_id": sc.index,
                    "cutoff": cutoff,
                    "scale_mse": [v[0] for v in sc],
                    "scale_mae": [v[1] for v in sc],
                    "level": train.groupby("unique_id", sort=True)["y"].mean().to_numpy(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True), pd.concat(scales, ignore_index=True)


def series_scores(
    cv: pd.DataFrame, scales: pd.DataFrame, models: Sequence[str], levels: Sequence[int] = ()
) -> pd.DataFrame:
    """One row per model x series: RMSSE, MASE, bias (mean error over the naive MAE scale)
    and, for models with ``<model>-lo-<level>`` columns, the coverage; averaged over the
    windows."""
    import pandas as pd

    data = cv.merge(scales, on=["unique_id", "cutoff"], how="left")
    rows = []
    keys = ["unique_id", "cutoff"]
    for model in models:
        err = data[model] - data["y"]
        work = pd.DataFrame(
            {
                "unique_id": data["unique_id"],
                "cutoff": data["cutoff"],
                "se": err**2,
                "ae": err.abs(),
                "e": err,
            }
        )
        for level in levels:
            lo, hi = f"{model}-lo-{level}", f"{model}-hi-{level}"
            if lo in data:
                work[f"cov{level}"] = (
                    (data["y"] >= data[lo] - 1e-9) & (data["y"] <= data[hi] + 1e-9)
                ).astype(float)
        per_window = work.groupby(keys, sort=False).mean(numeric_only=True).reset_index()
        per_window = per_window.merge(scales, on=keys, how="left")
        per_window["rmsse"] = np.sqrt(per_window["se"] / per_window["scale_mse"])
        per_window["mase"] = per_window["ae"] / per_window["scale_mae"]
        per_window["bias"] = per_window["e"] / per_window["scale_mae"]
        cols = ["rmsse", "mase", "bias", *[str(c) for c in per_window if str(c).startswith("cov")]]
        per_series = per_window.groupby("unique_id")[cols].mean().reset_index()
        per_series.insert(0, "model", model)
        rows.append(per_series)
    return pd.concat(rows, ignore_index=True)


def class_scores(per_series: pd.DataFrame, classes: pd.DataFrame) -> pd.DataFrame:
    """Model x demand class (plus ``all``) means of the per-series scores (series without
    a scale are left out of RMSSE/MASE)."""
    import pandas as pd

    data = per_series.merge(classes[["unique_id", "demand_class"]], on="unique_id", how="left")
    metrics = [c for c in ("rmsse", "mase", "bias") if c in data] + sorted(
        str(c) for c in data if str(c).startswith("cov")
    )
    by_class = data.groupby(["model", "demand_class"])[metrics].mean().reset_index()
    overall = data.groupby("model")[metrics].mean().reset_index()
    if "bias" in data:
        # the mean bias is led by a few series with almost no past demand that start
        # consuming (a naive MAE near zero); the median says what a typical series sees
        med = data.groupby(["model", "demand_class"])["bias"].median().rename("bias_median")
        by_class = by_class.merge(med.reset_index(), on=["model", "demand_class"])
        overall = overall.merge(
            data.groupby("model")["bias"].median().rename("bias_median").reset_index(),
            on="model",
        )
    overall.insert(1, "demand_class", "all")
    # series scored: a model left out of a class (NaN scores there) is not counted in it
    scored = data[data[metrics[0]].notna()] if metrics else data
    counts = scored.groupby(["model", "demand_class"]).size().rename("series").reset_index()
    overall = overall.merge(
        scored.groupby("model").size().rename("series").reset_index(), on="model", how="left"
    )
    out = pd.concat([by_class.merge(counts, on=["model", "demand_class"], how="left"), overall])
    out["series"] = out["series"].fillna(0).astype(int)
    return out.reset_index(drop=True)
