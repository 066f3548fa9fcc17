"""The two model interfaces of the library."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

if TYPE_CHECKING:
    import pandas as pd


class LocalModel:
    """A model fitted on one series at a time.

    ``forecast(y, h)`` gets the series' history (float array, oldest first, no gaps) and
    returns ``h`` point forecasts. ``cost`` tells the planner roughly how expensive it is
    ("cheap": milliseconds; "expensive": a tenth of a second or more per series).
    """

    alias: str
    cost: ClassVar[str] = "cheap"

    def forecast(self, y: np.ndarray, h: int) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(alias={self.alias!r})"


class GlobalModel:
    """A model trained across all series: ``forecast(df, h, freq)`` gets the long table
    (``unique_id, ds, y`` + exogenous columns; future exogenous rows are not needed when
    the model only uses calendar features) and returns ``unique_id, ds, <alias>``."""

    alias: str
    cost: ClassVar[str] = "cheap"

    def forecast(
        self, df: pd.DataFrame, h: int, freq: str, X_future: pd.DataFrame | None = None
    ) -> pd.DataFrame:
        raise NotImplementedError

    def params(self) -> dict[str, Any]:
        return {}


class StatsforecastModel(LocalModel):
    """Adapter of a statsforecast model (its per-series ``forecast(y, h)``)."""

    def __init__(self, model: Any, alias: str) -> None:
        self._model: Any = model
        self.alias = alias
        self.kind = type(model).__name__
        self._spec: tuple[str, str, dict[str, Any] | None] = (
            type(model).__module__,
            type(model).__qualname__,
            dict(vars(model)),
        )
        self._kwargs: dict[str, Any] = {}

    @property
    def model(self) -> Any:
        """The statsforecast model, rebuilt on first use after unpickling: the daily run
        forecasts these members vectorized (``ml.models.vectorized``) from ``kind`` and
        ``param`` alone, and importing statsforecast.models (statsmodels with it) costs
        seconds of the champion's load."""
        if self._model is None:
            import importlib

            module, name, attrs = self._spec
            cls = getattr(importlib.import_module(module), name)
            if attrs is None:  # deferred(): built from its constructor's arguments
                inner = cls(**self._kwargs)
            else:
                inner = cls.__new__(cls)
                inner.__dict__.update(attrs)
            self._model = inner
        return self._model

    @classmethod
    def deferred(cls, module: str, name: str, alias: str, **kwargs: Any) -> StatsforecastModel:
        """``module.name(**kwargs)`` in the adapter, built (statsforecast imported) only
        when it first forecasts: the forecaster's default fallback rarely does."""
        self = cls.__new__(cls)
        self.alias, self.kind, self._model = alias, name, None
        self._spec = (module, name, None)
        self._kwargs = kwargs
        return self

    def param(self, name: str) -> Any:
        """An attribute of the statsforecast model (``season_length``...), without
        building it."""
        if self._model is None:
            attrs = self._spec[2]
            return attrs[name] if attrs is not None else self._kwargs[name]
        return getattr(self._model, name)

    def __getstate__(self) -> dict[str, Any]:
        # the model's class by name and its attributes: unpickling imports nothing
        spec = self._spec
        if self._model is not None:  # its attributes now, not at construction
            spec = (spec[0], spec[1], dict(vars(self._model)))
        rest = {k: v for k, v in vars(self).items() if k not in ("_model", "kind", "_spec")}
        return {**rest, "kind": self.kind, "spec": spec}

    def __setstate__(self, state: dict[str, Any]) -> None:
        rest = {k: v for k, v in state.items() if k not in ("model", "kind", "spec")}
        self.__dict__.update(rest)  # the alias, a subclass's own attributes
        self.__dict__.setdefault("_kwargs", {})
        if "model" in state:  # pickled before the lazy form: the model itself
            inner = state["model"]
            self._model = inner
            self.kind = type(inner).__name__
            self._spec = (type(inner).__module__, type(inner).__qualname__, dict(vars(inner)))
            return
        self.kind = state["kind"]
        self._spec = state["spec"]
        self._model = None

    def forecast(self, y: np.ndarray, h: int) -> np.ndarray:
        out = self.model.forecast(y=np.asarray(y, dtype=np.float64), h=h)
        return np.asarray(out["mean"], dtype=float)


class Grouped:
    """A long ``unique_id, ds, y`` table ordered by id then date, with each row's series
    code: built once per call (sorting and hashing 9M ids costs seconds) and shared by the
    forecaster, the classification and the global models' matrices."""

    def __init__(self, df: pd.DataFrame) -> None:
        import pandas as pd

        column = df["unique_id"]
        if isinstance(column.dtype, pd.CategoricalDtype) and (
            column.cat.categories.is_monotonic_increasing
        ):
            # sorted categories (the gold reader's): compare integer codes, not strings
            ids = column.cat.codes.to_numpy()
            labels = np.asarray(column.cat.categories, dtype=object)
        else:
            ids = column.to_numpy()
            labels = None
        ds = df["ds"].to_numpy()
        change = np.ones(len(ids), dtype=bool)
        if len(ids) > 1:
            change[1:] = (ids[1:] != ids[:-1]) | (ds[1:] <= ds[:-1])
        starts = np.flatnonzero(change)
        keys = ids[starts]
        # already ordered (the gold reader sorts): blocks of increasing dates whose ids
        # strictly increase; else sort once
        if len(keys) > 1 and not (keys[1:] > keys[:-1]).all():
            df = df.sort_values(["unique_id", "ds"], ignore_index=True)
            ids, ds, labels = df["unique_id"].to_numpy(), df["ds"].to_numpy(), None
            change = np.ones(len(ids), dtype=bool)
            change[1:] = ids[1:] != ids[:-1]
            starts = np.flatnonzero(change)
            keys = ids[starts]
        self.df = df
        self.uids = labels[keys] if labels is not None else keys
        self.starts = starts
        self.lengths = np.diff(np.append(starts, len(ids)))
        self.codes = np.repeat(np.arange(len(starts)), self.lengths)
        self.y = df["y"].to_numpy(dtype=float)
        self.ds = ds

    def series(self) -> list[np.ndarray]:
        return np.split(self.y, self.starts[1:]) if len(self.starts) else []

    def lasts(self) -> np.ndarray:
        return self.ds[self.starts + self.lengths - 1] if len(self.starts) else self.ds[:0]


_GROUPED: list[tuple[Any, Grouped]] = []


def grouped(df: pd.DataFrame) -> Grouped:
    """``Grouped(df)``, cached for the last frame seen (the same history is grouped by the
    forecaster, the classification and each global model within one prediction)."""
    import weakref

    for ref, g in _GROUPED:
        if ref() is df:
            return g
    g = Grouped(df)
    _GROUPED.clear()
    _GROUPED.append((weakref.ref(df), g))
    return g


def history_matrix(
    df: pd.DataFrame, freq: str, extra: int = 0
) -> tuple[np.ndarray, np.ndarray, pd.DatetimeIndex, np.ndarray, int]:
    """(sorted ids, series x period matrix on one calendar with ``extra`` empty periods
    after it (NaN before a series starts), the calendar incl. those periods, each
    series' last column, the number of history periods)."""
    import pandas as pd

    from ml.forecaster import pandas_freq

    g = grouped(df)
    first, last = g.ds.min(), g.ds.max()
    calendar = pd.date_range(first, last, freq=pandas_freq(freq))
    if freq == "D":
        offset = (g.ds - np.datetime64(calendar[0])) // np.timedelta64(1, "D")
        col = np.where(
            (g.ds - np.datetime64(calendar[0])) % np.timedelta64(1, "D") == np.timedelta64(0),
            offset,
            -1,
        ).astype(np.int64)
    else:
        col = calendar.get_indexer(pd.DatetimeIndex(g.ds))
    if (col < 0).any():
        raise ValueError("dates off the frequency's calendar")
    t_hist = len(calendar)
    future = pd.date_range(calendar[-1], periods=extra + 1, freq=pandas_freq(freq))[1:]
    m = np.full((len(g.uids), t_hist + extra), np.nan)
    m[g.codes, col] = g.y
    ends = col[g.starts + g.lengths - 1] if len(g.starts) else np.zeros(0, dtype=np.int64)
    dates = pd.DatetimeIndex(calendar.append(future))
    return g.uids, m, dates, np.asarray(ends), t_hist
