"""Benchmark of the forecast step's two engines (NOVA_FORECAST_ENGINE): series per second
of the in-process engine and of Spark (local session), at 1x and 10x the lake's series.

Runs on a built lake with a champion (the default demo after `nova train`), given by the
usual NOVA_* variables. For each scale k it writes, in a temporary lake, a gold
``fct_daily_demand`` holding the lake's forecast history (``forecast_history_days`` up to
``--date``) k times: copy r of every series gets the item id ``<item>~r`` (synthetic
series, the demo's demand replicated with new ids; each copy gets its source series' fitted
state, as a weekly training on that population would give it). Then it times, on that
lake, with the registry's champion:

  - in-process: ``load_gold_demand`` + ``model.predict`` (``forecast_jobs`` processes) +
    ``to_table`` + ``write_forecasts``, as ``run_forecast`` does;
  - Spark: ``demand_history`` + ``forecast_to_delta`` on the local session (its start is
    timed apart), phases printed (count, forecast job, driver commit).

The lead-time quantiles (in-process in both engines) are left out. At 1x it also prints
how far the engines' forecasts are apart (LevelSeason pools over a group of series on
Spark, over all of them in-process). ``--series N`` takes the first N series as the 1x
unit, for a quick run on a small machine (the output says so).

    uv run python benchmarks/forecast_engines.py [--scales 1 10] [--engines inprocess spark]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np


def _write_scaled_demand(
    settings: Any, lake: Any, end: date, scale: int, series: int | None
) -> tuple[int, int]:
    """The lake's history of ``forecast_history_days`` up to ``end``, ``scale`` times with
    new item ids, as ``lake``'s gold fct_daily_demand; (series, rows) written."""
    from deltalake import write_deltalake

    from backend.lake import delta
    from backend.lake.duck import connect

    source = delta.table_uri("gold", "fct_daily_demand", settings=settings)
    first = end - timedelta(days=settings.forecast_history_days - 1)
    conn = connect(settings=settings)
    keep = ""
    if series is not None:
        keep = (
            "and item_id || '|' || depot_id in (select distinct item_id || '|' || depot_id "
            f"as uid from delta_scan($src) order by uid limit {int(series)})"
        )
    reader = conn.execute(
        f"""
        select item_id || '~' || r.range as item_id, depot_id, demand_date, demand_qty
        from delta_scan($src), range($scale) as r
        where demand_date between $first and $end {keep}
        order by item_id, depot_id, demand_date
        """,
        {"src": source, "scale": scale, "first": first, "end": end},
    ).to_arrow_reader()
    uri = delta.table_uri("gold", "fct_daily_demand", settings=lake)
    write_deltalake(uri, reader, mode="overwrite")
    row = conn.execute(
        "select count(distinct item_id || '|' || depot_id), count(*) from delta_scan(?)", [uri]
    ).fetchone()
    conn.close()
    assert row is not None
    return int(row[0]), int(row[1])


def _replicated_state(model: Any, scale: int) -> Any:
    """A copy of the champion whose fitted state (``DemandForecaster.state``: per member,
    per series) also holds the synthetic series ``<item>~r|<depot>`` (r < ``scale``), each
    with its source series' state: as after a weekly training on that population, so the
    engines forecast from state instead of refitting every synthetic series."""
    import copy

    def spread(per_series: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for uid, value in per_series.items():
            item, _, depot = uid.partition("|")
            for r in range(scale):
                out[f"{item}~{r}|{depot}"] = value
        return out

    replica = copy.copy(model)
    state = getattr(model, "state", None) or {}
    replica.state = {
        alias: {**held, "paths": spread(held["paths"])} if "paths" in held else spread(held)
        for alias, held in state.items()
    }
    return replica


def _inprocess(lake: Any, model: Any, version: str, end: date) -> dict[str, float]:
    from backend.lake import delta
    from backend.pipeline.forecast import ML_FORECASTS, to_table, write_forecasts
    from ml.data import load_gold_demand

    began = time.perf_counter()
    history = load_gold_demand(lake, end=end.isoformat(), days=lake.forecast_history_days)
    loaded = time.perf_counter()
    forecasts = model.predict(
        history[["unique_id", "ds", "y"]], lake.forecast_horizon, n_jobs=lake.forecast_jobs
    )
    predicted = time.perf_counter()
    pairs = history.drop_duplicates("unique_id")[["unique_id", "item_id", "depot_id"]]
    table = to_table(forecasts.merge(pairs, on="unique_id"), end, version)
    write_forecasts(delta.table_uri(*ML_FORECASTS, settings=lake), table, end, lake)
    done = time.perf_counter()
    return {
        "total_s": done - began,
        "load_s": loaded - began,
        "predict_s": predicted - loaded,
        "write_s": done - predicted,
        "rows": float(table.num_rows),
    }


def _spark(lake: Any, model: Any, version: str, end: date) -> dict[str, float]:
    from backend.lake import delta
    from backend.lake.spark import local_session
    from backend.pipeline.forecast import ML_FORECASTS
    from backend.pipeline.forecast_spark import demand_history, forecast_to_delta

    began = time.perf_counter()
    spark = local_session(lake)
    started = time.perf_counter()
    history = demand_history(spark, lake, end)
    result = forecast_to_delta(
        spark, lake, history, model, version, end, delta.table_uri(*ML_FORECASTS, settings=lake)
    )
    done = time.perf_counter()
    return {
        "session_s": started - began,
        "total_s": done - started,
        **{f"{k}_s": v for k, v in result.seconds.items()},
        "groups": float(result.groups),
        "rows": float(result.rows_written),
        "cores": float(spark.sparkContext.defaultParallelism),
    }


def _agreement(first: Any, second: Any, end: date) -> str:
    """How far two lakes' ml_forecasts for ``end`` are apart, per series over the
    horizon (the sum of yhat) and per row."""
    from deltalake import DeltaTable

    from backend.lake import delta
    from backend.pipeline.forecast import ML_FORECASTS

    frames = [
        DeltaTable(delta.table_uri(*ML_FORECASTS, settings=s))
        .to_pandas(
            filters=[("forecast_date", "=", end)], columns=["unique_id", "horizon_day", "yhat"]
        )
        .sort_values(["unique_id", "horizon_day"], ignore_index=True)
        for s in (first, second)
    ]
    a, b = frames
    assert (a["unique_id"].to_numpy() == b["unique_id"].to_numpy()).all()
    same = float(np.mean(np.abs(a["yhat"] - b["yhat"]) <= 1e-9))
    ta = a.groupby("unique_id")["yhat"].sum()
    tb = b.groupby("unique_id")["yhat"].sum()
    rel = np.asarray(np.abs(ta - tb) / np.maximum(ta.abs(), 1.0), dtype=float)
    total = abs(float(tb.sum()) / max(float(ta.sum()), 1e-12) - 1.0)
    return (
        f"rows equal within 1e-9: {same:.1%}; per-series horizon total, relative difference: "
        f"p50 {np.median(rel):.2%}, p99 {np.quantile(rel, 0.99):.2%}, max {rel.max():.2%}; "
        f"all series' total: {total:.3%}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--engines", nargs="+", default=["inprocess", "spark"])
    parser.add_argument("--date", type=date.fromisoformat, default=date(2026, 10, 31))
    parser.add_argument("--series", type=int, default=None, help="1x = the first N series")
    args = parser.parse_args()

    from backend.settings import Settings
    from ml import registry

    settings = Settings()
    remote = settings.mlflow_uri.startswith(("http://", "https://"))
    registry.configure(settings.mlflow_uri, None if remote else settings.mlflow_artifact_dir)
    model, version = registry.load(registry.CHAMPION)
    load = os.getloadavg()
    print(
        f"champion v{version}; horizon {settings.forecast_horizon} days, history "
        f"{settings.forecast_history_days} days, in-process jobs {settings.forecast_jobs}, "
        f"Spark master {settings.spark_master}; {os.cpu_count()} CPUs, load average "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at start"
    )
    if args.series:
        print(f"1x = the first {args.series:,} series of the lake (--series), not all of them")
    root = Path(tempfile.mkdtemp(prefix="forecast_engines_"))
    figures: dict[tuple[int, str], float] = {}
    try:
        for scale in args.scales:
            lakes = {}
            for engine in args.engines:
                lake = settings.model_copy(
                    update={
                        "lake_root": str(root / f"x{scale}-{engine}" / "lake"),
                        "warehouse_dir": root / f"x{scale}-{engine}" / "warehouse",
                    }
                )
                series, rows = _write_scaled_demand(settings, lake, args.date, scale, args.series)
                lakes[engine] = lake
                timed = (_inprocess if engine == "inprocess" else _spark)(
                    lake, _replicated_state(model, scale), version, args.date
                )
                rate = series / timed["total_s"]
                figures[(scale, engine)] = rate
                detail = ", ".join(
                    f"{k} {v:.1f}" if k.endswith("_s") else f"{k} {v:,.0f}"
                    for k, v in timed.items()
                )
                print(
                    f"{scale}x {engine:>9}: {series:,} series ({rows:,} history rows) "
                    f"{rate:,.1f} series/s  [{detail}]",
                    flush=True,
                )
            if len(lakes) == 2:
                print(
                    f"{scale}x agreement: {_agreement(lakes['inprocess'], lakes['spark'], args.date)}"
                )
            for lake in lakes.values():
                shutil.rmtree(Path(lake.lake_root).parent, ignore_errors=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    load = os.getloadavg()
    print(f"load average at end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(
        "targets: none named (figures: "
        + ", ".join(f"{s}x {e} {r:,.1f} series/s" for (s, e), r in figures.items())
        + ")"
    )


if __name__ == "__main__":
    main()
