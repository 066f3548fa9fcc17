"""Lead-time demand quantiles of intermittent and lumpy pairs, for the reorder-point mart.

Run by the daily forecast step after ``ml_forecasts`` is written. For each pair the
forecast classed intermittent or lumpy (``BOOTSTRAP_CLASSES``):

* its daily demand distribution over the trailing ``HISTORY_DAYS`` days, censoring-aware
  (``ml.censoring.unconstrained_pmf``: ``out`` days of gold ``fct_stockout_days`` left
  out, ``cut`` days as at-least values);
* ``DRAWS`` draws of the demand over the lead time (``ml.lead_time_demand``: the item's
  lead time, the supplier's lead-time std, reviews daily so no review period);
* their quantiles at the fixed levels ``LEVEL_KEYS`` (keys of the mart's 1/2000 grid).

The rows go to ``<lake>/ml/lead_time_quantiles``, D's partition replaced on a re-run.
``fct_reorder_points`` takes for those pairs the quantile at the smallest stored level at
or above the pair's applied service level (that level depends on the run's median value,
so it stays computed in the mart); pairs without rows keep the normal model.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from backend.settings import Settings

LEAD_TIME_QUANTILES = ("ml", "lead_time_quantiles")
BOOTSTRAP_CLASSES = ("intermittent", "lumpy")
HISTORY_DAYS = 365
DRAWS = 400
# Levels on the mart's 1/2000 grid (level = key / 2000): coarse where few pairs sit, fine
# near the top where most applied levels are and where a step costs the most stock.
LEVEL_KEYS = (
    1000, 1100, 1200, 1300, 1400, 1500, 1600, 1700, 1800, 1850,
    1900, 1920, 1940, 1950, 1960, 1970, 1980, 1990, 1996, 1998,
)  # fmt: skip
SEED = 20261031


def quantile_rows(
    pairs: pd.DataFrame, pmf: np.ndarray, rng: np.random.Generator, draws: int = DRAWS
) -> pd.DataFrame:
    """Per pair (rows of ``pairs``: item_id, depot_id, demand_class, lead_time_days,
    lead_time_std_days; ``pmf`` its daily demand distribution), the lead-time demand
    quantile at every level of ``LEVEL_KEYS``: one row per pair and level."""
    import pandas as pd

    from ml.lead_time_demand import sample_lead_time_demand

    n = len(pairs)
    keys = np.asarray(LEVEL_KEYS, dtype=np.int64)
    if n == 0:
        samples = np.zeros((0, draws))
    else:
        samples = sample_lead_time_demand(
            pmf,
            pairs["lead_time_days"].to_numpy(float),
            pairs["lead_time_std_days"].to_numpy(float),
            0,
            draws,
            rng,
        )
    levels = keys / 2000.0
    # row_quantiles' rule (smallest draw whose empirical cdf reaches the level) with one
    # sort per pair for all levels
    ordered = np.sort(samples, axis=1)
    k = np.clip(np.ceil(levels * draws - 1e-9).astype(np.int64) - 1, 0, draws - 1)
    quantiles = ordered[:, k].ravel()
    return pd.DataFrame(
        {
            "item_id": np.repeat(pairs["item_id"].to_numpy(str), keys.size),
            "depot_id": np.repeat(pairs["depot_id"].to_numpy(str), keys.size),
            "demand_class": np.repeat(pairs["demand_class"].to_numpy(str), keys.size),
            "level_key": np.tile(keys, n).astype(np.int32),
            "service_level": np.tile(levels, n),
            "lead_time_demand": quantiles,
            "draws": np.full(n * keys.size, draws, dtype=np.int32),
        }
    )


def demand_matrices(
    history: pd.DataFrame, ids: list[str], *, since: np.datetime64 | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(recorded, available) per series of ``ids`` and day, from a long frame with
    ``unique_id, ds, y`` and optionally ``stock_state``: ``available`` is 0 on ``out`` days
    (left out), the recorded quantity on ``cut`` days (demand at least that) and infinite
    otherwise (exact). Days a series has no row are left out too; so are rows before
    ``since``."""
    return _matrices(history, _rows_of(history, ids, since), len(ids))


def _matrices(history: pd.DataFrame, row: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``demand_matrices`` of the rows of ``history`` whose series' row (``row``) is set."""
    at = np.flatnonzero(row >= 0)  # the rows used, read from the columns without a copy
    row = row[at]
    days, col = _day_columns(history["ds"].to_numpy()[at])
    recorded = np.zeros((n, days.size))
    available = np.zeros((n, days.size))  # no row: left out as a stockout day
    y = np.nan_to_num(history["y"].to_numpy(float)[at], nan=0.0)
    recorded[row, col] = y
    if "stock_state" in history:
        state = history["stock_state"].to_numpy(object)[at]
        avail = np.where(state == "out", 0.0, np.where(state == "cut", np.rint(y), np.inf))
    else:
        avail = np.full(y.size, np.inf)
    available[row, col] = avail
    return recorded, available


def _rows_of(
    history: pd.DataFrame, ids: list[str], since: np.datetime64 | None = None
) -> np.ndarray:
    """Per row of ``history``, the position of its ``unique_id`` in ``ids`` (-1: not there,
    or a row before ``since``). A categorical id is looked up once per category, not once
    per row (9M rows in the daily run)."""
    import pandas as pd

    unique_id = history["unique_id"]
    wanted = pd.Index(ids)
    if isinstance(unique_id.dtype, pd.CategoricalDtype):
        per_category = wanted.get_indexer(unique_id.cat.categories)
        # a missing id has code -1: the appended -1
        row = np.append(per_category, -1)[unique_id.cat.codes.to_numpy()]
    else:
        row = wanted.get_indexer(pd.Index(unique_id))
    if since is not None:
        row = np.where(history["ds"].to_numpy() >= since, row, -1)
    return row


_DAY = np.timedelta64(1, "D")


def _day_columns(ds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct days, column of each row): ``np.unique`` and ``searchsorted``,
    counted per whole day when every value is a midnight (a bincount, not a hash or sort
    of millions of timestamps)."""
    if ds.size and np.issubdtype(ds.dtype, np.datetime64):
        lo = ds.min()
        offset = ds - lo
        whole = offset // _DAY
        if not np.isnat(lo) and (offset == whole * _DAY).all():
            present = np.bincount(whole.astype(np.int64)) > 0
            column = np.cumsum(present) - 1
            days = lo + np.flatnonzero(present) * _DAY
            return days.astype(ds.dtype), column[whole.astype(np.int64)]
    days = np.unique(ds)
    return days, np.searchsorted(days, ds)


def _pair_lead_times(settings: Settings, pairs: pd.DataFrame) -> pd.DataFrame:
    """The mart's lead time (item master) and the supplier's lead-time std per pair."""
    from backend.lake import delta
    from backend.lake.duck import connect

    conn = connect(settings=settings)
    items_uri = delta.table_uri("gold", "dim_items", settings=settings)
    suppliers_uri = delta.table_uri("gold", "dim_suppliers", settings=settings)
    lead = conn.execute(
        """
        select i.item_id, cast(i.lead_time_days as double) as lead_time_days,
               cast(coalesce(s.lead_time_std_days, 0) as double) as lead_time_std_days
        from delta_scan(?) as i
        left join delta_scan(?) as s on i.supplier_id = s.supplier_id
        """,
        [items_uri, suppliers_uri],
    ).df()
    out = pairs.merge(lead, on="item_id", how="inner")
    return out[out["lead_time_days"].notna()]


def compute(
    settings: Settings, forecasts: pd.DataFrame, run_date: date, history: pd.DataFrame
) -> pd.DataFrame:
    """Quantile rows for the bootstrap pairs of ``forecasts`` (one row per pair needed:
    item_id, depot_id, demand_class), from ``history`` (``load_gold_demand`` with
    ``censored="mark"`` or ``"keep"``, the trailing ``HISTORY_DAYS`` days used)."""
    import pandas as pd

    pairs = forecasts.loc[
        forecasts["demand_class"].isin(BOOTSTRAP_CLASSES), ["item_id", "depot_id", "demand_class"]
    ].drop_duplicates(["item_id", "depot_id"])
    pairs = _pair_lead_times(settings, pairs)
    pairs = pairs.assign(unique_id=pairs["item_id"] + "|" + pairs["depot_id"])
    pairs = pairs.sort_values("unique_id", ignore_index=True)
    first = pd.Timestamp(run_date) - pd.Timedelta(days=HISTORY_DAYS - 1)
    since = first.to_datetime64()
    # the pairs with a row in the trailing days (the history's columns read in place: a
    # copy of its last year, 4M rows, cost more than the matrices)
    row = _rows_of(history, pairs["unique_id"].tolist(), since)
    seen = np.zeros(len(pairs), dtype=bool)
    seen[row[row >= 0]] = True
    pairs = pairs[seen].reset_index(drop=True)
    # each row's pair among those kept (the appended -1 answers a row of none)
    row = np.append(np.cumsum(seen) - 1, -1)[row]
    from ml.censoring import unconstrained_pmf

    recorded, available = _matrices(history, row, len(pairs))
    pmf = unconstrained_pmf(recorded, available)
    return quantile_rows(pairs, pmf, np.random.default_rng(SEED))


def _schema() -> pa.Schema:
    import pyarrow as pa

    return pa.schema(
        [
            ("forecast_date", pa.date32()),
            ("item_id", pa.string()),
            ("depot_id", pa.string()),
            ("demand_class", pa.string()),
            ("level_key", pa.int32()),
            ("service_level", pa.float64()),
            ("lead_time_demand", pa.float64()),
            ("draws", pa.int32()),
        ]
    )


def to_table(frame: pd.DataFrame, forecast_date: date) -> pa.Table:
    import pyarrow as pa

    schema = _schema()
    out = frame.assign(forecast_date=forecast_date)[schema.names]
    return pa.Table.from_pandas(out, schema=schema, preserve_index=False)


def write_quantiles(table: pa.Table, forecast_date: date, settings: Settings) -> None:
    """Replace exactly ``forecast_date``'s partition (idempotent re-runs, as ml_forecasts)."""
    from deltalake import write_deltalake

    from backend.lake import delta

    write_deltalake(
        delta.table_uri(*LEAD_TIME_QUANTILES, settings=settings),
        table,
        mode="overwrite",
        partition_by=["forecast_date"],
        predicate=delta.date_range_predicate(forecast_date, forecast_date, "forecast_date"),
        storage_options=delta.storage_options(settings),
    )


def ensure_table(settings: Settings) -> None:
    """Create the table empty where it does not exist yet, so the marts can read it (and
    fall back to the normal model) on a lake whose forecasts were written without it."""
    from deltalake import write_deltalake

    from backend.lake import delta

    uri = delta.table_uri(*LEAD_TIME_QUANTILES, settings=settings)
    if delta.table_exists(uri, settings):
        return
    write_deltalake(
        uri,
        _schema().empty_table(),
        mode="append",
        partition_by=["forecast_date"],
        storage_options=delta.storage_options(settings),
    )


def run(settings: Settings, forecasts: pd.DataFrame, run_date: date, history: pd.DataFrame) -> int:
    """Compute and write D's quantiles; rows written."""
    table = to_table(compute(settings, forecasts, run_date, history), run_date)
    write_quantiles(table, run_date, settings)
    return table.num_rows
