"""`nova train`'s evaluation tables and the JSON they are written as."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from ml.classify import classify
from ml.model import ENSEMBLE
from ml.train import TrainSummary, evaluation_tables


def _frames() -> tuple[pd.DataFrame, ...]:
    rng = np.random.default_rng(0)
    ds = pd.date_range("2025-01-01", periods=420, freq="D")
    df = pd.concat(
        [
            pd.DataFrame({"unique_id": f"s{i}", "ds": ds, "y": rng.poisson(2 + i, len(ds)) * 1.0})
            for i in range(4)
        ],
        ignore_index=True,
    )
    cut = ds[-15]
    history, actuals = df[df["ds"] <= cut], df[df["ds"] > cut]
    wide = actuals[["unique_id", "ds"]].copy()
    wide["Good"] = actuals["y"].to_numpy() + 0.5
    wide["Half"] = actuals["y"].to_numpy() * 0.5
    wide["OnlyS0"] = np.where(wide["unique_id"] == "s0", 1.0, np.nan)  # run on one series
    ens = wide[["unique_id", "ds"]].copy()
    ens["step"] = ens.groupby("unique_id").cumcount() + 1
    ens["yhat"] = wide["Good"].to_numpy()
    for level, width in ((80, 1.0), (95, 100.0)):
        ens[f"yhat_lo_{level}"] = ens["yhat"] - width
        ens[f"yhat_hi_{level}"] = ens["yhat"] + width
    return wide, ens, actuals, history


def test_every_candidate_and_the_ensemble_are_scored_on_the_window():
    wide, ens, actuals, history = _frames()
    classes = classify(history)
    table, diagnosis = evaluation_tables(
        wide, ens, actuals, history, classes, ["Good", "Half", "OnlyS0"]
    )
    overall = table[table["demand_class"] == "all"].set_index("model")
    assert set(overall.index) == {"Good", "Half", "OnlyS0", ENSEMBLE}
    # Half forecasts half the demand: negative bias; Good is 0.5 above: positive
    assert overall.loc["Half", "bias"] < 0 < overall.loc["Good", "bias"]
    assert overall.loc[ENSEMBLE, "rmsse"] == overall.loc["Good", "rmsse"]
    # intervals of +-1 around y + 0.5 cover every point; the series counts skip unrun ones
    assert overall.loc[ENSEMBLE, "cov80"] == 1.0 and overall.loc[ENSEMBLE, "cov95"] == 1.0
    assert overall.loc["OnlyS0", "series"] == 1 and overall.loc["Good", "series"] == 4
    assert set(diagnosis) == {"week", "stage"}
    assert diagnosis["week"]["week"].tolist() == [1, 2] and (diagnosis["week"]["bias"] > 0).all()


def test_the_tables_are_plain_json():
    wide, ens, actuals, history = _frames()
    classes = classify(history)
    table, diagnosis = evaluation_tables(wide, ens, actuals, history, classes, ["Good", "Half"])
    summary = TrainSummary(
        "run", "3", 0.5, None, None, True, table, {"all": {"Good": 1.0}},
        {"total": 1.0}, table, diagnosis, {"all": 1.0},
    )  # fmt: skip
    data = json.loads(json.dumps(summary.tables()))
    row = next(
        r for r in data["evaluation"] if r["model"] == ENSEMBLE and r["demand_class"] == "all"
    )
    assert set(row) >= {
        "model",
        "demand_class",
        "rmsse",
        "mase",
        "bias",
        "cov80",
        "cov95",
        "series",
    }
    half = next(
        r for r in data["evaluation"] if r["model"] == "Half" and r["demand_class"] == "all"
    )
    assert half["cov80"] is None  # no intervals for a single model: null, not NaN
    assert data["evaluation_by_stage"] and data["promoted"] is True


def test_stockout_days_are_left_out_of_the_scores():
    from ml.backtest import cross_validation
    from ml.train import scored_demand

    ds = pd.date_range("2026-01-01", periods=6, freq="D")
    loaded = pd.DataFrame(
        {
            "unique_id": "a",
            "ds": ds,
            "y": [2.0, 2.0, 2.0, 2.0, 2.0, 4.0],  # day 4 imputed (recorded 0, no stock)
            "y_recorded": [2.0, 2.0, 2.0, 2.0, 0.0, 4.0],
            "stock_state": [None, None, None, None, "out", None],
        }
    )
    truth = scored_demand(loaded)
    assert truth["y"].isna().tolist() == [False] * 4 + [True, False]
    assert truth["y"].iloc[[3, 5]].tolist() == [2.0, 4.0]

    def constant(train: pd.DataFrame, h: int) -> pd.DataFrame:
        last = train["ds"].max()
        days = pd.date_range(last + pd.Timedelta(days=1), periods=h, freq="D")
        return pd.DataFrame({"unique_id": "a", "ds": days, "Two": 2.0})

    train = loaded[["unique_id", "ds", "y"]]
    cv, _ = cross_validation(constant, train, h=3, n_windows=1, freq="D", actuals=truth)
    # the window's days 3..5: the stockout day is not scored, the others as recorded
    assert cv["ds"].dt.day.tolist() == [4, 6]
    assert cv["y"].tolist() == [2.0, 4.0]
    # without actuals the training values (the imputed 2.0 on day 5) are scored
    cv, _ = cross_validation(constant, train, h=3, n_windows=1, freq="D")
    assert cv["y"].tolist() == [2.0, 2.0, 4.0]


def test_the_sample_moves_only_the_series_that_change_class():
    from ml.train import stratified_sample

    ids = [f"ITM-{i:05d}|DEP-A" for i in range(1000)]
    classes = pd.DataFrame(
        {"unique_id": ids, "demand_class": ["smooth" if i % 3 else "lumpy" for i in range(1000)]}
    )
    before = set(stratified_sample(classes, 50))
    assert len(before) == 100
    # late postings move two series from lumpy to smooth
    moved = classes["unique_id"].isin([ids[0], ids[3]])
    after_classes = classes.assign(demand_class=classes["demand_class"].mask(moved, "smooth"))
    after = set(stratified_sample(after_classes, 50))
    assert len(after) == 100
    # at most the two moved series and the two that took or left their places differ
    assert len(before - after) <= 2
    assert stratified_sample(classes, 50) == stratified_sample(classes, 50)
    assert set(stratified_sample(classes, 50, seed=1)) != before


def test_the_earliest_backtest_window_is_the_same_season_a_year_before() -> None:
    from ml.backtest import cutoffs

    days = pd.date_range("2024-10-31", "2026-08-01", freq="D")
    df = pd.DataFrame({"unique_id": "a", "ds": days, "y": 1.0})
    recent = cutoffs(df, 90, 2, None, "D")
    assert recent == [pd.Timestamp("2026-02-02"), pd.Timestamp("2026-05-03")]
    # the window after 2025-08-02 covers 2025-08-03 .. 10-31: the dates of the horizon
    # after 2026-08-01, a year (52 weeks) earlier
    aligned = cutoffs(df, 90, 2, None, "D", season=364)
    assert aligned == [pd.Timestamp("2025-08-02"), pd.Timestamp("2026-05-03")]
    assert cutoffs(df, 90, 3, None, "D", season=364) == [
        pd.Timestamp("2025-08-02"),
        pd.Timestamp("2026-02-02"),
        pd.Timestamp("2026-05-03"),
    ]
    # without a horizon of history before that origin, the recent windows stay
    short = df[df["ds"] >= pd.Timestamp("2025-06-01")]
    assert cutoffs(short, 90, 2, None, "D", season=364) == recent
    assert cutoffs(df, 90, 1, None, "D", season=364) == recent[1:]
