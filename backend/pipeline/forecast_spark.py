"""The daily forecast step on Spark (``NOVA_FORECAST_ENGINE=spark``).

The same champion as the in-process engine, run where the series are:

* gold ``fct_daily_demand`` (the current Delta snapshot, :func:`backend.lake.spark.delta_frame`)
  is read into the Spark session of dbt's ``spark`` target (``local_session``: a local
  master or a cluster, ``NOVA_SPARK_MASTER``), cut to the forecast history;
* the series are spread over groups of at least ``SERIES_PER_GROUP`` by a hash of
  ``unique_id``, and each group runs the broadcast model's ``predict`` (one worker
  process per task, ``n_jobs=1``: Spark is the parallelism) and turns its output into
  rows with the in-process engine's ``to_table``, in ``applyInArrow``;
* the workers write the rows as Parquet to a staging directory, and the driver streams
  them, in the in-process engine's order (``unique_id, horizon_day``), into one Delta
  commit that replaces D's partition of ``ml_forecasts`` (``write_forecasts``): no row
  is held in the driver's memory, and one writer keeps the replace atomic (the local
  session has no Delta jars to write from the workers).

The lead-time quantiles stay in-process (their draws come from one random stream over the
pairs in order, which a split would change); Spark hands them only what they read: the
intermittent and lumpy pairs' last ``HISTORY_DAYS`` days with their stock state.

What can differ from the in-process engine: everything in ``predict`` is per series but
the global models. LightGBM is frozen at training and its features look back from each
step, so a group gets the population's values (unless a group's series all end before the
others' last date; gold has a row for every pair up to D). LevelSeason pools its season,
weekday profile and growth over the series it is given: over a group (a random sample of
at least ``SERIES_PER_GROUP``) rather than the population. ``benchmarks/forecast_engines.py``
prints how far that moves the default demo's forecasts.

Executors need this project's Python environment (the ``ml`` and ``backend`` packages and
their dependencies), which a local master has; a cluster's workers get it from the image.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

    from backend.pipeline.context import RunContext
    from backend.settings import Settings

# Series per group (one predict call), at least: the champion's pooled parts (LevelSeason's
# yearly season, weekday profile and pool growth are averaged over the series of a call)
# are then estimated on a random sample of at least this many series (the hash split),
# the model's fixed cost per call is spread, and a group's history (730 days x ~2,000
# series, about 50 MB in pandas) fits any executor. Fewer series: one group, the
# in-process answer exactly.
SERIES_PER_GROUP = 2_000
FALLBACKS = "_fallbacks"


@dataclass
class SparkForecast:
    """What the Spark engine wrote: rows, the history rows read, the series and groups,
    every series' pair and demand class (``unique_id, item_id, depot_id, demand_class``)
    and the fallback counts summed over groups."""

    rows_written: int
    rows_read: int
    series: int
    groups: int
    pairs: pa.Table
    failures: dict[str, int] = field(default_factory=dict)
    # wall seconds of the phases: count (sizing the groups), forecast (Spark job: read,
    # predict, stage), commit (the driver's streamed Delta write)
    seconds: dict[str, float] = field(default_factory=dict)


def run_forecast_spark(ctx: RunContext, model: Any, version: str) -> int:
    """The forecast step's Spark engine: forecasts for D into ``ml_forecasts``, then the
    lead-time quantiles; rows written (as ``run_forecast``)."""
    from backend.lake.spark import local_session
    from backend.pipeline.forecast import _write_lead_time_quantiles, forecasts_uri

    settings = ctx.settings
    spark = local_session(settings)
    history = demand_history(spark, settings, ctx.end)
    result = forecast_to_delta(
        spark, settings, history, model, version, ctx.end, forecasts_uri(ctx)
    )
    stats = ctx.report.table("ml.ml_forecasts")
    stats.rows_read = result.rows_read
    stats.rows_written = result.rows_written
    _write_lead_time_quantiles(
        ctx, result.pairs, quantile_history(spark, history, result.pairs, ctx.end)
    )
    if result.failures:
        ctx.report.errors.append(f"forecast: fallback used {result.failures}")
    return result.rows_written


def demand_history(spark: SparkSession, settings: Settings, end: date) -> DataFrame:
    """Gold demand of the ``forecast_history_days`` up to ``end`` as ``load_gold_demand``
    gives it to the in-process engine: ``unique_id, item_id, depot_id, ds, y`` and the
    day's ``stock_state`` from gold ``fct_stockout_days`` (null on a lake without it); the
    stockout days are imputed per series in the workers, as ``censored="impute"`` does."""
    from pyspark.sql import functions as F

    from backend.lake import delta
    from backend.lake.spark import delta_frame

    uri = delta.table_uri("gold", "fct_daily_demand", settings=settings)
    if not delta.table_exists(uri, settings):
        raise FileNotFoundError(f"no gold fct_daily_demand at {uri}: run the pipeline first")
    first = end - timedelta(days=settings.forecast_history_days - 1)
    demand = delta_frame(spark, uri, settings).where(
        F.col("demand_date").between(F.lit(first), F.lit(end))
    )
    stock_uri = delta.table_uri("gold", "fct_stockout_days", settings=settings)
    if delta.table_exists(stock_uri, settings):
        states = (
            delta_frame(spark, stock_uri, settings)
            .where(F.col("stock_date").between(F.lit(first), F.lit(end)))
            .select(
                "item_id",
                "depot_id",
                F.col("stock_date").alias("demand_date"),
                F.col("stock_state").cast("string").alias("stock_state"),
            )
        )
        demand = demand.join(states, ["item_id", "depot_id", "demand_date"], "left")
    else:
        demand = demand.withColumn("stock_state", F.lit(None).cast("string"))
    return demand.select(
        F.concat_ws("|", "item_id", "depot_id").alias("unique_id"),
        F.col("item_id").cast("string").alias("item_id"),
        F.col("depot_id").cast("string").alias("depot_id"),
        F.col("demand_date").cast("timestamp_ntz").alias("ds"),
        F.col("demand_qty").cast("double").alias("y"),
        "stock_state",
    )


def forecast_frame(
    spark: SparkSession,
    history: DataFrame,
    model: Any,
    version: str,
    forecast_date: date,
    horizon: int,
    groups: int,
    state_max_age_days: int | None = None,
) -> DataFrame:
    """The lazy frame of ``to_table`` rows (+ ``_fallbacks``) for every series of
    ``history``: ``model.predict`` per group of series (``groups`` by a hash of
    ``unique_id``), the model broadcast to the workers. A ``stock_state`` column, where
    ``history`` has one, marks the stockout days imputed before predicting."""
    import pyarrow as pa
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import from_arrow_schema

    from backend.pipeline.forecast import to_table

    out_schema = forecast_schema().append(pa.field(FALLBACKS, pa.string()))
    shipped = spark.sparkContext.broadcast(model)

    def predict_group(part: pa.Table) -> pa.Table:
        import pandas as pd

        from ml.censoring import impute_stockouts

        # Runs in a Python worker: the broadcast model is unpickled once per process.
        # in the in-process engine's input order: a group's rows arrive in shuffle order,
        # and some of predict's statistics (the naive scales of the intervals) read the
        # series in the order given
        frame = part.to_pandas().sort_values(["unique_id", "ds"], ignore_index=True)
        frame["ds"] = frame["ds"].astype("datetime64[ns]")
        # stockout days imputed per series, as the in-process engine's history is
        # (each series is whole in its group, so the groups give the same values)
        codes, _ = pd.factorize(frame["unique_id"])
        frame["y"] = impute_stockouts(
            codes, frame["y"].to_numpy(), (frame["stock_state"] == "out").to_numpy()
        )
        forecaster = shipped.value
        age = {} if state_max_age_days is None else {"state_max_age_days": state_max_age_days}
        predicted = forecaster.predict(frame[["unique_id", "ds", "y"]], horizon, n_jobs=1, **age)
        pairs = frame.drop_duplicates("unique_id")[["unique_id", "item_id", "depot_id"]]
        table = to_table(predicted.merge(pairs, on="unique_id"), forecast_date, version)
        failures = dict(getattr(forecaster, "last_failures_", {}) or {})
        # the group's fallback counts ride on its first row (the driver sums them)
        note = [json.dumps(failures)] + [None] * (table.num_rows - 1) if table.num_rows else []
        return table.append_column(out_schema.field(FALLBACKS), pa.array(note, pa.string()))

    bucket = F.pmod(F.xxhash64("unique_id"), F.lit(groups)).alias("_group")
    if "stock_state" not in history.columns:
        history = history.withColumn("stock_state", F.lit(None).cast("string"))
    return (
        history.select(bucket, "unique_id", "item_id", "depot_id", "ds", "y", "stock_state")
        .groupBy("_group")
        .applyInArrow(predict_group, from_arrow_schema(out_schema))
    )


def forecast_to_delta(
    spark: SparkSession,
    settings: Settings,
    history: DataFrame,
    model: Any,
    version: str,
    forecast_date: date,
    uri: str,
    *,
    groups: int | None = None,
) -> SparkForecast:
    """Forecast every series of ``history`` on Spark and replace ``forecast_date``'s
    partition of the Delta table ``uri`` with the rows (``write_forecasts``).

    The workers write the rows as Parquet to a staging directory (no row goes through the
    driver's memory, whatever the number of series); the driver then streams them, in the
    in-process engine's order (``unique_id, horizon_day``), into one Delta commit, and
    removes the staging directory.
    """
    import pyarrow.compute as pc
    from pyspark.sql import functions as F

    from backend.lake.duck import connect
    from backend.pipeline.forecast import write_forecasts

    began = time.perf_counter()
    counted = history.agg(
        F.count(F.lit(1)).alias("rows"), F.approx_count_distinct("unique_id").alias("series")
    ).first()
    rows_read, series = (int(counted["rows"]), int(counted["series"])) if counted else (0, 0)
    if groups is None:
        groups = max(1, series // SERIES_PER_GROUP)
    seconds = {"count": time.perf_counter() - began}
    schema = forecast_schema()
    frame = forecast_frame(
        spark,
        history,
        model,
        version,
        forecast_date,
        settings.forecast_horizon,
        groups,
        settings.forecast_state_max_age_days,
    )
    staging = f"{_staging_root(spark, settings)}/ml_forecasts-{forecast_date}-{uuid.uuid4().hex}"
    try:
        began = time.perf_counter()
        frame.write.mode("overwrite").parquet(staging)
        seconds["forecast"] = time.perf_counter() - began
        began = time.perf_counter()
        conn = connect(settings=settings)
        try:
            files = f"{staging}/*.parquet"
            columns = ", ".join(schema.names)
            reader = conn.execute(
                f"select {columns} from read_parquet(?) order by unique_id, horizon_day",
                [files],
            ).to_arrow_reader()
            write_forecasts(uri, reader.cast(schema), forecast_date, settings)
            pairs = conn.execute(
                "select unique_id, any_value(item_id) as item_id, "
                "any_value(depot_id) as depot_id, any_value(demand_class) as demand_class, "
                "count(*) as n from read_parquet(?) group by unique_id order by unique_id",
                [files],
            ).to_arrow_table()
            notes = conn.execute(
                f"select {FALLBACKS} from read_parquet(?) where {FALLBACKS} is not null",
                [files],
            ).fetchall()
        finally:
            conn.close()
        seconds["commit"] = time.perf_counter() - began
    finally:
        _remove(spark, staging)
    failures: Counter[str] = Counter()
    for (note,) in notes:
        failures.update(json.loads(note))
    written = int(pc.sum(pairs.column("n")).as_py() or 0)
    return SparkForecast(
        rows_written=written,
        rows_read=rows_read,
        series=pairs.num_rows,
        groups=groups,
        pairs=pairs.drop_columns(["n"]),
        failures=dict(failures),
        seconds=seconds,
    )


def _staging_root(spark: SparkSession, settings: Settings) -> str:
    """Where the workers stage their rows: the warehouse directory for a local master (its
    workers share this machine's disk), else the lake, the storage a cluster shares."""
    if str(spark.sparkContext.master).startswith("local"):
        return str(settings.warehouse_path / "spark" / "staging")
    return f"{settings.lake_uri}/ml/_staging"


def _remove(spark: SparkSession, location: str) -> None:
    """Delete a staging directory through Spark's own filesystem (local or object store)."""
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    path = jvm.org.apache.hadoop.fs.Path(location)
    path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()).delete(path, True)


def forecast_schema() -> pa.Schema:
    """The schema of ``ml_forecasts`` rows, as ``to_table`` makes them."""
    import pandas as pd

    from backend.pipeline.forecast import to_table

    columns = (
        "unique_id", "item_id", "depot_id", "ds", "step", "yhat", "yhat_lo_80", "yhat_hi_80",
        "yhat_lo_95", "yhat_hi_95", "demand_class", "model_name",
    )  # fmt: skip
    empty = pd.DataFrame(
        {c: pd.Series(dtype=float if c.startswith("yhat") else object) for c in columns}
    )
    empty["step"] = empty["step"].astype("int64")
    return to_table(empty, date(2000, 1, 1), "").schema


def quantile_history(
    spark: SparkSession, history: DataFrame, table: pa.Table, end: date
) -> pd.DataFrame:
    """What the lead-time quantiles read of the history, from Spark: the last
    ``HISTORY_DAYS`` days of the intermittent and lumpy pairs of ``table``, with the
    ``stock_state`` that ``demand_history`` joined (null on a lake without
    ``fct_stockout_days``: read as recorded, as in the in-process engine)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from pyspark.sql import functions as F

    from ml.lead_time_reorder import BOOTSTRAP_CLASSES, HISTORY_DAYS

    wanted = pc.is_in(table.column("demand_class"), value_set=pa.array(BOOTSTRAP_CLASSES))
    ids = pc.unique(table.filter(wanted).column("unique_id")).to_pylist()
    first = end - timedelta(days=HISTORY_DAYS - 1)
    recent = history.where(F.col("ds") >= F.lit(first).cast("timestamp_ntz"))
    pairs = spark.createDataFrame([(uid,) for uid in ids], "unique_id string")
    recent = recent.join(F.broadcast(pairs), "unique_id", "left_semi")
    out = recent.toArrow().to_pandas()
    out["ds"] = out["ds"].astype("datetime64[ns]")
    return out.sort_values(["unique_id", "ds"], ignore_index=True)
