"""The trained demand forecaster: candidate models, per-class ensemble weights learnt on a
rolling-origin backtest, and conformal intervals. This object is what MLflow stores.

    result = train_ensemble(df, freq="M", h=6, candidates=default_candidates("M"))
    forecasts = result.model.predict(df, h=6)   # unique_id, ds, step, yhat, yhat_lo_80 ...
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ml.classify import CLASSES, classify
from ml.conformal import (
    SCALES,
    apply_intervals,
    coverage,
    fit_quantiles,
    horizon_buckets,
    interval_scale,
)
from ml.ensemble import Method, apply_floor, bias_factors, combine, fit_weights, floor_of
from ml.forecaster import Forecaster
from ml.metrics import naive_scales
from ml.models.base import GlobalModel, LocalModel

if TYPE_CHECKING:
    import pandas as pd

LEVELS = (80, 95)
SEASON = {"D": 7, "W": 52, "M": 12}
ENSEMBLE = "Ensemble"


def cheap_candidates(
    season: int, *, window: int, gbm: GlobalModel
) -> list[LocalModel | GlobalModel]:
    """The candidates every series can afford: naive baselines (window average over
    ``window`` periods), intermittent-demand methods and the global model ``gbm``."""
    from ml.models.baselines import HistoricAverage, Naive, SeasonalNaive, WindowAverage, Zero
    from ml.models.intermittent import ADIDA, IMAPA, TSB, CrostonClassic, CrostonSBA

    return [
        Naive(),
        SeasonalNaive(season),
        HistoricAverage(),
        WindowAverage(window, alias="WindowAverage"),
        Zero(),
        CrostonClassic(),
        CrostonSBA(),
        TSB(0.1, 0.1),
        ADIDA(),
        IMAPA(),
        gbm,
    ]


def default_candidates(
    freq: str, *, n_jobs: int = 2, expensive: bool = True
) -> list[LocalModel | GlobalModel]:
    """Every candidate family: naive baselines, intermittent methods, ETS/ARIMA/Theta,
    the global LightGBM, and (daily and weekly data) Prophet."""
    from ml.models.gbm import LightGBMGlobal
    from ml.models.prophet import Prophet
    from ml.models.statistical import AutoARIMA, AutoETS, AutoTheta

    season = SEASON.get(freq, 1)
    models = cheap_candidates(season, window=season, gbm=LightGBMGlobal(n_jobs=n_jobs))
    if expensive:
        models += [AutoETS(1), AutoARIMA(1), AutoTheta(1), Prophet(n_jobs=n_jobs)]
    return models


# Fitted state older than this (days before the history's last date) is not used: the
# series are fitted again (weekly training keeps it a week old).
STATE_MAX_AGE_DAYS = 14

BASELINES = ("Naive", "SeasonalNaive", "HistoricAverage", "WindowAverage", "Zero")


@dataclass
class DemandForecaster:
    """Everything a daily forecast needs; ``predict`` refits the local models on the
    latest history (they are cheap) and reuses nothing else but the learnt weights,
    intervals and the global model's settings."""

    freq: str
    h: int
    models: list[Any]
    model_sets: dict[str, list[str]]
    weights: dict[str, dict[str, float]]
    intervals: dict[str, dict[str, list[float]]]
    edges: list[int]
    levels: tuple[int, ...] = LEVELS
    interval_scale: str = "forecast"
    backtest_score: float = float("nan")
    info: dict[str, Any] = field(default_factory=dict)
    # multiplicative correction of the ensemble per demand class (``all`` for the others)
    bias: dict[str, float] = field(default_factory=dict)
    # rare series' floor: demand-day count k over the last year -> ratio_k (ml.ensemble)
    rate_ratios: dict[str, float] = field(default_factory=dict)
    # per member alias, per series: fitted state (``fit_state``), and the history's last
    # date it was fitted on; models pickled before these existed have neither
    state: dict[str, dict[str, Any]] = field(default_factory=dict)
    state_date: str | None = None

    def members(self, demand_class: str) -> list[str]:
        return list(self.weights.get(demand_class, self.weights["all"]))

    def active_members(self, demand_class: str) -> list[str]:
        """The members with a non-zero weight: only they change the ensemble."""
        w = self.weights.get(demand_class, self.weights["all"])
        return [a for a, v in w.items() if v != 0.0]

    def fit_state(
        self,
        df: pd.DataFrame,
        *,
        n_jobs: int = 2,
        classes: pd.DataFrame | None = None,
        max_age_days: int = STATE_MAX_AGE_DAYS,
    ) -> dict[str, int]:
        """Fit and keep each series' state of the members that keep one, on the series of
        the classes that give them weight, so ``predict`` forecasts them without
        re-optimising (``ml.models.state``): AutoETS's parameters, Prophet's forecast path
        over the horizon plus ``max_age_days``. Called at the end of training on the whole
        population; returns the number of series with state per member."""
        from ml.models.state import fit_paths, fit_states, keeps_fitted_state

        classes = classes if classes is not None else classify_frame(df)
        cls = classes["demand_class"].where(classes["demand_class"].isin(CLASSES), "all")
        state: dict[str, dict[str, Any]] = {}
        counts: dict[str, int] = {}
        for m in self.models:
            used = [c for c in (*CLASSES, "all") if m.alias in self.active_members(c)]
            # a member without state is skipped before its series are selected: that
            # selection (9M string comparisons) per stateless member took 5-7 s of training
            if not used or not keeps_fitted_state(m):
                continue
            uids = set(classes.loc[cls.isin(used).to_numpy(), "unique_id"].astype(str))
            part = df[df["unique_id"].astype(str).isin(uids)]
            if isinstance(m, LocalModel):  # ETS: its parameters and states
                part = part.sort_values(["unique_id", "ds"])
                groups = part.groupby("unique_id", sort=True)["y"]
                keys = [str(k) for k in groups.groups]
                series = [g.to_numpy(dtype=float) for _, g in groups]
                state[m.alias] = fit_states(m, keys, series, n_jobs=n_jobs)
                counts[m.alias] = len(state[m.alias])
            else:  # Prophet: its paths
                if hasattr(m, "n_jobs"):
                    m.n_jobs = n_jobs
                paths, first = fit_paths(m, part, (self.h or 1) + max_age_days, self.freq)
                state[m.alias] = {"paths": paths, "first": first}
                counts[m.alias] = len(paths)
        self.state = state
        self.state_date = str(df["ds"].max())[:10]
        return counts

    def predict(
        self,
        df: pd.DataFrame,
        h: int | None = None,
        *,
        n_jobs: int = 2,
        classes: pd.DataFrame | None = None,
        state_max_age_days: int = STATE_MAX_AGE_DAYS,
        use_state: bool = True,
    ) -> pd.DataFrame:
        """``unique_id, ds, step, demand_class, yhat, yhat_lo_80, yhat_hi_80, yhat_lo_95,
        yhat_hi_95, model_name`` for every series, ``h`` periods ahead.

        Only the members with weight run. Members with fitted state (``fit_state``) no
        older than ``state_max_age_days`` before the history's last date forecast from it
        (the series without state are fitted); ``use_state=False`` refits every series."""
        from ml.models.state import with_state

        h = h or self.h
        began = time.perf_counter()
        classes = classes if classes is not None else classify_frame(df)
        classified = time.perf_counter()
        sets = {c: self.active_members(c) for c in (*CLASSES, "all")}
        used = {a for s in sets.values() for a in s}
        models = [m for m in self.models if m.alias in used]
        for m in models:
            if hasattr(m, "n_jobs"):
                m.n_jobs = n_jobs
        states = self.fresh_state(df["ds"].max(), state_max_age_days) if use_state else {}
        models = [with_state(m, states.get(m.alias)) for m in models]
        fc = Forecaster(models, self.freq, n_jobs=n_jobs, model_sets=sets)
        wide = fc.forecast(df, h, classes=classes)
        for alias in {a for c in (*CLASSES, "all") for a in self.members(c)} - used:
            wide[alias] = 0.0  # weight 0: its forecast does not count
        self.last_failures_ = dict(fc.failures_)
        self.last_seconds_ = dict(fc.seconds_)
        self.last_refitted_ = dict(fc.refitted_)
        self.last_errors_ = list(fc.errors_)
        # whether the stored state was fresh enough to use (else every series was fitted)
        self.last_state_used_ = bool(states)
        forecast = time.perf_counter()
        out = self.assemble(wide, df, h, classes, scales=series_scales_frame(df))
        self.last_parts_ = {
            "classify": classified - began,
            "members": forecast - classified,
            "assemble": time.perf_counter() - forecast,
        }
        return out

    def fresh_state(self, last: Any, max_age_days: int) -> dict[str, dict[str, Any]]:
        """The stored state if it is at most ``max_age_days`` older than ``last`` (the
        history's last date); empty otherwise (and for models pickled before state)."""
        import pandas as pd

        state = getattr(self, "state", None) or {}
        fitted = getattr(self, "state_date", None)
        if not state or fitted is None:
            return {}
        age = (pd.Timestamp(last) - pd.Timestamp(fitted)).days
        return state if 0 <= age <= max_age_days else {}

    def assemble(
        self,
        wide: pd.DataFrame,
        df: pd.DataFrame,
        h: int,
        classes: pd.DataFrame,
        *,
        scales: pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """The ensemble, its bias correction and intervals from the members' forecasts
        (``wide``: ``unique_id, ds, <aliases>``, h rows per series) and the history."""
        scales = scales if scales is not None else series_scales(df)
        if _aligned(wide, h, classes, scales):
            return self._assemble_aligned(wide, df, h, classes, scales)
        out = wide[["unique_id", "ds"]].copy()
        out["step"] = np.tile(np.arange(1, h + 1), len(wide) // h)
        out = out.merge(classes[["unique_id", "demand_class"]], on="unique_id", how="left")
        members = {a for c in (*CLASSES, "all") for a in self.members(c)}
        out["yhat"] = combine(
            wide[["unique_id", *sorted(members)]].fillna(0.0), classes, self.weights
        )
        # models pickled before the bias correction existed have no ``bias``
        bias: dict[str, float] = getattr(self, "bias", None) or {}
        if bias:
            factor = out["demand_class"].map(bias).fillna(bias.get("all", 1.0))
            out["yhat"] = out["yhat"].to_numpy() * factor.to_numpy(dtype=float)
        ratios: dict[str, float] = getattr(self, "rate_ratios", None) or {}
        if ratios:
            out["yhat"] = apply_floor(
                out["yhat"].to_numpy(), out["unique_id"].to_numpy(), df, ratios
            )
        s = out[["unique_id"]].merge(scales, on="unique_id", how="left")
        scale = interval_scale(
            self.interval_scale,
            yhat_mean=out.groupby("unique_id")["yhat"].transform("mean").to_numpy(),
            scale_mse=s["scale_mse"].to_numpy(),
            level=s["level"].to_numpy(),
        )
        bands = apply_intervals(
            out["yhat"].to_numpy(),
            out["step"].to_numpy(),
            out["demand_class"].to_numpy(),
            scale,
            self.intervals,
            self.levels,
            self.edges,
        )
        for level in self.levels:
            out[f"yhat_lo_{level}"] = bands[f"lo-{level}"]
            out[f"yhat_hi_{level}"] = bands[f"hi-{level}"]
        names = {c: "+".join(self.members(c)) for c in (*CLASSES, "all")}
        out["model_name"] = out["demand_class"].map(names).fillna(names["all"])
        return out

    def _assemble_aligned(
        self,
        wide: pd.DataFrame,
        df: pd.DataFrame,
        h: int,
        classes: pd.DataFrame,
        scales: pd.DataFrame,
    ) -> pd.DataFrame:
        """``assemble`` for rows aligned with ``classes`` (per-series values repeated h
        times instead of merged on 1M string keys); the same arithmetic as ``combine``."""
        import pandas as pd

        n = len(classes)
        per_class = classes["demand_class"].to_numpy(dtype=object)
        cls = np.repeat(per_class, h)
        out = pd.DataFrame(
            {
                "unique_id": wide["unique_id"].to_numpy(),
                "ds": wide["ds"].to_numpy(),
                "step": np.tile(np.arange(1, h + 1), n),
                "demand_class": cls,
            }
        )
        yhat = np.zeros(len(out))
        for name in pd.unique(per_class):
            rows = np.repeat(per_class == name, h)
            for alias, weight in self.weights.get(str(name), self.weights["all"]).items():
                values = np.nan_to_num(wide[alias].to_numpy(dtype=float)[rows], nan=0.0)
                yhat[rows] += weight * values
        yhat = np.maximum(yhat, 0.0)
        bias: dict[str, float] = getattr(self, "bias", None) or {}
        if bias:
            factor = pd.Series(per_class).map(bias).fillna(bias.get("all", 1.0))
            yhat = yhat * np.repeat(factor.to_numpy(dtype=float), h)
        ratios: dict[str, float] = getattr(self, "rate_ratios", None) or {}
        if ratios:
            # per series, then repeated: the same floor apply_floor gives row by row
            floor = floor_of(classes["unique_id"].astype(str).to_numpy(), df, ratios)
            yhat = np.maximum(yhat, np.repeat(floor, h))
        out["yhat"] = yhat
        scale = interval_scale(
            self.interval_scale,
            yhat_mean=np.repeat(yhat.reshape(n, h).mean(axis=1), h),
            scale_mse=np.repeat(scales["scale_mse"].to_numpy(dtype=float), h),
            level=np.repeat(scales["level"].to_numpy(dtype=float), h),
        )
        bands = apply_intervals(
            yhat, out["step"].to_numpy(), cls, scale, self.intervals, self.levels, self.edges
        )
        for level in self.levels:
            out[f"yhat_lo_{level}"] = bands[f"lo-{level}"]
            out[f"yhat_hi_{level}"] = bands[f"hi-{level}"]
        names = {c: "+".join(self.members(c)) for c in (*CLASSES, "all")}
        label = pd.Series(per_class).map(names).fillna(names["all"]).to_numpy(dtype=object)
        out["model_name"] = np.repeat(label, h)
        return out


def _aligned(wide: pd.DataFrame, h: int, classes: pd.DataFrame, scales: pd.DataFrame) -> bool:
    """Whether ``wide`` holds h rows per series in the order of ``classes`` and ``scales``
    (as the forecaster and the vectorized tables give them): then no merge is needed."""
    ids = classes["unique_id"].to_numpy()
    return (
        len(wide) == h * len(ids)
        and len(scales) == len(ids)
        and bool((wide["unique_id"].to_numpy()[::h] == ids).all())
        and bool((scales["unique_id"].to_numpy() == ids).all())
    )


def _grouped(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sorted unique ids, group code per row, y) with rows ordered by id then date."""
    from ml.models.base import grouped

    g = grouped(df)
    return g.uids, g.codes, g.y


def classify_frame(df: pd.DataFrame) -> pd.DataFrame:
    """``ml.classify.classify`` computed for all series at once (same table)."""
    import pandas as pd

    from ml.classify import demand_class

    uids, codes, y = _grouped(df)
    n = len(uids)
    seen = ~np.isnan(y)
    size = np.bincount(codes[seen], minlength=n).astype(float)
    nz = seen & (y > 0)
    k = np.bincount(codes[nz], minlength=n).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.bincount(codes[nz], y[nz], minlength=n) / k
        dev = (y[nz] - mean[codes[nz]]) ** 2
        var = np.bincount(codes[nz], dev, minlength=n) / k
        adi = np.where(k > 0, size / k, np.inf)
        cv2 = np.where(k > 1, var / mean**2, 0.0)
    labels = [demand_class(a, c) for a, c in zip(adi.tolist(), cv2.tolist(), strict=True)]
    return pd.DataFrame({"unique_id": uids, "adi": adi, "cv2": cv2, "demand_class": labels})


def series_scales_frame(df: pd.DataFrame) -> pd.DataFrame:
    """``series_scales`` computed for all series at once (same table)."""
    import pandas as pd

    uids, codes, y = _grouped(df)
    n = len(uids)
    seen = ~np.isnan(y)
    c, v = codes[seen], y[seen]
    same = c[1:] == c[:-1]
    d = np.diff(v)[same]
    dc = c[1:][same]
    count = np.bincount(c, minlength=n).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mse = np.bincount(dc, d**2, minlength=n) / (count - 1)
        mae = np.bincount(dc, np.abs(d), minlength=n) / (count - 1)
        level = np.bincount(c, v, minlength=n) / count
    ok = count >= 2
    return pd.DataFrame(
        {
            "unique_id": uids,
            "scale_mse": np.where(ok & (mse > 0), mse, np.nan),
            "scale_mae": np.where(ok & (mae > 0), mae, np.nan),
            "level": level,
        }
    )


def series_scales(df: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    g = df.groupby("unique_id", sort=True)["y"]
    keys, sc = [], []
    for key, values in g:
        keys.append(key)
        sc.append(naive_scales(values.to_numpy()))
    return pd.DataFrame(
        {
            "unique_id": keys,
            "scale_mse": [v[0] for v in sc],
            "scale_mae": [v[1] for v in sc],
            "level": g.mean().to_numpy(),
        }
    )


@dataclass
class TrainResult:
    model: DemandForecaster
    cv: pd.DataFrame
    scales: pd.DataFrame
    classes: pd.DataFrame
    per_series: pd.DataFrame
    by_class: pd.DataFrame
    failures: dict[str, int]
    seconds_per_series: dict[str, float]


def train_ensemble(
    df: pd.DataFrame,
    *,
    freq: str,
    h: int,
    candidates: Sequence[LocalModel | GlobalModel],
    n_windows: int = 3,
    step: int | None = None,
    n_jobs: int = 2,
    method: Method = "rmsse",
    model_sets: Mapping[str, Sequence[str]] | None = None,
    levels: Sequence[int] = LEVELS,
    budget_seconds: float | None = None,
    population: Mapping[str, int] | None = None,
    shrink: float = 0.0,
    bias_correction: bool = False,
    actuals: pd.DataFrame | None = None,
    rate_ratios: Mapping[str, float] | None = None,
    min_weight: float = 0.0,
    season: int | None = None,
) -> TrainResult:
    """Backtest every candidate, learn per-class weights, calibrate the intervals.

    ``shrink`` pulls each class's weights towards the pooled ones (pseudo-series, see
    ``fit_weights``); ``bias_correction`` learns a multiplicative factor per class on the
    backtest that zeroes the ensemble's bias there (``bias_factors``), applied before the
    intervals are calibrated and at every prediction. ``actuals`` (default ``df``): what
    the backtest scores against (``cross_validation``; NaN = unknown, left out).
    ``rate_ratios`` (``ml.ensemble.count_ratios``): rare series' forecasts are raised to
    ratio_k x their last year's rate, after the bias correction. ``min_weight``: members
    weighted below it are dropped from their class (not re-learnt). ``season``: the
    earliest window is the one a year before the horizon (``ml.backtest.cutoffs``).

    ``budget_seconds`` caps the estimated daily inference time of the models for
    ``population`` (series per demand class; default: those of ``df``) on ``n_jobs``
    cores, from each model's measured seconds per series in the backtest (models the
    daily run forecasts from fitted state or a frozen booster cost nothing there): while the
    estimate is over budget, the costliest member of the costliest class is dropped and
    that class's weights are learnt again without it. So an expensive model stays only
    where the backtest gives it weight and the budget leaves it room.
    """
    from ml.backtest import class_scores, cross_validation, series_scores

    classes = classify(df)
    fc = Forecaster(candidates, freq, n_jobs=n_jobs, model_sets=model_sets)
    failures: dict[str, int] = {}
    seconds: dict[str, float] = {}  # summed over windows
    began = time.perf_counter()

    def run(train: pd.DataFrame, horizon: int) -> pd.DataFrame:
        out = fc.forecast(train, horizon, classes=classes)
        for k, v in fc.failures_.items():
            failures[k] = failures.get(k, 0) + v
        for alias, secs in fc.seconds_.items():
            seconds[alias] = seconds.get(alias, 0.0) + secs
        return out

    cv, scales = cross_validation(
        run, df, h=h, n_windows=n_windows, freq=freq, step=step, actuals=actuals, season=season
    )
    aliases = [m.alias for m in candidates]
    weights = fit_weights(
        cv, scales, classes, aliases, method=method, sets=model_sets, shrink=shrink
    )
    if min_weight > 0:
        # a member with a sliver of weight still runs on every series of its class every
        # day (ETS at 0.0025 in the erratic class: 71 s of the daily run); the bias
        # correction, learnt after this, absorbs the level it carried
        weights = {
            c: {a: x for a, x in w.items() if x >= min_weight} or w for c, w in weights.items()
        }
    n_series = df["unique_id"].nunique() * n_windows
    per_series_seconds = {k: v / max(n_series, 1) for k, v in seconds.items()}
    dropped: list[str] = []
    if budget_seconds is not None:
        counts = population or classes["demand_class"].value_counts().to_dict()
        # backtest seconds of a model per series of the classes it ran on
        ran_on = {
            a: sum(
                n
                for c, n in classes["demand_class"].value_counts().items()
                if not model_sets or a in model_sets.get(str(c), aliases)
            )
            for a in aliases
        }
        # every model's measured seconds per series; not those the daily run does not fit:
        # LightGBM (trained once) and the members that keep fitted state (ETS's parameters,
        # Prophet's paths: read daily in microseconds a series). Charging those their
        # backtest fit dropped Prophet or not depending on the machine's load that minute.
        from ml.models.state import keeps_fitted_state

        cost = {
            m.alias: seconds.get(m.alias, 0.0) / max(ran_on[m.alias] * n_windows, 1)
            for m in candidates
            if not (getattr(m, "trained_once", False) or keeps_fitted_state(m))
        }
        sets = {c: list(w) for c, w in weights.items()}
        while True:
            per_class = {
                c: counts.get(c, 0) * sum(cost.get(a, 0.0) for a in sets[c])
                for c in sets
                if c != "all"
            }
            estimate = sum(per_class.values()) / max(n_jobs, 1)
            if estimate <= budget_seconds or not per_class:
                break
            worst = max(per_class, key=lambda c: per_class[c])
            member = max(sets[worst], key=lambda a: cost.get(a, 0.0))
            # a class keeps its last member, whatever it costs: without one it has no
            # forecast at all
            if cost.get(member, 0.0) == 0.0 or len(sets[worst]) == 1:
                break
            sets[worst].remove(member)
            dropped.append(f"{member}@{worst}")
            weights.update(_refit_class(cv, scales, classes, worst, sets[worst], method))
    cv[ENSEMBLE] = combine(cv.fillna({a: 0.0 for a in aliases}), classes, weights)
    bias: dict[str, float] = {}
    if bias_correction:
        data = _calibration_frame(cv, scales, classes)
        bias = bias_factors(
            data["y"].to_numpy(dtype=float),
            data[ENSEMBLE].to_numpy(dtype=float),
            data["scale_mae"].to_numpy(dtype=float),
            data["demand_class"].to_numpy(),
            data["unique_id"].to_numpy(),
            data["cutoff"].to_numpy(),
        )
        factor = data["demand_class"].map(bias).fillna(bias["all"]).to_numpy(dtype=float)
        cv[ENSEMBLE] = data[ENSEMBLE].to_numpy() * factor
    if rate_ratios:
        for cutoff in cv["cutoff"].unique():
            rows = (cv["cutoff"] == cutoff).to_numpy()
            cv.loc[rows, ENSEMBLE] = apply_floor(
                cv.loc[rows, ENSEMBLE].to_numpy(),
                cv.loc[rows, "unique_id"].to_numpy(),
                df[df["ds"] <= cutoff],
                rate_ratios,
            )
    edges = horizon_buckets(h)
    kind, table, cal_report = calibrate_intervals(cv, scales, classes, levels, edges)
    data = _calibration_frame(cv, scales, classes)
    bands = apply_intervals(
        data[ENSEMBLE].to_numpy(),
        data["step"].to_numpy(),
        data["demand_class"].to_numpy(),
        _scale(kind, data),
        table,
        levels,
        edges,
    )
    for level in levels:
        cv[f"{ENSEMBLE}-lo-{level}"] = bands[f"lo-{level}"]
        cv[f"{ENSEMBLE}-hi-{level}"] = bands[f"hi-{level}"]
    per_series = series_scores(cv, scales, [*aliases, ENSEMBLE], levels)
    by_class = class_scores(per_series, classes)
    score = float(by_class.query("model == @ENSEMBLE and demand_class == 'all'")["rmsse"].iloc[0])
    model = DemandForecaster(
        freq=freq,
        h=h,
        models=list(candidates),
        model_sets={k: list(v) for k, v in (model_sets or {}).items()},
        weights=weights,
        intervals=table,
        edges=edges,
        levels=tuple(levels),
        interval_scale=kind,
        backtest_score=score,
        bias=bias,
        rate_ratios=dict(rate_ratios or {}),
        info={
            "n_windows": n_windows,
            "method": method,
            "seconds": time.perf_counter() - began,
            "interval_scale_choice": cal_report,
            "dropped_for_budget": dropped,
            "shrink": shrink,
        },
    )
    return TrainResult(
        model, cv, scales, classes, per_series, by_class, failures, per_series_seconds
    )


def _calibration_frame(
    cv: pd.DataFrame, scales: pd.DataFrame, classes: pd.DataFrame
) -> pd.DataFrame:
    data = cv.merge(scales, on=["unique_id", "cutoff"], how="left").merge(
        classes[["unique_id", "demand_class"]], on="unique_id", how="left"
    )
    data["yhat_mean"] = data.groupby(["unique_id", "cutoff"])[ENSEMBLE].transform("mean")
    return data


def _scale(kind: str, data: pd.DataFrame) -> np.ndarray:
    return interval_scale(
        kind,
        yhat_mean=data["yhat_mean"].to_numpy(),
        scale_mse=data["scale_mse"].to_numpy(),
        level=data["level"].to_numpy(),
    )


def calibrate_intervals(
    cv: pd.DataFrame,
    scales: pd.DataFrame,
    classes: pd.DataFrame,
    levels: Sequence[int],
    edges: list[int],
) -> tuple[str, dict[str, dict[str, list[float]]], dict[str, float]]:
    """Pick the residual scale whose intervals, calibrated on every backtest window but
    the last, cover the last window closest to nominal; then calibrate on all windows.
    Returns the scale, the quantile table and each scale's coverage error."""
    data = _calibration_frame(cv, scales, classes)
    last = data["cutoff"].max()
    cal, ev = data[data["cutoff"] < last], data[data["cutoff"] == last]
    report: dict[str, float] = {}
    if len(cal):
        for kind in SCALES:
            table = fit_quantiles(
                cal["y"].to_numpy(), cal[ENSEMBLE].to_numpy(), cal["step"].to_numpy(),
                cal["demand_class"].to_numpy(), _scale(kind, cal), levels, edges,
            )  # fmt: skip
            bands = apply_intervals(
                ev[ENSEMBLE].to_numpy(), ev["step"].to_numpy(), ev["demand_class"].to_numpy(),
                _scale(kind, ev), table, levels, edges,
            )  # fmt: skip
            report[kind] = float(
                sum(
                    abs(
                        coverage(ev["y"].to_numpy(), bands[f"lo-{lv}"], bands[f"hi-{lv}"])
                        - lv / 100
                    )
                    for lv in levels
                )
            )
    kind = min(report, key=lambda k: report[k]) if report else "naive_rms"
    table = fit_quantiles(
        data["y"].to_numpy(), data[ENSEMBLE].to_numpy(), data["step"].to_numpy(),
        data["demand_class"].to_numpy(), _scale(kind, data), levels, edges,
    )  # fmt: skip
    return kind, table, report


def _refit_class(
    cv: pd.DataFrame,
    scales: pd.DataFrame,
    classes: pd.DataFrame,
    demand_class: str,
    members: list[str],
    method: Method,
) -> dict[str, dict[str, float]]:
    if not members:
        return {demand_class: {}}
    part = classes[classes["demand_class"] == demand_class]
    fitted = fit_weights(cv, scales, part, members, method=method, min_rows=1)
    return {demand_class: fitted.get(demand_class, fitted["all"])}
