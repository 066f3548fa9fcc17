"""`nova train`: backtest the candidates on gold daily demand, log everything to MLflow,
register the ensemble and promote it to champion only if it beats the current one.

To keep training to a few minutes on the default demo, the backtest runs on a sample of
series stratified by demand class (``train_sample_per_class`` each) and the expensive
models run only where they can earn their place (ETS on smooth and erratic series,
Prophet on smooth ones). Challenger and champion are compared on the same evaluation
window: the last ``h`` days, which the challenger's weights never saw.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from backend.settings import Settings
    from ml.data import Censored
    from ml.ensemble import Method
    from ml.model import DemandForecaster, TrainResult

Log = Callable[[str], None]

# Ensemble weights for daily demand (issue 18): the mean-RMSSE optimum (least squares gave
# the same error and a larger bias on the evaluation window), each class's weights pulled
# towards the pooled weights with this many pseudo-series.
WEIGHTS_METHOD: Method = "rmsse"
WEIGHT_SHRINK = 50.0
# members below this weight in a class are dropped there (their daily cost buys nothing)
MIN_WEIGHT = 0.01
# the earliest backtest window is the one a year (364 days: whole weeks) before the
# horizon, so weights and bias factors are learnt on the season they will forecast
BACKTEST_SEASON = 364
# the evaluation table's rows for the ensemble without its corrections: neither the
# per-class bias factor nor the rare series' floor, and without the floor only
UNCORRECTED = "Ensemble (no bias correction)"
NO_FLOOR = "Ensemble (no rare-series floor)"


def daily_candidates(n_jobs: int) -> tuple[list[Any], dict[str, Sequence[str]]]:
    """Candidates for daily item x depot demand and the models each class runs."""
    from ml.model import cheap_candidates
    from ml.models.gbm import LightGBMGlobal
    from ml.models.level import LevelSeason
    from ml.models.prophet import Prophet
    from ml.models.statistical import AutoETS

    # daily series: weekly season, a 4-week window; LightGBM capped for the training budget
    gbm = LightGBMGlobal(n_jobs=n_jobs, max_train_rows=400_000, num_boost_round=150)
    cheap: list[Any] = cheap_candidates(7, window=28, gbm=gbm)
    # level followers (issue 18): a 13-week level moved by season and growth, a year's
    # level moved by season
    cheap += [
        LevelSeason(window=91, alias="LevelSeason91"),
        LevelSeason(window=364, max_growth=0.0, alias="LevelSeason364"),
    ]
    expensive = [AutoETS(1), Prophet(n_jobs=n_jobs)]
    names = [m.alias for m in cheap]
    sets: dict[str, Sequence[str]] = {
        "smooth": [*names, "ETS", "Prophet"],
        "erratic": [*names, "ETS"],
        "intermittent": names,
        "lumpy": names,
    }
    return [*cheap, *expensive], sets


def scored_demand(df: pd.DataFrame) -> pd.DataFrame:
    """``unique_id, ds, y`` to score forecasts against: ``y`` as recorded, NaN on the
    stockout days (``stock_state`` = ``out``) whose demand is unknown."""
    recorded = df["y_recorded"] if "y_recorded" in df else df["y"]
    out = df[["unique_id", "ds"]].assign(y=recorded.to_numpy(dtype=float))
    if "stock_state" in df:
        out.loc[(df["stock_state"] == "out").to_numpy(), "y"] = np.nan
    return out


def stratified_sample(classes: pd.DataFrame, per_class: int, seed: int = 0) -> list[str]:
    """``per_class`` series of each demand class: those whose hash of (seed, id) is
    smallest. A series is in or out by its own id, so data that moves a few series across
    classes (late ERP postings between two runs) moves only those few; a random draw over
    each class's list re-drew 152 of 400 series when 2 series changed class."""
    import hashlib

    def key(uid: str) -> bytes:
        return hashlib.blake2b(f"{seed}:{uid}".encode(), digest_size=8).digest()

    picked: list[str] = []
    for _, part in classes.groupby("demand_class"):
        ids = sorted((str(u) for u in part["unique_id"]), key=key)
        picked += ids[:per_class]
    return sorted(picked)


def eval_score(forecasts: pd.DataFrame, actuals: pd.DataFrame, history: pd.DataFrame) -> float:
    """Mean RMSSE over series of ``yhat`` against the actuals (scales from ``history``)."""
    from ml.model import series_scales

    data = forecasts.merge(actuals, on=["unique_id", "ds"]).merge(
        series_scales(history), on="unique_id"
    )
    err = (data["yhat"] - data["y"]) ** 2
    per = err.groupby(data["unique_id"]).mean() / data.groupby("unique_id")["scale_mse"].first()
    per = (per**0.5).replace([np.inf], np.nan).dropna()
    return float(per.mean())


def evaluation_tables(
    wide: pd.DataFrame,
    ensemble: pd.DataFrame,
    actuals: pd.DataFrame,
    history: pd.DataFrame,
    classes: pd.DataFrame,
    aliases: Sequence[str],
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Model x class scores (RMSSE, MASE, bias, the ensemble's coverage, series) of every
    candidate and the ensemble on the evaluation window, and the ensemble's bias and RMSSE
    by horizon week and lifecycle stage (each series' stage read on ``history``)."""
    from ml.backtest import class_scores, series_scores
    from ml.diagnose import grouped_scores, horizon_week, lifecycle
    from ml.model import ENSEMBLE, series_scales

    cut = history["ds"].max()
    bands = {f"yhat_{b}_{lv}": f"{ENSEMBLE}-{b}-{lv}" for b in ("lo", "hi") for lv in (80, 95)}
    frame = wide.merge(
        ensemble[["unique_id", "ds", "step", "yhat", *bands]].rename(
            columns={"yhat": ENSEMBLE, **bands}
        ),
        on=["unique_id", "ds"],
    ).merge(actuals[["unique_id", "ds", "y"]], on=["unique_id", "ds"])
    frame.insert(1, "cutoff", cut)
    scales = series_scales(history).assign(cutoff=cut)
    models = [a for a in aliases if a in frame]
    # a member not run on a class (Prophet outside smooth) is scored where it ran only
    per_series = series_scores(frame, scales, [*models, ENSEMBLE], (80, 95))
    ran = frame.groupby("unique_id")[models].apply(lambda g: g.notna().all())
    ran = ran.reset_index().melt("unique_id", var_name="model", value_name="ran")
    per_series = per_series.merge(ran, on=["unique_id", "model"], how="left")
    per_series = per_series[per_series["ran"].ne(False)].drop(columns="ran")
    table = class_scores(per_series, classes)
    frame["week"] = horizon_week(frame["step"].to_numpy())
    groups = classes.merge(lifecycle(history), on="unique_id")
    diagnosis = {
        by: grouped_scores(frame, scales, groups, [ENSEMBLE], by) for by in ("week", "stage")
    }
    return table, diagnosis


@dataclass
class TrainSummary:
    run_id: str
    version: str
    challenger_score: float
    champion_version: str | None
    champion_score: float | None
    promoted: bool
    by_class: pd.DataFrame
    weights: dict[str, dict[str, float]]
    seconds: dict[str, float] = field(default_factory=dict)
    # every candidate and the ensemble on the evaluation window (same columns as by_class)
    evaluation: pd.DataFrame | None = None
    # the ensemble's scores on the evaluation window by horizon week and lifecycle stage
    diagnosis: dict[str, pd.DataFrame] = field(default_factory=dict)
    bias: dict[str, float] = field(default_factory=dict)
    rate_ratios: dict[str, float] = field(default_factory=dict)

    def tables(self) -> dict[str, Any]:
        """The backtest and evaluation tables as JSON-ready records (``nova train --json``)."""

        def records(frame: pd.DataFrame | None) -> list[dict[str, Any]]:
            if frame is None:
                return []
            return [{str(k): _plain(v) for k, v in r.items()} for r in frame.to_dict("records")]

        return {
            "run_id": self.run_id,
            "version": self.version,
            "challenger_rmsse": self.challenger_score,
            "champion_version": self.champion_version,
            "champion_rmsse": self.champion_score,
            "promoted": self.promoted,
            "weights": self.weights,
            "bias_correction": self.bias,
            "rate_ratios": self.rate_ratios,
            "backtest": records(self.by_class),
            "evaluation": records(self.evaluation),
            **{f"evaluation_by_{k}": records(v) for k, v in self.diagnosis.items()},
            "seconds": self.seconds,
        }


def _plain(value: Any) -> Any:
    """numpy scalars to Python ones and NaN to null (json cannot write them)."""
    value = value.item() if isinstance(value, np.generic) else value
    return None if isinstance(value, float) and not np.isfinite(value) else value


def train(
    settings: Settings,
    *,
    run_date: date | None = None,
    log: Log = print,
    df: pd.DataFrame | None = None,
    censored: Censored = "impute",
    rate_floor: bool = True,
) -> TrainSummary:
    """Backtest, weigh, evaluate and register the daily ensemble.

    ``censored`` (issue 14 item 3): ``impute`` (default) trains and forecasts on gold
    demand with each stockout day's recorded 0 replaced by the pair's recent rate on days
    with stock (as the daily run forecasts from), and scores every window without the
    stockout days (their demand is unknown: a 0 there is the stock's, not the demand's,
    and an imputed value would score the imputation); ``keep`` uses demand as recorded.
    A ``df`` given by the caller is used as it is (``stock_state`` = ``out`` rows, if
    present, are left out of the scores). ``rate_floor``: learn and apply the rare
    series' floor (``ml.ensemble.count_ratios``; off: the code before issue 18's fix).
    """
    import time

    import mlflow

    from ml import registry, tracking
    from ml.classify import classify
    from ml.data import load_gold_demand
    from ml.forecaster import Forecaster
    from ml.model import train_ensemble

    timings: dict[str, float] = {}
    began = time.perf_counter()
    h = settings.forecast_horizon
    gold_read: tuple[dict[str, tracking.GoldRead], dict[str, tracking.GoldRead]] | None = None
    if df is None:
        before = tracking.gold_versions(settings, ["fct_daily_demand"])
        end = run_date.isoformat() if run_date else None
        try:
            df = load_gold_demand(
                settings, end=end, days=settings.forecast_history_days, censored=censored
            )
        except FileNotFoundError:  # a lake built before fct_stockout_days: as recorded
            df = load_gold_demand(settings, end=end, days=settings.forecast_history_days)
        gold_read = (before, tracking.gold_versions(settings, ["fct_daily_demand"]))
    truth = scored_demand(df)
    df = df[["unique_id", "ds", "y"]]
    classes = classify(df)
    population = {str(k): int(v) for k, v in classes["demand_class"].value_counts().items()}
    sample = stratified_sample(classes, settings.train_sample_per_class)
    data = df[df["unique_id"].isin(sample)]
    scored = truth[truth["unique_id"].isin(sample)]
    last = data["ds"].max()
    cut = last - np.timedelta64(h, "D")
    history = data[data["ds"] <= cut]
    actuals = scored[(scored["ds"] > cut) & scored["y"].notna()]
    timings["load"] = time.perf_counter() - began
    log(
        f"{df['unique_id'].nunique():,} series ({population}); backtest on {len(sample):,} "
        f"sampled, {settings.train_windows} windows of {h} days, evaluation window after {cut:%Y-%m-%d}"
    )

    # rare series' regression to the mean, learnt on every series at the backtest's
    # origins (the evaluation window unseen)
    from ml.backtest import cutoffs
    from ml.ensemble import count_ratios

    before_eval = df[df["ds"] <= cut]
    origins = cutoffs(before_eval, h, settings.train_windows, None, "D", BACKTEST_SEASON)
    log(f"backtest windows from {', '.join(f'{o:%Y-%m-%d}' for o in origins)}")
    ratios = count_ratios(before_eval, truth[truth["ds"] <= cut], origins, h) if rate_floor else {}
    log(f"rare-series ratios (demand days in a year: ratio): {ratios}")

    candidates, sets = daily_candidates(settings.forecast_jobs)
    step = time.perf_counter()
    result = train_ensemble(
        history,
        freq="D",
        h=h,
        candidates=candidates,
        n_windows=settings.train_windows,
        n_jobs=settings.forecast_jobs,
        model_sets=sets,
        budget_seconds=settings.forecast_budget_seconds,
        population=population,
        method=WEIGHTS_METHOD,
        shrink=WEIGHT_SHRINK,
        bias_correction=True,
        actuals=scored[scored["ds"] <= cut],
        rate_ratios=ratios,
        min_weight=MIN_WEIGHT,
        season=BACKTEST_SEASON,
    )
    timings["backtest"] = time.perf_counter() - step
    model = result.model
    log(
        f"backtest done in {timings['backtest']:.0f}s; dropped for the time budget: "
        f"{model.info['dropped_for_budget']}"
    )

    step = time.perf_counter()
    # Every candidate forecasts the evaluation window once; the challenger is assembled
    # from the same member forecasts, so the table compares like with like.
    eval_classes = classify(history)
    wide = Forecaster(candidates, "D", n_jobs=settings.forecast_jobs, model_sets=sets).forecast(
        history, h, classes=eval_classes
    )
    challenger_fc = model.assemble(wide, history, h, eval_classes)
    challenger_score = eval_score(challenger_fc, actuals, history)
    # the same ensemble without its bias correction, to check the correction out of sample
    raw = replace(model, bias={}, rate_ratios={}).assemble(wide, history, h, eval_classes)
    no_floor = replace(model, rate_ratios={}).assemble(wide, history, h, eval_classes)
    wide[UNCORRECTED] = raw["yhat"].to_numpy()
    wide[NO_FLOOR] = no_floor["yhat"].to_numpy()
    evaluation, diagnosis = evaluation_tables(
        wide,
        challenger_fc,
        actuals,
        history,
        eval_classes,
        [*(m.alias for m in candidates), UNCORRECTED, NO_FLOOR],
    )
    timings["evaluate"] = time.perf_counter() - step
    # The global model was just trained on the latest sampled history: the daily run
    # reuses that booster and only predicts.
    for m in model.models:
        if getattr(m, "trained_once", False):
            m.frozen = True
    # Hook of the state work (issue 17): each series' fitted state of the members that
    # keep one (AutoETS), on the whole population, stored with the registered model so
    # the daily forecast runs the recursions without re-optimising.
    step = time.perf_counter()
    fitted_state = model.fit_state(
        df,
        n_jobs=settings.forecast_jobs,
        classes=classes,
        max_age_days=settings.forecast_state_max_age_days,
    )
    timings["state"] = time.perf_counter() - step
    log(f"per-series state fitted in {timings['state']:.0f}s: {fitted_state}")

    # A tracking server keeps artifacts where it is configured to (the stack: the S3 store,
    # through the server); the local artifact directory is for the local store only.
    remote = settings.mlflow_uri.startswith(("http://", "https://"))
    artifact_root = None if remote else settings.mlflow_artifact_dir
    registry.configure(settings.mlflow_uri, artifact_root)
    experiment_id = registry.experiment(settings.mlflow_experiment, artifact_root)
    champion_version = registry.champion_version()
    champion_score: float | None = None
    champion: DemandForecaster | None = None
    if champion_version is not None:
        try:
            champion, _ = registry.load(registry.CHAMPION)
            champion_fc = champion.predict(history, h, n_jobs=settings.forecast_jobs)
            champion_score = eval_score(champion_fc, actuals, history)
        except Exception as exc:  # a champion that cannot run is beaten by any that can
            log(f"current champion v{champion_version} could not be scored: {exc}")
    promoted = registry.should_promote(challenger_score, champion_score)

    with mlflow.start_run(experiment_id=experiment_id) as run:
        _log_run(result, settings, len(sample), h, population)
        mlflow.log_metric("eval.rmsse.challenger", challenger_score)
        mlflow.log_text(evaluation.to_string(index=False), "evaluation_by_class.txt")
        mlflow.log_dict(dict(model.bias), "bias_correction.json")
        mlflow.log_dict(dict(model.rate_ratios), "rate_ratios.json")
        if champion_score is not None:
            mlflow.log_metric("eval.rmsse.champion", champion_score)
        if gold_read is not None:
            tracking.log_gold_inputs(df, *gold_read)
        _log_plots(result, history, actuals, challenger_fc)
        tracking.log_residual_plots(challenger_fc, actuals)
        version = registry.register(
            model, run_id=run.info.run_id, input_example=registry.history_example(history)
        )
        decision = registry.Decision(
            version, challenger_score, champion_version, champion_score, promoted
        )
        mlflow.log_params(decision.as_params())
        mlflow.set_tag(
            "decision",
            (
                f"challenger v{version} RMSSE {challenger_score:.4f} vs champion "
                f"{'v' + champion_version if champion_version else 'none'} "
                f"{'' if champion_score is None else f'{champion_score:.4f}'}: "
                f"{'promoted' if promoted else 'kept the champion'}"
            ),
        )
        if promoted:
            registry.promote(version)
        timings["total"] = time.perf_counter() - began
        mlflow.log_metrics({f"seconds.{k}": v for k, v in timings.items()})
    return TrainSummary(
        run.info.run_id,
        version,
        challenger_score,
        champion_version,
        champion_score,
        promoted,
        result.by_class,
        model.weights,
        timings,
        evaluation,
        diagnosis,
        dict(model.bias),
        dict(model.rate_ratios),
    )


def _log_run(
    result: TrainResult, settings: Settings, n_sample: int, h: int, population: Mapping[str, int]
) -> None:
    import mlflow

    model = result.model
    params: dict[str, Any] = {
        "freq": model.freq,
        "horizon": h,
        "windows": settings.train_windows,
        "sample_per_class": settings.train_sample_per_class,
        "sample_series": n_sample,
        "history_days": settings.forecast_history_days,
        "weights_method": model.info["method"],
        "interval_scale": model.interval_scale,
        "budget_seconds": settings.forecast_budget_seconds,
        "candidates": ",".join(m.alias for m in model.models),
        "dropped_for_budget": ",".join(model.info["dropped_for_budget"]) or "none",
    }
    for c, n in population.items():
        params[f"series.{c}"] = n
    mlflow.log_params(params)
    metrics: dict[str, float] = {}
    for row in result.by_class.itertuples():
        for metric in ("rmsse", "mase", "bias", "cov80", "cov95"):
            value = getattr(row, metric, None)
            if value is not None and np.isfinite(value):
                metrics[f"{metric}.{row.model}.{row.demand_class}"] = float(value)
    for alias, count in result.failures.items():
        metrics[f"failures.{alias}"] = float(count)
    for alias, secs in result.seconds_per_series.items():
        metrics[f"seconds_per_series.{alias}"] = secs
    mlflow.log_metrics(metrics)
    mlflow.log_dict(model.weights, "weights.json")
    mlflow.log_dict(model.intervals, "intervals.json")
    mlflow.log_text(result.by_class.to_string(index=False), "backtest_by_class.txt")


def _log_plots(
    result: TrainResult, history: pd.DataFrame, actuals: pd.DataFrame, fc: pd.DataFrame
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import mlflow

    from ml.model import ENSEMBLE

    classes = result.classes
    # forecast vs actuals: two sample series per class on the evaluation window
    picks = classes.groupby("demand_class").head(2)
    fig, axes = plt.subplots(len(picks), 1, figsize=(10, 2.2 * len(picks)), squeeze=False)
    for ax, row in zip(axes[:, 0], picks.itertuples(), strict=False):
        hist = history[history["unique_id"] == row.unique_id].tail(120)
        act = actuals[actuals["unique_id"] == row.unique_id]
        f = fc[fc["unique_id"] == row.unique_id]
        ax.plot(hist["ds"], hist["y"], color="0.5", lw=0.8, label="history")
        ax.plot(act["ds"], act["y"], color="black", lw=0.8, label="actual")
        ax.plot(f["ds"], f["yhat"], color="tab:blue", label="forecast")
        ax.fill_between(f["ds"], f["yhat_lo_80"], f["yhat_hi_80"], alpha=0.3, label="80%")
        ax.set_title(f"{row.unique_id} ({row.demand_class})", fontsize=9)
    axes[0, 0].legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    mlflow.log_figure(fig, "plots/forecast_vs_actuals.png")
    plt.close(fig)

    by = result.by_class[result.by_class["demand_class"] != "all"]
    pivot = by.pivot_table(index="model", columns="demand_class", values="rmsse")
    fig, ax = plt.subplots(figsize=(10, 4))
    pivot.plot.bar(ax=ax)
    ax.set_ylabel("backtest RMSSE")
    ax.set_title("error by model and demand class")
    fig.tight_layout()
    mlflow.log_figure(fig, "plots/error_by_class.png")
    plt.close(fig)

    ens = by[by["model"] == ENSEMBLE].set_index("demand_class")
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ens[["cov80", "cov95"]].plot.bar(ax=ax)
    ax.axhline(0.80, color="tab:blue", ls="--", lw=0.8)
    ax.axhline(0.95, color="tab:orange", ls="--", lw=0.8)
    ax.set_ylim(0, 1)
    ax.set_title("ensemble interval coverage (backtest)")
    fig.tight_layout()
    mlflow.log_figure(fig, "plots/coverage.png")
    plt.close(fig)
