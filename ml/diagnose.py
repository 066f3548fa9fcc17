"""Where forecasts are biased: bias and error per demand class, horizon week and item
lifecycle stage, from backtest-shaped frames (``unique_id, cutoff, ds, step, y, <models>``
with the scales of ``ml.backtest.cross_validation``).

Bias is the backtest's: mean error over the series' naive MAE scale, per series, then
averaged over series (``-1`` is about "all demand missed" for a series whose naive MAE is
its mean demand).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

STAGES = ("new", "growing", "stable", "declining")


def lifecycle(
    df: pd.DataFrame,
    *,
    new_days: int = 182,
    window: int = 91,
    year: int = 364,
    growing: float = 1.25,
    declining: float = 0.8,
) -> pd.DataFrame:
    """One row per series of a daily long table: ``unique_id, stage, yoy``.

    ``new``: first recorded day within the last ``new_days`` days, or less than a year and
    a window of history (no year-ago window to compare with); otherwise the ratio of the
    last ``window`` days' demand to the same days a year earlier (``yoy``, +1 unit on
    both sides so a part without demand is stable) says ``growing`` (>= ``growing``),
    ``declining`` (<= ``declining``) or ``stable``.
    """
    import pandas as pd

    last = df["ds"].max()
    first = df.groupby("unique_id", sort=True)["ds"].min()
    day = (last - df["ds"]).dt.days.to_numpy()
    recent = df[day < window].groupby("unique_id", sort=True)["y"].sum()
    before = df[(day >= year) & (day < year + window)].groupby("unique_id", sort=True)["y"].sum()
    out = pd.DataFrame({"unique_id": first.index})
    r = recent.reindex(first.index).fillna(0.0).to_numpy()
    b = before.reindex(first.index).fillna(0.0).to_numpy()
    yoy = (r + 1.0) / (b + 1.0)
    age = (last - first).dt.days.to_numpy()
    stage = np.where(yoy >= growing, "growing", np.where(yoy <= declining, "declining", "stable"))
    stage = np.where((age < new_days) | (age < year + window), "new", stage)
    out["stage"] = stage
    out["yoy"] = yoy
    return out


def grouped_scores(
    cv: pd.DataFrame,
    scales: pd.DataFrame,
    groups: pd.DataFrame,
    models: Sequence[str],
    by: str,
) -> pd.DataFrame:
    """``model, <by>, rmsse, mase, bias, series``: per-series scores within each value of
    ``by`` (a column of ``cv`` such as ``week``, or of ``groups`` keyed by ``unique_id``),
    then averaged over series (windows averaged first, as in the backtest)."""
    import pandas as pd

    data = cv.merge(scales, on=["unique_id", "cutoff"], how="left")
    if by not in data:
        data = data.merge(groups[["unique_id", by]], on="unique_id", how="left")
    data = data[np.isfinite(data["scale_mse"]) & np.isfinite(data["scale_mae"])]
    rows = []
    keys = ["unique_id", "cutoff", by]
    for model in models:
        err = data[model].to_numpy(dtype=float) - data["y"].to_numpy(dtype=float)
        work = data[keys].copy()
        work["se"], work["ae"], work["e"] = err**2, np.abs(err), err
        per = work.groupby(keys, sort=False, observed=True).mean().reset_index()
        per = per.merge(scales, on=["unique_id", "cutoff"], how="left")
        per["rmsse"] = np.sqrt(per["se"] / per["scale_mse"])
        per["mase"] = per["ae"] / per["scale_mae"]
        per["bias"] = per["e"] / per["scale_mae"]
        series = per.groupby(["unique_id", by], observed=True)[["rmsse", "mase", "bias"]].mean()
        agg = series.groupby(level=by, observed=True).agg(
            rmsse=("rmsse", "mean"), mase=("mase", "mean"), bias=("bias", "mean"),
            series=("rmsse", "size"),
        )  # fmt: skip
        agg.insert(0, "model", model)
        rows.append(agg.reset_index())
    return pd.concat(rows, ignore_index=True)


def horizon_week(steps: np.ndarray, freq: str = "D") -> np.ndarray:
    """Week of the horizon (1 = steps 1-7) for daily data; the step itself otherwise."""
    steps = np.asarray(steps)
    return (steps - 1) // 7 + 1 if freq == "D" else steps
