"""Daily forecast step speed: the champion forecasts every item x depot of the lake.

Run after `make demo` (or point NOVA_LAKE_ROOT / NOVA_WAREHOUSE_DIR at a lake with gold
demand and a champion trained by `nova train`). Times each part of the daily `forecast`
step as it runs it (loading the champion, reading the history from gold, forecasting from
the fitted state, building the output table, writing it, the lead-time quantiles), prints
series/s per model, and with ``--refit`` the same forecast refitting every series (the
path before the state work) and the largest difference between the two. Target: the
forecast step at most 12 s (default demo, idle 2 cores, fresh process).

    uv run --no-sync python benchmarks/forecast_speed.py [--refit] [--date 2026-10-31]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date

TARGET_SECONDS = 12.0


def main() -> None:
    began = time.perf_counter()
    parser = argparse.ArgumentParser()
    parser.add_argument("--refit", action="store_true", help="also time a full refit")
    parser.add_argument("--date", help="run date (default: gold's last day)")
    args = parser.parse_args()

    from deltalake import write_deltalake
    from rich.console import Console
    from rich.table import Table

    from backend.pipeline.forecast import _load_history, to_table, with_pairs
    from backend.settings import get_settings
    from ml import lead_time_reorder, registry
    from ml.classify import CLASSES

    console = Console()
    settings = get_settings()
    parts: dict[str, float] = {}
    # CPU seconds per part too (all threads of the process): on a shared machine the wall
    # time swings with the load, the CPU time much less
    cpu: dict[str, float] = {}
    mark = time.perf_counter()
    cpu_mark = time.process_time()
    parts["imports"] = mark - began
    cpu["imports"] = cpu_mark

    def lap(name: str) -> None:
        nonlocal mark, cpu_mark
        now, cpu_now = time.perf_counter(), time.process_time()
        parts[name] = now - mark
        cpu[name] = cpu_now - cpu_mark
        mark, cpu_mark = now, cpu_now

    remote = settings.mlflow_uri.startswith(("http://", "https://"))
    registry.configure(settings.mlflow_uri, None if remote else settings.mlflow_artifact_dir)
    model, version = registry.load(registry.CHAMPION)
    lap("load champion")
    if args.date:
        run_date = date.fromisoformat(args.date)
    else:
        from ml.data import load_gold_demand

        run_date = load_gold_demand(settings, days=1)["ds"].max().date()
        mark, cpu_mark = time.perf_counter(), time.process_time()
    history = _load_history(settings, run_date)
    lap("read history")
    h = settings.forecast_horizon
    fc = model.predict(
        history[["unique_id", "ds", "y"]],
        h,
        n_jobs=settings.forecast_jobs,
        state_max_age_days=settings.forecast_state_max_age_days,
    )
    lap("forecast (from state)")
    table = to_table(with_pairs(fc, history), run_date, version)
    lap("output table")
    with tempfile.TemporaryDirectory() as tmp:
        write_deltalake(tmp, table, mode="overwrite", partition_by=["forecast_date"])
    lap("write forecasts (temp Delta)")
    quantile_pairs = table.select(["item_id", "depot_id", "demand_class"]).to_pandas()
    lead_time_reorder.compute(settings, quantile_pairs, run_date, history)
    lap("lead-time quantiles")
    step_seconds = sum(parts.values())
    n = fc["unique_id"].nunique()
    console.print(
        f"champion v{version}: {n:,} series x {h} days, {settings.forecast_jobs} workers; "
        f"state fitted on {getattr(model, 'state_date', None)}, used: "
        f"{getattr(model, 'last_state_used_', False)}, series fitted for lack of state: "
        f"{getattr(model, 'last_refitted_', {})}"
    )
    counts = fc.drop_duplicates("unique_id")["demand_class"].value_counts().to_dict()
    split = Table("class", "series", "models (weight)", title="Models per demand class")
    for c in CLASSES:
        w = model.weights.get(c, model.weights["all"])
        split.add_row(c, f"{counts.get(c, 0):,}", ", ".join(f"{k} {v:.2f}" for k, v in w.items()))
    console.print(split)
    per_model = Table("model", "series", "seconds", "series/s", title="Per model (from state)")
    for alias, secs in sorted(model.last_seconds_.items(), key=lambda kv: -kv[1]):
        runs = sum(counts.get(c, 0) for c in CLASSES if alias in model.active_members(c))
        per_model.add_row(alias, f"{runs:,}", f"{secs:.2f}", f"{runs / secs:,.0f}" if secs else "-")
    console.print(per_model)
    inside = getattr(model, "last_parts_", {})
    console.print("forecast, inside: " + ", ".join(f"{k} {v:.2f}s" for k, v in inside.items()))
    steps = Table(
        "part", "seconds", "cpu seconds", title="Forecast step, part by part (fresh process)"
    )
    for name, secs in parts.items():
        steps.add_row(name, f"{secs:.2f}", f"{cpu[name]:.2f}")
    steps.add_row("total", f"{step_seconds:.2f}", f"{sum(cpu.values()):.2f}")
    console.print(steps)
    forecast_s = parts["forecast (from state)"]
    console.print(f"forecast from state: {n / forecast_s:,.0f} series/s ({forecast_s:.2f}s)")
    if args.refit:
        t = time.perf_counter()
        full = model.predict(
            history[["unique_id", "ds", "y"]], h, n_jobs=settings.forecast_jobs, use_state=False
        )
        refit_s = time.perf_counter() - t
        diff = (full["yhat"] - fc["yhat"]).abs()
        console.print(
            f"full refit: {n / refit_s:,.0f} series/s ({refit_s:.2f}s); largest |yhat "
            f"difference| state vs refit {diff.max():.3g} (mean yhat {full['yhat'].mean():.3g})"
        )
    if model.last_failures_:
        console.print(f"fallback used: {model.last_failures_}")
    for error in getattr(model, "last_errors_", []):
        console.print(f"model error: {error}")
    status = "met" if step_seconds <= TARGET_SECONDS else "not met"
    console.print(
        f"targets: {status}: forecast step {step_seconds:.1f}s (target <= {TARGET_SECONDS:.0f} s)"
    )


if __name__ == "__main__":
    main()
