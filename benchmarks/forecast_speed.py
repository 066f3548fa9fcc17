"""Daily inference speed: the champion forecasts every item x depot of the lake.

Run after `make demo` (or point NOVA_LAKE_ROOT / NOVA_WAREHOUSE_DIR at a lake with gold
demand and a champion model). Times loading the champion, reading the history and
forecasting all series (horizon from settings, default 90 days), and prints series/s per
model with the split of models per demand class that training chose. Target: < 180 s on
2 cores.

    uv run --no-sync python benchmarks/forecast_speed.py
"""

from __future__ import annotations

import time


def main() -> None:
    from rich.console import Console
    from rich.table import Table

    from backend.settings import get_settings
    from ml import registry
    from ml.classify import CLASSES
    from ml.data import load_gold_demand

    console = Console()
    settings = get_settings()
    began = time.perf_counter()
    # the local store is the only place a model may be loaded from (as the daily run does)
    remote = settings.mlflow_uri.startswith(("http://", "https://"))
    registry.configure(settings.mlflow_uri, None if remote else settings.mlflow_artifact_dir)
    model, version = registry.load(registry.CHAMPION)
    loaded = time.perf_counter()
    history = load_gold_demand(settings, days=settings.forecast_history_days)
    read = time.perf_counter()
    h = settings.forecast_horizon
    fc = model.predict(history[["unique_id", "ds", "y"]], h, n_jobs=settings.forecast_jobs)
    done = time.perf_counter()
    n = fc["unique_id"].nunique()
    console.print(f"champion v{version}: {n:,} series x {h} days, {settings.forecast_jobs} workers")
    counts = fc.drop_duplicates("unique_id")["demand_class"].value_counts().to_dict()
    split = Table("class", "series", "models (weight)", title="Models per demand class")
    for c in CLASSES:
        w = model.weights.get(c, model.weights["all"])
        split.add_row(c, f"{counts.get(c, 0):,}", ", ".join(f"{k} {v:.2f}" for k, v in w.items()))
    console.print(split)
    per_model = Table(
        "model", "series", "seconds (CPU, all workers)", "series/s", title="Per model"
    )
    runs = {
        a: sum(counts.get(c, 0) for c in CLASSES if a in model.weights.get(c, model.weights["all"]))
        for a in model.last_seconds_
    }
    for alias, secs in sorted(model.last_seconds_.items(), key=lambda kv: -kv[1]):
        per_model.add_row(
            alias, f"{runs[alias]:,}", f"{secs:.1f}", f"{runs[alias] / secs:,.0f}" if secs else "-"
        )
    console.print(per_model)
    dropped = model.info.get("dropped_for_budget") or []
    console.print(f"left out by training for the time budget: {dropped or 'nothing'}")
    total = done - began
    console.print(
        f"load champion {loaded - began:.1f}s, read history {read - loaded:.1f}s, "
        f"forecast {done - read:.1f}s ({n / (done - read):,.0f} series/s); "
        f"total {total:.1f}s (target < 180 s): {'met' if total < 180 else 'NOT met'}"
    )
    if model.last_failures_:
        console.print(f"fallback used: {model.last_failures_}")


if __name__ == "__main__":
    main()
