"""Accuracy of the ensemble on real spare-parts demand (carparts, monthly).

The last 6 months are held out. Everything the ensemble learns (weights per demand class,
conformal intervals) comes from a rolling-origin backtest on the months before the
hold-out; the hold-out is used once, to score. Prints RMSSE and MASE of the ensemble and
of every single model, overall and per demand class, and the 80%/95% coverage.

    uv run --no-sync python benchmarks/forecast_accuracy.py [--data PATH] [--windows N]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "carparts" / "carparts.csv.gz"
H = 6


def main() -> None:
    import pandas as pd
    from rich.console import Console
    from rich.table import Table

    from ml.backtest import class_scores, series_scores
    from ml.data import load_carparts
    from ml.metrics import naive_scales
    from ml.model import BASELINES, ENSEMBLE, default_candidates, train_ensemble

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--windows", type=int, default=4)
    parser.add_argument("--step", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--method", default="rmsse")
    parser.add_argument("--no-expensive", action="store_true")
    parser.add_argument("--series", type=int, default=0, help="first N series only (0: all)")
    args = parser.parse_args()
    console = Console()

    df = load_carparts(args.data)
    if args.series:
        df = df[df["unique_id"].isin(sorted(df["unique_id"].unique())[: args.series])]
    last = df["ds"].max()
    cut = last - pd.DateOffset(months=H)
    train, test = df[df["ds"] <= cut], df[df["ds"] > cut]
    console.print(
        f"carparts: {df['unique_id'].nunique():,} complete series, train to {cut:%Y-%m}, "
        f"hold-out {H} months; backtest {args.windows} windows every {args.step} months"
    )
    candidates = default_candidates("M", n_jobs=args.jobs, expensive=not args.no_expensive)
    began = time.perf_counter()
    result = train_ensemble(
        train,
        freq="M",
        h=H,
        candidates=candidates,
        n_windows=args.windows,
        step=args.step,
        n_jobs=args.jobs,
        method=args.method,  # type: ignore[arg-type]
    )
    trained = time.perf_counter() - began
    console.print(f"backtest + weights + intervals: {trained:.0f}s; failures: {result.failures}")
    for name, w in result.model.weights.items():
        console.print(f"  weights {name}: " + ", ".join(f"{k} {v:.2f}" for k, v in w.items()))

    # Hold-out: every single model and the ensemble, forecast from the training months.
    from ml.forecaster import Forecaster

    fc = Forecaster(candidates, "M", n_jobs=args.jobs)
    wide = fc.forecast(train, H)
    ens = result.model.predict(train, H, n_jobs=args.jobs, classes=result.classes)
    wide = wide.merge(
        ens[["unique_id", "ds", "yhat", "yhat_lo_80", "yhat_hi_80", "yhat_lo_95", "yhat_hi_95"]],
        on=["unique_id", "ds"],
    ).rename(
        columns={
            "yhat": ENSEMBLE,
            **{f"yhat_{b}_{lv}": f"{ENSEMBLE}-{b}-{lv}" for b in ("lo", "hi") for lv in (80, 95)},
        }
    )
    cv = wide.merge(test, on=["unique_id", "ds"])
    cv["cutoff"] = cut
    g = train.groupby("unique_id")["y"]
    sc = g.agg(lambda s: naive_scales(s.to_numpy()))
    scales = pd.DataFrame(
        {
            "unique_id": sc.index,
            "cutoff": cut,
            "scale_mse": [v[0] for v in sc],
            "scale_mae": [v[1] for v in sc],
        }
    )
    aliases = [*fc.aliases, ENSEMBLE]
    per_series = series_scores(cv, scales, aliases, (80, 95))
    scores = class_scores(per_series, result.classes)
    overall = scores[scores["demand_class"] == "all"].set_index("model").loc[aliases]
    table = Table("model", "RMSSE", "MASE", "bias", "cov80", "cov95", title="hold-out, all series")
    for model, row in overall.sort_values("rmsse").iterrows():
        table.add_row(
            str(model),
            f"{row['rmsse']:.4f}",
            f"{row['mase']:.4f}",
            f"{row['bias']:+.3f}",
            f"{row.get('cov80', float('nan')):.3f}",
            f"{row.get('cov95', float('nan')):.3f}",
        )
    console.print(table)
    by_class = scores.pivot_table(index="model", columns="demand_class", values="rmsse")
    console.print(
        "RMSSE by demand class (series: "
        + ", ".join(f"{k} {v}" for k, v in result.classes["demand_class"].value_counts().items())
        + ")"
    )
    console.print(by_class.loc[aliases].round(4).to_string())
    singles = overall.drop(index=ENSEMBLE)
    best = singles["rmsse"].idxmin()
    ens_row = overall.loc[ENSEMBLE]
    baselines = singles.loc[[b for b in BASELINES if b in singles.index], "rmsse"]
    console.print(
        f"\nensemble RMSSE {ens_row['rmsse']:.4f} (bias {ens_row['bias']:+.3f}) vs best single "
        f"model {best} {singles.loc[best, 'rmsse']:.4f} (bias {singles.loc[best, 'bias']:+.3f}) "
        f"-> {'beats' if ens_row['rmsse'] < singles.loc[best, 'rmsse'] else 'does NOT beat'} it; "
        f"best naive baseline {baselines.idxmin()} {baselines.min():.4f}"
    )
    console.print(
        f"coverage: 80% -> {ens_row['cov80']:.3f}, 95% -> {ens_row['cov95']:.3f} "
        f"(target within 0.05 of nominal)"
    )
    console.print(f"failures (fallback used) on the hold-out run: {dict(fc.failures_)}")
    console.print(f"total {time.perf_counter() - began:.0f}s")


if __name__ == "__main__":
    main()
