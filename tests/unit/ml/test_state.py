"""Forecasts from fitted state equal a full refit; stale or missing state refits."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd

from ml.classify import classify
from ml.model import DemandForecaster
from ml.models.baselines import WindowAverage
from ml.models.gbm import _features, _Rolling
from ml.models.prophet import Prophet
from ml.models.state import ForwardETS, StoredPaths, fit_paths, fit_states
from ml.models.statistical import AutoETS

H = 7


def _frame(n_series: int, days: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "unique_id": f"s{i}",
                    "ds": pd.date_range("2025-01-01", periods=days),
                    "y": rng.poisson(3.0 + 2 * i, days).astype(float),
                }
            )
            for i in range(n_series)
        ],
        ignore_index=True,
    )


def test_ets_from_state_equals_refit_and_missing_state_refits() -> None:
    df = _frame(4, 120)
    series = [g["y"].to_numpy() for _, g in df.groupby("unique_id")]
    ets = AutoETS(1)
    states = fit_states(ets, ["s0", "s1", "s2", "s3"], series)
    assert set(states) == {"s0", "s1", "s2", "s3"}
    got = ForwardETS(ets, states).forecast_from_state(["s0", "s1", "s2", "s3"], series, H)
    want = np.array([ets.forecast(y, H) for y in series])
    np.testing.assert_array_equal(got, want)
    # no state for a new pair: NaN, so the forecaster fits it
    assert np.isnan(ForwardETS(ets, states).forecast_from_state(["new"], series[:1], H)).all()
    # a state is a handful of numbers, not the fitted values (the pickle stays small)
    assert len(pickle.dumps(states["s0"])) < 2_000


def test_prophet_paths_equal_the_fit_and_shift_with_the_run_date() -> None:
    df = _frame(2, 400)
    prophet = Prophet()
    paths, first = fit_paths(prophet, df, H + 3)
    assert first == "2026-02-05" and set(paths) == {"s0", "s1"}
    stored = StoredPaths(prophet, paths, first)
    want = prophet.forecast(df, H, "D")
    got = stored.forecast(df, H, "D")
    pd.testing.assert_frame_equal(got, want)
    assert stored.refitted_ == 0
    # three days later (the history grew): the path read three days further on
    later = pd.concat(
        [
            df,
            pd.DataFrame(
                {
                    "unique_id": np.repeat(["s0", "s1"], 3),
                    "ds": list(pd.date_range("2026-02-05", periods=3)) * 2,
                    "y": 5.0,
                }
            ),
        ]
    ).sort_values(["unique_id", "ds"], ignore_index=True)
    shifted = stored.forecast(later, H, "D")
    np.testing.assert_array_equal(
        shifted.loc[shifted["unique_id"] == "s0", "Prophet"].to_numpy(), paths["s0"][3 : 3 + H]
    )
    assert shifted["ds"].min() == pd.Timestamp("2026-02-08")
    # a day past the path's end: fitted again
    assert (
        stored.forecast(later.assign(ds=later["ds"] + pd.Timedelta(days=1)), H, "D").shape[0]
        == 2 * H
    )
    assert stored.refitted_ == 2


def test_rolling_features_equal_the_direct_ones() -> None:
    rng = np.random.default_rng(3)
    n, t_hist, h = 30, 500, 20
    z = np.full((n, t_hist + h), np.nan)
    for i in range(n):
        start = int(rng.integers(0, 450))
        z[i, start:t_hist] = (rng.random(t_hist - start) < 0.3) * rng.gamma(
            2.0, 1.0, t_hist - start
        )
    cal = np.zeros((t_hist + h, 1))
    ex = np.zeros((0, n, t_hist + h))
    scale = np.ones(n)
    lags, windows = (1, 2, 7), (7, 28, 364)
    rolling = _Rolling(z, t_hist)
    for step in range(h):
        t = t_hist + step
        direct = _features(z, ex, cal, t, lags, windows, scale)
        fast = rolling.features(z, ex, cal, t, lags, windows, scale)
        np.testing.assert_allclose(fast, direct, rtol=1e-10, atol=1e-12)
        z[:, t] = rng.random(n) * (rng.random(n) < 0.5)
        rolling.push(z[:, t])


def _forecaster(model: object) -> DemandForecaster:
    return DemandForecaster(
        freq="D",
        h=H,
        models=[WindowAverage(7), model],
        model_sets={},
        weights={"all": {"WindowAverage": 0.5, "ETS": 0.5}},
        intervals={},
        edges=[H],
        levels=(),
    )


def test_predict_from_state_equals_refit_and_stale_state_is_not_used() -> None:
    df = _frame(5, 90)
    model = _forecaster(AutoETS(1))
    refit = model.predict(df, H, n_jobs=1, use_state=False)
    counts = model.fit_state(df, n_jobs=1)
    assert counts == {"ETS": 5} and model.state_date == "2025-03-31"
    from_state = model.predict(df, H, n_jobs=1)
    assert model.last_refitted_ == {"ETS": 0}
    pd.testing.assert_frame_equal(from_state, refit)
    # 20 days later the state is older than 14 days: every series is fitted again
    later = df.assign(ds=df["ds"] + pd.Timedelta(days=20))
    stale = model.predict(later, H, n_jobs=1, state_max_age_days=14)
    assert not model.last_state_used_ and model.last_refitted_ == {}
    fresh = model.predict(later, H, n_jobs=1, state_max_age_days=30)
    assert model.last_state_used_ and model.last_refitted_ == {"ETS": 0}
    # the same history (dates moved): the refit and the state agree
    np.testing.assert_allclose(fresh["yhat"], stale["yhat"], rtol=1e-12)


def test_model_pickled_before_state_still_predicts() -> None:
    df = _frame(3, 60)
    model = _forecaster(AutoETS(1))
    old = pickle.loads(pickle.dumps(model))
    del old.__dict__["state"], old.__dict__["state_date"]  # as unpickled from before
    out = old.predict(df, H, n_jobs=1)
    assert len(out) == 3 * H and np.isfinite(out["yhat"]).all()
    assert set(classify(df)["unique_id"]) == set(out["unique_id"])


def test_aligned_assemble_equals_the_merging_one() -> None:
    """The forecaster's rows in the classes' order skip the merges, with the same result."""
    from ml.forecaster import Forecaster
    from ml.model import classify_frame, series_scales_frame
    from ml.models.baselines import Naive

    rng = np.random.default_rng(0)
    df = pd.concat(
        [
            pd.DataFrame(
                {
                    "unique_id": f"s{i:02d}",
                    "ds": pd.date_range("2025-01-01", periods=60),
                    "y": (rng.random(60) < rng.uniform(0.1, 1)) * rng.poisson(4, 60).astype(float),
                }
            )
            for i in range(40)
        ],
        ignore_index=True,
    )
    model = DemandForecaster(
        freq="D",
        h=H,
        models=[WindowAverage(7), Naive()],
        model_sets={},
        weights={"all": {"WindowAverage": 0.6, "Naive": 0.4}, "smooth": {"WindowAverage": 0.9}},
        intervals={"smooth": {"80": [-1.0, 1.2]}, "all": {"80": [-0.5, 0.7]}},
        edges=[H],
        levels=(80,),
        bias={"all": 1.1, "smooth": 0.9},
    )
    classes = classify_frame(df)
    assert set(classes["demand_class"]) == {"smooth", "intermittent"}
    wide = Forecaster(model.models, "D").forecast(df, H)
    scales = series_scales_frame(df)
    aligned = model.assemble(wide, df, H, classes, scales=scales)
    shuffled = classes.sample(frac=1, random_state=2)  # not aligned: merged
    merged = model.assemble(wide, df, H, shuffled, scales=scales)
    pd.testing.assert_frame_equal(aligned, merged, check_dtype=False, rtol=1e-12)


def test_categorical_history_forecasts_as_the_plain_one() -> None:
    """The daily reader gives ids as categoricals; a model fitted on a subset of series
    (a class) must not see the other categories as empty series."""
    from ml.forecaster import Forecaster

    df = _frame(4, 60)
    cat = df.assign(unique_id=pd.Categorical(df["unique_id"], categories=["s0", "s1", "s2", "s3"]))
    classes = pd.DataFrame(
        {"unique_id": ["s0", "s1", "s2", "s3"], "demand_class": ["smooth", "lumpy"] * 2}
    )
    prophet = Prophet()
    paths, first = fit_paths(prophet, df[df["unique_id"] == "s0"], H + 2)
    sets = {"smooth": ["Prophet", "WindowAverage"], "lumpy": ["WindowAverage"]}
    models = [StoredPaths(prophet, paths, first), WindowAverage(7)]
    plain_fc = Forecaster(models, "D", model_sets=sets)
    plain = plain_fc.forecast(df, H, classes=classes)
    cat_fc = Forecaster(models, "D", model_sets=sets)
    got = cat_fc.forecast(cat, H, classes=classes)
    pd.testing.assert_frame_equal(got, plain)
    assert not cat_fc.errors_ and not cat_fc.failures_
    assert cat_fc.refitted_ == {"Prophet": 1}  # s2 had no path: fitted
