"""Where the daily forecasts are biased (issue 18's diagnosis), on the demo lake's gold demand.

Samples series per demand class, backtests every daily candidate on the history before
the evaluation window (as `nova train` does), forecasts the evaluation window once, and
prints bias and RMSSE per model by demand class, horizon week and lifecycle stage, for
the backtest and for the evaluation window. ``--save DIR`` keeps the frames (parquet)
for offline study of weights and bias corrections.

    uv run --no-sync python benchmarks/forecast_bias.py --date 2026-10-30 [--per-class 50]
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path


def main() -> None:
    import numpy as np
    import pandas as pd

    from backend.settings import get_settings
    from ml.backtest import cross_validation
    from ml.classify import classify
    from ml.data import load_gold_demand
    from ml.diagnose import grouped_scores, horizon_week, lifecycle
    from ml.forecaster import Forecaster
    from ml.model import series_scales
    from ml.train import daily_candidates, scored_demand, stratified_sample

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--date", type=date.fromisoformat, default=None)
    parser.add_argument("--per-class", type=int, default=50)
    parser.add_argument("--windows", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--skip", default="", help="comma-separated aliases to leave out")
    parser.add_argument("--save", type=Path, default=None)
    args = parser.parse_args()
    settings = get_settings()
    h = settings.forecast_horizon
    began = time.perf_counter()
    # as nova train reads it: stockout days imputed for the models, left out of the scores
    loaded = load_gold_demand(
        settings,
        end=args.date.isoformat() if args.date else None,
        days=settings.forecast_history_days,
        censored="impute",
    )
    truth = scored_demand(loaded)
    df = loaded[["unique_id", "ds", "y"]]
    classes = classify(df)
    sample = stratified_sample(classes, args.per_class)
    data = df[df["unique_id"].isin(sample)]
    scored = truth[truth["unique_id"].isin(sample) & truth["y"].notna()]
    cut = data["ds"].max() - np.timedelta64(h, "D")
    history = data[data["ds"] <= cut]
    actuals = scored[scored["ds"] > cut]
    hist_classes = classify(history)
    stages = lifecycle(history)
    print(
        f"{len(sample)} series sampled ({args.per_class} per class), evaluation after "
        f"{cut:%Y-%m-%d}; stages: {stages['stage'].value_counts().to_dict()}"
    )
    skip = {s for s in args.skip.split(",") if s}
    candidates, sets = daily_candidates(args.jobs)
    candidates = [m for m in candidates if m.alias not in skip]
    sets = {c: [a for a in v if a not in skip] for c, v in sets.items()}
    fc = Forecaster(candidates, "D", n_jobs=args.jobs, model_sets=sets)
    aliases = fc.aliases

    def run(train: pd.DataFrame, horizon: int) -> pd.DataFrame:
        return fc.forecast(train, horizon, classes=hist_classes)

    cv, scales = cross_validation(
        run,
        history,
        h=h,
        n_windows=args.windows,
        freq="D",
        actuals=scored[scored["ds"] <= cut],
    )
    print(f"backtest {time.perf_counter() - began:.0f}s; seconds per model: "
          + ", ".join(f"{k} {v:.1f}" for k, v in fc.seconds_.items()))  # fmt: skip
    wide = fc.forecast(history, h, classes=hist_classes)
    wide["step"] = wide.groupby("unique_id").cumcount() + 1
    ev = wide.merge(actuals, on=["unique_id", "ds"])
    ev.insert(1, "cutoff", cut)
    ev_scales = series_scales(history).assign(cutoff=cut)
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
        cv.to_parquet(args.save / "cv.parquet")
        scales.to_parquet(args.save / "scales.parquet")
        ev.to_parquet(args.save / "eval.parquet")
        ev_scales.to_parquet(args.save / "eval_scales.parquet")
        hist_classes.to_parquet(args.save / "classes.parquet")
        stages.to_parquet(args.save / "stages.parquet")
    groups = hist_classes.merge(stages, on="unique_id")
    pd.set_option("display.width", 200)
    for name, frame, sc in (("backtest", cv, scales), ("evaluation", ev, ev_scales)):
        frame = frame.fillna({a: 0.0 for a in aliases})
        frame["week"] = horizon_week(frame["step"].to_numpy())
        for by in ("demand_class", "week", "stage"):
            table = grouped_scores(frame, sc, groups, aliases, by)
            print(f"\n{name}: bias by {by}")
            print(table.pivot_table(index="model", columns=by, values="bias").round(3))
            print(f"{name}: RMSSE by {by}")
            print(table.pivot_table(index="model", columns=by, values="rmsse").round(3))
    print(f"\ntotal {time.perf_counter() - began:.0f}s")


if __name__ == "__main__":
    main()
