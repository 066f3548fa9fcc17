"""The forecasting engine: config in the constructor, data in the call.

    Forecaster(models=[SBA(), TSB(), LightGBMGlobal()], freq="M", n_jobs=2).forecast(df, h=6)

``df`` is a long table ``unique_id, ds, y`` (+ exogenous columns); the result has one row
per series and future period with one column per model alias. Local models run over the
series in parallel worker processes; a model that raises (or returns non-finite values)
on a series is replaced there by the fallback model, and the failure is counted in
``failures_`` rather than stopping the run.
"""

from __future__ import annotations

import multiprocessing
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np

from ml.models.base import GlobalModel, LocalModel, grouped
from ml.models.state import StatefulModel
from ml.models.vectorized import SeriesMatrix, VectorizedModel, vectorized

if TYPE_CHECKING:
    import pandas as pd

PANDAS_FREQ = {"D": "D", "W": "W-SUN", "M": "MS"}


def pandas_freq(freq: str) -> str:
    """Our frequency letters (D, W, M) to pandas offsets; other pandas aliases pass."""
    return PANDAS_FREQ.get(freq, freq)


def future_dates(last: pd.Timestamp, h: int, freq: str) -> pd.DatetimeIndex:
    import pandas as pd

    return pd.date_range(last, periods=h + 1, freq=pandas_freq(freq))[1:]


def _run_local_chunk(
    models: Sequence[LocalModel],
    fallback: LocalModel,
    series: list[np.ndarray],
    h: int,
    allowed: list[frozenset[str] | None] | None = None,
) -> tuple[dict[str, np.ndarray], Counter[str], dict[str, float]]:
    """Forecast a chunk of series with every local model (runs in a worker process);
    ``allowed[i]`` limits series i to some aliases (the others stay NaN)."""
    out = {m.alias: np.full((len(series), h), np.nan) for m in models}
    failures: Counter[str] = Counter()
    seconds = dict.fromkeys(out, 0.0)
    for i, y in enumerate(series):
        backup: np.ndarray | None = None
        only = allowed[i] if allowed is not None else None
        for model in models:
            if only is not None and model.alias not in only:
                continue
            began = time.perf_counter()
            try:
                f = np.asarray(model.forecast(y, h), dtype=float)
                if f.shape != (h,) or not np.all(np.isfinite(f)):
                    raise ValueError("non-finite or misshaped forecast")
            except Exception:
                failures[model.alias] += 1
                if backup is None:
                    backup = _safe_fallback(fallback, y, h)
                f = backup
            seconds[model.alias] += time.perf_counter() - began
            out[model.alias][i] = f
    return out, failures, seconds


def _safe_fallback(fallback: LocalModel, y: np.ndarray, h: int) -> np.ndarray:
    try:
        f = np.asarray(fallback.forecast(y, h), dtype=float)
        if f.shape == (h,) and np.all(np.isfinite(f)):
            return f
    except Exception:
        pass
    # Last resort: the mean of what was seen (zero for an empty series).
    return np.full(h, float(np.nanmean(y)) if len(y) else 0.0)


class Forecaster:
    """Runs a set of candidate models over many series.

    Parameters: ``models`` (local and global; aliases must be unique), ``freq`` (D, W, M
    or a pandas alias), ``model_sets`` (optional: demand class -> the aliases run on that
    class's series; the others are left NaN there), ``fallback`` (a cheap local model used where another fails),
    ``n_jobs`` (worker processes for local models), ``nonnegative`` (demand cannot be
    negative: forecasts are clipped at 0).
    """

    def __init__(
        self,
        models: Sequence[LocalModel | GlobalModel],
        freq: str,
        *,
        fallback: LocalModel | None = None,
        n_jobs: int = 1,
        nonnegative: bool = True,
        model_sets: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        aliases = [m.alias for m in models]
        duplicates = sorted({a for a in aliases if aliases.count(a) > 1})
        if duplicates:
            raise ValueError(f"duplicate model aliases: {duplicates}")
        if not models:
            raise ValueError("no models")
        if fallback is None:
            from ml.models.base import StatsforecastModel

            # HistoricAverage, deferred: importing statsforecast.models costs ~3 s of a
            # daily run that forecasts every member vectorized or from state
            fallback = StatsforecastModel.deferred(
                "statsforecast.models", "HistoricAverage", "Fallback"
            )
        self.models = list(models)
        self.freq = freq
        self.fallback = fallback
        self.n_jobs = max(1, n_jobs)
        self.nonnegative = nonnegative
        self.model_sets = {k: frozenset(v) for k, v in (model_sets or {}).items()}
        self.failures_: Counter[str] = Counter()
        self.seconds_: dict[str, float] = {}
        self.errors_: list[str] = []
        # series per stateful model fitted because they had no usable state
        self.refitted_: dict[str, int] = {}

    @property
    def aliases(self) -> list[str]:
        return [m.alias for m in self.models]

    def forecast(
        self,
        df: pd.DataFrame,
        h: int,
        *,
        X_future: pd.DataFrame | None = None,
        classes: pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """Forecasts ``h`` periods past each series' last date: ``unique_id, ds, <aliases>``.

        ``classes`` (``unique_id, demand_class``) selects the models per series when the
        forecaster has ``model_sets``."""
        import pandas as pd

        if h < 1:
            raise ValueError("h must be >= 1")
        g = grouped(df)
        df = g.df  # ordered by id and date
        self.failures_ = Counter()
        self.seconds_ = {}
        self.errors_ = []
        self.refitted_ = {}
        uids: list[Any] = list(g.uids)
        series = g.series()
        result = pd.DataFrame(
            {
                "unique_id": np.repeat(np.asarray(uids, dtype=object), h),
                "ds": _future_grid(g.lasts(), h, self.freq)
                if uids
                else np.array([], dtype="datetime64[ns]"),
            }
        )
        allowed: list[frozenset[str] | None] | None = None
        if self.model_sets and classes is not None:
            cls = classes.set_index("unique_id")["demand_class"].reindex(uids)
            allowed = [self.model_sets.get(str(c)) for c in cls]
        local = [m for m in self.models if isinstance(m, LocalModel)]
        fast = {m.alias: v for m in local if (v := vectorized(m)) is not None}
        if fast:
            for alias, values in self._run_vectorized(fast, series, h, allowed).items():
                result[alias] = values.reshape(-1)
        slow = [m for m in local if m.alias not in fast]
        for stateful in [m for m in slow if isinstance(m, StatefulModel)]:
            values = self._run_stateful(stateful, uids, series, h, allowed)
            result[stateful.alias] = values.reshape(-1)
        slow = [m for m in slow if not isinstance(m, StatefulModel)]
        if slow:
            for alias, values in self._run_local(slow, series, h, allowed).items():
                result[alias] = values.reshape(-1)
        for model in self.models:
            if isinstance(model, GlobalModel):
                keep = np.array(
                    [a is None or model.alias in a for a in (allowed or [None] * len(uids))]
                )
                result[model.alias] = self._run_global(
                    model, df, h, result, series, X_future, keep, uids
                )
                if hasattr(model, "refitted_"):  # a model forecasting from stored state
                    self.refitted_[model.alias] = int(model.refitted_)
        if self.nonnegative:
            for alias in self.aliases:
                result[alias] = result[alias].clip(lower=0.0)  # NaN (not run) stays NaN
        return result[["unique_id", "ds", *self.aliases]]

    def _run_vectorized(
        self,
        models: Mapping[str, VectorizedModel],
        series: list[np.ndarray],
        h: int,
        allowed: list[frozenset[str] | None] | None,
    ) -> dict[str, np.ndarray]:
        """The cheap local models over all their series at once (``ml.models.vectorized``);
        rows a model cannot forecast get the fallback, counted as failures."""
        sm = SeriesMatrix.from_series(series)
        backup: np.ndarray | None = None
        out: dict[str, np.ndarray] = {}
        for alias, model in models.items():
            began = time.perf_counter()
            values = np.full((len(series), h), np.nan)
            rows = np.array(
                [a is None or alias in a for a in (allowed or [None] * len(series))], dtype=bool
            )
            idx = np.flatnonzero(rows)
            if len(idx):
                values[idx] = model.forecast_matrix(sm.take(idx), h)
            bad = rows & ~np.isfinite(values).all(axis=1)
            if bad.any():
                self.failures_[alias] += int(bad.sum())
                if backup is None:
                    backup = self._vectorized_fallback(sm, series, h)
                values[bad] = backup[bad]
            out[alias] = values
            self.seconds_[alias] = time.perf_counter() - began
        return out

    def _run_stateful(
        self,
        model: StatefulModel,
        uids: list[Any],
        series: list[np.ndarray],
        h: int,
        allowed: list[frozenset[str] | None] | None,
    ) -> np.ndarray:
        """A model from its stored per-series state; the series without usable state are
        fitted (``model.inner``, in the worker processes) as without state."""
        began = time.perf_counter()
        values = np.full((len(series), h), np.nan)
        rows = np.flatnonzero(
            [a is None or model.alias in a for a in (allowed or [None] * len(series))]
        )
        if len(rows):
            values[rows] = model.forecast_from_state(
                [uids[i] for i in rows], [series[i] for i in rows], h
            )
        missing = rows[~np.isfinite(values[rows]).all(axis=1)]
        self.refitted_[model.alias] = len(missing)
        seconds = time.perf_counter() - began
        if len(missing):
            refit = self._run_local([model.inner], [series[i] for i in missing], h, None)
            values[missing] = refit[model.alias]
        self.seconds_[model.alias] = self.seconds_.get(model.alias, 0.0) + seconds
        return values

    def _vectorized_fallback(
        self, sm: SeriesMatrix, series: list[np.ndarray], h: int
    ) -> np.ndarray:
        fallback = vectorized(self.fallback)
        grid = (
            fallback.forecast_matrix(sm, h)
            if fallback is not None
            else np.full((len(series), h), np.nan)
        )
        for i in np.flatnonzero(~np.isfinite(grid).all(axis=1)):
            grid[i] = _safe_fallback(self.fallback, series[i], h)
        return grid

    def _run_local(
        self,
        models: list[LocalModel],
        series: list[np.ndarray],
        h: int,
        allowed: list[frozenset[str] | None] | None,
    ) -> dict[str, np.ndarray]:
        chunks = _chunks(len(series), self.n_jobs * 4 if self.n_jobs > 1 else 1)
        if self.n_jobs == 1 or len(series) < 50:
            parts = [_run_local_chunk(models, self.fallback, series, h, allowed)]
        else:
            # Warm the models up (numba compiles on first call) before forking, so the
            # workers inherit compiled code instead of compiling it each.
            _run_local_chunk(models, self.fallback, series[:1], h)
            ctx = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(self.n_jobs, mp_context=ctx) as pool:
                futures = [
                    pool.submit(
                        _run_local_chunk,
                        models,
                        self.fallback,
                        series[a:b],
                        h,
                        allowed[a:b] if allowed is not None else None,
                    )
                    for a, b in chunks
                ]
                parts = [f.result() for f in futures]
        out: dict[str, np.ndarray] = {}
        for m in models:
            out[m.alias] = (
                np.concatenate([p[0][m.alias] for p in parts]) if parts else np.empty((0, h))
            )
            self.seconds_[m.alias] = sum(p[2][m.alias] for p in parts)
        for p in parts:
            self.failures_.update(p[1])
        return out

    def _run_global(
        self,
        model: GlobalModel,
        df: pd.DataFrame,
        h: int,
        frame: pd.DataFrame,
        series: list[np.ndarray],
        X_future: pd.DataFrame | None,
        keep: np.ndarray,
        uids: list[Any],
    ) -> np.ndarray:
        import pandas as pd

        began = time.perf_counter()
        values = np.full(len(frame), np.nan)
        if not keep.any():
            return values
        try:
            if keep.all():
                subset = df
            else:
                subset = df[keep[grouped(df).codes]].reset_index(drop=True)
                if isinstance(subset["unique_id"].dtype, pd.CategoricalDtype):
                    # the models group by id: no empty groups for the series left out
                    ids = subset["unique_id"].cat.remove_unused_categories()
                    subset = subset.assign(unique_id=ids)
            out = model.forecast(subset, h, self.freq, X_future=X_future)
            rows = np.flatnonzero(np.repeat(keep, h))
            if (
                len(out) == len(rows)
                and (out["unique_id"].to_numpy() == frame["unique_id"].to_numpy()[rows]).all()
                and (out["ds"].to_numpy() == frame["ds"].to_numpy()[rows]).all()
            ):  # the model's rows in the frame's order: no merge on 1M keys
                values[rows] = out[model.alias].to_numpy(dtype=float)
            else:
                merged = frame[["unique_id", "ds"]].merge(out, on=["unique_id", "ds"], how="left")
                values = merged[model.alias].to_numpy(dtype=float)
        except Exception as exc:
            self.errors_.append(f"{model.alias}: {type(exc).__name__}: {exc}")
        bad = ~np.isfinite(values.reshape(-1, h)).all(axis=1) & keep
        if bad.any():
            self.failures_[model.alias] += int(bad.sum())
            grid = values.reshape(-1, h)
            for i in np.flatnonzero(bad):
                grid[i] = _safe_fallback(self.fallback, series[i], h)
            values = grid.reshape(-1)
        self.seconds_[model.alias] = time.perf_counter() - began
        return values


def _future_grid(lasts: np.ndarray, h: int, freq: str) -> np.ndarray:
    """``future_dates`` of every series' last date, concatenated (daily: arithmetic)."""
    if freq == "D":
        days = np.arange(1, h + 1).astype("timedelta64[D]")
        return (lasts.astype("datetime64[ns]")[:, None] + days[None, :]).reshape(-1)
    import pandas as pd

    return np.concatenate([future_dates(pd.Timestamp(x), h, freq) for x in lasts])


def _chunks(n: int, parts: int) -> list[tuple[int, int]]:
    size = max(1, -(-n // max(1, parts)))
    return [(a, min(n, a + size)) for a in range(0, n, size)]


def describe(models: Sequence[Any]) -> dict[str, str]:
    return {m.alias: repr(m) for m in models}
