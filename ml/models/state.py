"""Fitted per-series state, so the daily run forecasts without re-optimising.

`nova train` fits the expensive local models (statsforecast's AutoETS: model selection and
parameter optimisation, about 30 ms a series) once on every series of the classes that
use them and keeps, per series, what statsforecast's ``forward`` needs (the chosen
components, the parameters and initial states). The daily run runs the same recursion
over the series' latest history with those parameters (about 60 microseconds a series);
only series without state (new pairs, or all of them once the state is older than
``max_age_days``) are fitted again.

The cheap models need no state: their recursions over the whole history are computed for
all series at once (``ml.models.vectorized``) in less time than reading a state would take,
and so equal a full refit exactly.
"""

from __future__ import annotations

import copy
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np

from ml.models.base import GlobalModel, LocalModel, grouped

if TYPE_CHECKING:
    import pandas as pd

# What statsforecast's ``forward_ets`` reads from a fitted model (the rest, in-sample
# fitted values and residuals, is 730 floats a series that forward recomputes).
ETS_KEYS = ("m", "components", "par", "fit", "n_params", "method")


class StatefulModel(LocalModel):
    """A local model that forecasts series it holds state for without fitting:
    ``forecast_from_state(uids, series, h)`` gives (series x h), NaN rows where it has
    no usable state (the forecaster then fits ``inner`` on those series)."""

    inner: LocalModel

    def forecast_from_state(
        self, uids: Sequence[Any], series: Sequence[np.ndarray], h: int
    ) -> np.ndarray:
        raise NotImplementedError

    def forecast(self, y: np.ndarray, h: int) -> np.ndarray:
        return self.inner.forecast(y, h)


def _ets_inner(model: LocalModel) -> Any:
    """The statsforecast AutoETS inside our adapter, or None for another model."""
    inner = getattr(model, "model", None)
    return inner if type(inner).__name__ == "AutoETS" else None


def supports_state(model: LocalModel) -> bool:
    return _ets_inner(model) is not None


def fit_state_one(model: LocalModel, y: np.ndarray) -> dict[str, Any] | None:
    """Fit ``model`` (an AutoETS adapter) on one series; the state ``forward`` needs, or
    None where it cannot be fitted (the daily run then fits it again or falls back)."""
    ets = _ets_inner(model)
    season = int(getattr(model, "season_length", 1))
    if ets is None or (season > 1 and len(y) < 2 * season):
        return None
    try:
        fitted = copy.deepcopy(ets).fit(np.asarray(y, dtype=np.float64))
    except Exception:
        return None
    return {k: fitted.model_[k] for k in ETS_KEYS if k in fitted.model_}


def _fit_chunk(model: LocalModel, series: list[np.ndarray]) -> list[dict[str, Any] | None]:
    return [fit_state_one(model, y) for y in series]


def fit_states(
    model: LocalModel, uids: Sequence[Any], series: Sequence[np.ndarray], n_jobs: int = 1
) -> dict[str, dict[str, Any]]:
    """Per-series state of ``model`` for every series (fitted in ``n_jobs`` processes)."""
    items = list(series)
    if n_jobs > 1 and len(items) >= 50:
        size = -(-len(items) // (n_jobs * 4))
        ctx = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(n_jobs, mp_context=ctx) as pool:
            parts = list(
                pool.map(
                    _fit_chunk,
                    [model] * len(range(0, len(items), size)),
                    [items[a : a + size] for a in range(0, len(items), size)],
                )
            )
        states = [s for p in parts for s in p]
    else:
        states = _fit_chunk(model, items)
    return {str(u): s for u, s in zip(uids, states, strict=True) if s is not None}


def forward_one(state: dict[str, Any], y: np.ndarray, h: int) -> np.ndarray:
    """statsforecast's ``AutoETS.forward``: the stored model run over ``y``, no fitting."""
    from statsforecast.ets import forecast_ets, forward_ets

    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        mod = forward_ets(state, y=np.asarray(y, dtype=np.float64))
        return np.asarray(forecast_ets(mod, h=h)["mean"], dtype=float)


class ForwardETS(StatefulModel):
    """AutoETS forecasting from per-series fitted state (``fit_states``)."""

    def __init__(self, inner: LocalModel, states: dict[str, dict[str, Any]]) -> None:
        self.inner = inner
        self.alias = inner.alias
        self.states = states

    def forecast_from_state(
        self, uids: Sequence[Any], series: Sequence[np.ndarray], h: int
    ) -> np.ndarray:
        out = np.full((len(series), h), np.nan)
        season = int(getattr(self.inner, "season_length", 1))
        for i, (uid, y) in enumerate(zip(uids, series, strict=True)):
            state = self.states.get(str(uid))
            if state is None or (season > 1 and len(y) < 2 * season):
                continue
            try:
                f = forward_one(state, y, h)
            except Exception:
                continue
            if f.shape == (h,) and np.all(np.isfinite(f)):
                out[i] = f
        return out


def with_state(model: Any, state: dict[str, Any] | None) -> Any:
    """``model`` forecasting from its ``state`` (``fit_state``) where it has some."""
    if not state:
        return model
    if isinstance(model, LocalModel) and supports_state(model):
        return ForwardETS(model, state)
    if supports_paths(model) and "paths" in state:
        return StoredPaths(model, state["paths"], state["first"])
    return model


class StoredPaths(GlobalModel):
    """A global model (Prophet) forecasting from the paths it computed at training.

    Prophet's forecast is a fixed function of its fitted parameters (piecewise trend,
    Fourier seasonality, holidays) and the date: new observations do not move it until
    it is fitted again. So training evaluates each series' fitted model forward over the
    horizon plus the state's maximum age once (``fit_paths``), and the daily run reads the
    days it needs: the forecast of the parameters fitted at training, with no Stan fit.
    Series without a path covering the horizon (new pairs, a class change) are fitted.
    """

    def __init__(self, inner: GlobalModel, paths: dict[str, np.ndarray], first: str) -> None:
        self.inner = inner
        self.alias = inner.alias
        self.paths = paths
        self.first = first  # the date of every path's first value

    def forecast(
        self, df: pd.DataFrame, h: int, freq: str, X_future: pd.DataFrame | None = None
    ) -> pd.DataFrame:
        import pandas as pd

        g = grouped(df)
        lasts = g.lasts().astype("datetime64[ns]")
        start = (lasts - np.datetime64(pd.Timestamp(self.first))) // np.timedelta64(1, "D") + 1
        parts, missing = [], []
        rows, values = [], []
        for i, uid in enumerate(g.uids):
            path = self.paths.get(str(uid))
            offset = int(start[i])
            if freq != "D" or path is None or offset < 0 or offset + h > len(path):
                missing.append(uid)
                continue
            rows.append(i)
            values.append(path[offset : offset + h])
        if rows:
            take = np.asarray(rows)
            days = np.arange(1, h + 1).astype("timedelta64[D]")
            parts.append(
                pd.DataFrame(
                    {
                        "unique_id": np.repeat(g.uids[take], h),
                        "ds": (lasts[take][:, None] + days[None, :]).reshape(-1),
                        self.alias: np.concatenate(values).astype(float),
                    }
                )
            )
        self.refitted_ = len(missing)
        if missing:
            rest = df[df["unique_id"].isin(missing)]
            # plain ids: a categorical's unused categories would be empty groups there
            rest = rest.assign(unique_id=rest["unique_id"].astype(str))
            parts.append(self.inner.forecast(rest, h, freq, X_future=X_future))
        if not parts:
            return pd.DataFrame({"unique_id": [], "ds": [], self.alias: []})
        return pd.concat(parts, ignore_index=True)


def supports_paths(model: Any) -> bool:
    return isinstance(model, GlobalModel) and type(model).__name__ == "Prophet"


def keeps_fitted_state(model: Any) -> bool:
    """Whether training keeps per-series state of ``model`` for the daily run (ETS's
    parameters, Prophet's paths): what ``with_state`` forecasts from."""
    return (isinstance(model, LocalModel) and supports_state(model)) or supports_paths(model)


def fit_paths(
    model: GlobalModel, df: pd.DataFrame, length: int, freq: str = "D"
) -> tuple[dict[str, np.ndarray], str]:
    """Each series' forecast ``length`` periods past the common last date of ``df`` (the
    paths ``StoredPaths`` reads) and the date of their first value."""
    import pandas as pd

    out = model.forecast(df, length, freq)
    first = str(pd.Timestamp(df["ds"].max()) + pd.Timedelta(days=1))[:10]
    paths: dict[str, np.ndarray] = {}
    for uid, g in out.groupby("unique_id", sort=False):
        values = g.sort_values("ds")[model.alias].to_numpy(dtype=float)
        # only a full, finite path from the common start (series that ended earlier
        # start elsewhere: they are fitted on the day)
        if (
            len(values) == length
            and np.all(np.isfinite(values))
            and str(g["ds"].min())[:10] == first
        ):
            paths[str(uid)] = values
    return paths, first
