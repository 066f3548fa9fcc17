"""The daily forecast step: the champion model forecasts every item x depot.

Loads ``models:/demand-forecaster@champion`` from the MLflow registry, forecasts the
horizon from gold ``fct_daily_demand`` up to the run date D, and overwrites D's partition
of ``<lake>/ml/ml_forecasts`` (so re-running D replaces, never duplicates); then the
lead-time demand quantiles of the intermittent and lumpy pairs (``ml.lead_time_reorder``)
into D's partition of ``<lake>/ml/lead_time_quantiles``, read by fct_reorder_points.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from backend.pipeline.context import RunContext
    from backend.settings import Settings

ML_FORECASTS = ("ml", "ml_forecasts")


class StepSkipped(Exception):
    """The step had nothing to do; the message says why and what to run."""


def forecasts_uri(ctx: RunContext) -> str:
    from backend.lake import delta

    return delta.table_uri(*ML_FORECASTS, settings=ctx.settings)


def has_forecasts_for(ctx: RunContext) -> bool:
    """Whether ``ml_forecasts`` holds the run date's partition (a table with only older
    dates would make the forecast marts rebuild yesterday's decisions as today's)."""
    from deltalake import DeltaTable

    from backend.lake import delta

    uri = forecasts_uri(ctx)
    if not delta.table_exists(uri, ctx.settings):
        return False
    table = DeltaTable(uri, storage_options=delta.storage_options(ctx.settings))
    return bool(table.file_uris(partition_filters=[("forecast_date", "=", ctx.end.isoformat())]))


def run_forecast(ctx: RunContext) -> int:
    """Forecast every series for the run date; rows written to ``ml/ml_forecasts``."""
    from ml import registry

    settings = ctx.settings
    no_champion = StepSkipped(
        f"no champion model of {registry.MODEL_NAME!r} in the registry at "
        f"{settings.mlflow_uri}: run `nova train` first; forecasts, reorder points and "
        "alerts were not produced"
    )
    # A local store that was never created holds no champion: skip before MLflow creates
    # and migrates an empty database (about 15 s on every run of a lake never trained).
    local_store = settings.mlflow_uri.removeprefix("sqlite:///")
    if local_store != settings.mlflow_uri and not Path(local_store).exists():
        raise no_champion
    remote = settings.mlflow_uri.startswith(("http://", "https://"))
    registry.configure(settings.mlflow_uri, None if remote else settings.mlflow_artifact_dir)
    # Only "no model registered yet" skips; an unreachable or broken registry raises
    # (RegistryUnavailable), so the run fails and publish never moves the gold version
    # over yesterday's forecasts, reorder points and alerts.
    try:
        model, version = registry.load(registry.CHAMPION)
    except registry.NoChampionError:
        raise no_champion from None
    if settings.forecast_engine == "spark":
        from backend.pipeline.forecast_spark import run_forecast_spark

        return run_forecast_spark(ctx, model, version)
    history = _load_history(settings, ctx.end)
    forecasts = model.predict(
        history[["unique_id", "ds", "y"]],
        settings.forecast_horizon,
        n_jobs=settings.forecast_jobs,
        state_max_age_days=settings.forecast_state_max_age_days,
    )
    table = to_table(with_pairs(forecasts, history), ctx.end, version)
    write_forecasts(forecasts_uri(ctx), table, ctx.end, ctx.settings)
    stats = ctx.report.table("ml.ml_forecasts")
    stats.rows_read = len(history)
    stats.rows_written = table.num_rows
    _write_lead_time_quantiles(ctx, table, history)
    failures = getattr(model, "last_failures_", {})
    if failures:
        ctx.report.errors.append(f"forecast: fallback used {failures}")
    return table.num_rows


def with_pairs(forecasts: pd.DataFrame, history: pd.DataFrame) -> pd.DataFrame:
    """``forecasts`` with each series' ``item_id`` and ``depot_id`` from the history."""
    import numpy as np
    import pandas as pd

    ids = history["unique_id"]
    if isinstance(ids.dtype, pd.CategoricalDtype):
        # each category's first row, scattered in reverse so the first occurrence wins:
        # drop_duplicates hashed 9M rows
        codes = ids.cat.codes.to_numpy()
        first = np.full(len(ids.cat.categories) + 1, -1)
        first[codes[::-1]] = np.arange(len(codes))[::-1]
        rows = first[first >= 0]
        pairs = history[["unique_id", "item_id", "depot_id"]].iloc[np.sort(rows)]
    else:
        pairs = history.drop_duplicates("unique_id")[["unique_id", "item_id", "depot_id"]]
    pairs = pairs.astype(str)
    # the forecast's ids looked up once per series, not once per row (h rows a series)
    series, uniques = pd.factorize(forecasts["unique_id"].to_numpy())
    at = pd.Index(pairs["unique_id"]).get_indexer(pd.Index(uniques).astype(str))[series]
    keep = at >= 0  # as the inner merge did: a series without a pair is left out
    if keep.all():  # the usual case: a shallow copy, not a copy of every column
        out = forecasts.copy(deep=False)
        out.index = pd.RangeIndex(len(out))
    else:
        out = forecasts[keep].reset_index(drop=True)
    out["item_id"] = pairs["item_id"].to_numpy()[at[keep]]
    out["depot_id"] = pairs["depot_id"].to_numpy()[at[keep]]
    return out


def _load_history(settings: Settings, end: date) -> pd.DataFrame:
    """Gold demand up to ``end`` with the stockout days marked (``stock_state``) for the
    lead-time quantiles and their recorded 0 replaced by the pair's recent rate (the model
    forecasts demand, not what stock let through; as ``nova train`` trains); a lake built
    before ``fct_stockout_days`` existed reads as recorded."""
    from ml.data import load_gold_demand

    days = settings.forecast_history_days
    try:
        return load_gold_demand(
            settings, end=end.isoformat(), days=days, censored="impute", categorical=True
        )
    except FileNotFoundError:
        return load_gold_demand(settings, end=end.isoformat(), days=days, categorical=True)


def _write_lead_time_quantiles(ctx: RunContext, table: pa.Table, history: pd.DataFrame) -> None:
    """The bootstrap lead-time demand quantiles of D's intermittent and lumpy pairs
    (``ml/lead_time_quantiles``, read by fct_reorder_points)."""
    from ml import lead_time_reorder

    pairs = table.select(["item_id", "depot_id", "demand_class"]).to_pandas()
    stats = ctx.report.table("ml.lead_time_quantiles")
    stats.rows_read = len(history)
    stats.rows_written = lead_time_reorder.run(ctx.settings, pairs, ctx.end, history)


def to_table(frame: object, forecast_date: date, version: str) -> pa.Table:
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    assert isinstance(frame, pd.DataFrame)
    n = len(frame)
    # arrow arrays straight from numpy: pandas' .dt.date makes a Python object a row
    days = pa.array(frame["ds"].to_numpy(dtype="datetime64[D]"), type=pa.date32())
    columns = {
        "forecast_date": pa.array(np.full(n, np.datetime64(forecast_date, "D")), pa.date32()),
        "unique_id": _strings(frame["unique_id"]),
        "item_id": _strings(frame["item_id"]),
        "depot_id": _strings(frame["depot_id"]),
        "target_date": days,
        "horizon_day": frame["step"].to_numpy(dtype="int32"),
        "yhat": frame["yhat"].to_numpy(dtype=float),
        "yhat_lo_80": frame["yhat_lo_80"].to_numpy(dtype=float),
        "yhat_hi_80": frame["yhat_hi_80"].to_numpy(dtype=float),
        "yhat_lo_95": frame["yhat_lo_95"].to_numpy(dtype=float),
        "yhat_hi_95": frame["yhat_hi_95"].to_numpy(dtype=float),
        "demand_class": _strings(frame["demand_class"]),
        "model_name": _strings(frame["model_name"]),
        "model_version": np.full(n, version, dtype=object),
    }
    schema = pa.schema(
        [
            ("forecast_date", pa.date32()),
            ("unique_id", pa.string()),
            ("item_id", pa.string()),
            ("depot_id", pa.string()),
            ("target_date", pa.date32()),
            ("horizon_day", pa.int32()),
            ("yhat", pa.float64()),
            ("yhat_lo_80", pa.float64()),
            ("yhat_hi_80", pa.float64()),
            ("yhat_lo_95", pa.float64()),
            ("yhat_hi_95", pa.float64()),
            ("demand_class", pa.string()),
            ("model_name", pa.string()),
            ("model_version", pa.string()),
        ]
    )
    return pa.Table.from_arrays(
        [pa.array(columns[f.name], type=f.type) for f in schema], schema=schema
    )


def _strings(column: pd.Series) -> pa.Array:
    """``pa.array(column.astype(str))`` from each run of equal values once: the columns
    repeat their values in runs (an id h times, a class over a series' rows), so 1.1M
    Python strings a column need not each be converted."""
    import numpy as np
    import pyarrow as pa

    values = column.to_numpy()
    if values.dtype != object or len(values) == 0:
        return pa.array(column.astype(str), type=pa.string())
    starts = np.ones(len(values), dtype=bool)
    starts[1:] = values[1:] != values[:-1]
    names = pa.array(values[starts].astype(str).astype(object), type=pa.string())
    runs = pa.array(np.cumsum(starts, dtype=np.int32) - 1, type=pa.int32())
    return pa.DictionaryArray.from_arrays(runs, names).cast(pa.string())


def write_forecasts(uri: str, table: pa.Table, forecast_date: date, settings: Settings) -> None:
    """Replace exactly ``forecast_date``'s partition (idempotent re-runs). The lead-time
    quantiles table is created empty if absent, so the marts built on these forecasts
    read it (pairs without quantiles keep the normal lead-time model)."""
    from deltalake import write_deltalake

    from backend.lake import delta
    from ml.lead_time_reorder import ensure_table

    write_deltalake(
        uri,
        table,
        mode="overwrite",
        partition_by=["forecast_date"],
        predicate=delta.date_range_predicate(forecast_date, forecast_date, "forecast_date"),
        storage_options=delta.storage_options(settings),
    )
    ensure_table(settings)
