"""Loaders of long-format series tables: ``unique_id, ds, y`` (+ exogenous columns)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

from backend.settings import Settings

FREQ_ALIASES = {"D": "D", "W": "W-SUN", "M": "MS"}


def load_carparts(
    path: str | Path, *, missing: Literal["drop_series", "trim"] = "drop_series"
) -> pd.DataFrame:
    """The carparts data set (``part_id, month, demand``) as a monthly long table.

    An empty demand is a month nobody recorded, not a month without demand: it is never
    read as zero. In this data set all 165 series with empty months stop being recorded
    in early 1999 and never resume. ``drop_series`` (default, the usual choice in the
    literature: 2,509 complete series) leaves those series out; ``trim`` keeps each series
    up to its last recorded month (they then have no hold-out to score).
    """
    import pandas as pd

    raw = pd.read_csv(path, dtype={"part_id": str, "month": str, "demand": float})
    missing_columns = {"part_id", "month", "demand"} - set(raw.columns)
    if missing_columns:
        raise ValueError(f"{path}: missing columns {sorted(missing_columns)}")
    df = pd.DataFrame(
        {
            "unique_id": raw["part_id"],
            "ds": pd.to_datetime(raw["month"], format="%Y-%m"),
            "y": raw["demand"],
        }
    )
    has_gap = df.groupby("unique_id")["y"].transform(lambda s: s.isna().any())
    df = df[~has_gap] if missing == "drop_series" else df.dropna(subset=["y"])
    return df.sort_values(["unique_id", "ds"], ignore_index=True)


Censored = Literal["keep", "mark", "missing", "impute"]


def load_gold_demand(
    settings: Settings,
    *,
    end: str | None = None,
    days: int | None = None,
    censored: Censored = "keep",
    categorical: bool = False,
) -> pd.DataFrame:
    """Daily demand per item x depot from gold ``fct_daily_demand``, as a long table with
    ``unique_id = item_id|depot_id``, ``item_id``, ``depot_id``, ``ds``, ``y``.

    ``end`` (YYYY-MM-DD) cuts the history at that day, ``days`` keeps only its last N days.

    Recorded consumption is censored by stock: a day without stock records no demand.
    ``censored`` says what to do with the days gold ``fct_stockout_days`` lists:
    ``keep`` (default) returns the recorded values as they are; ``mark`` adds a column
    ``stock_state`` (``out``: nothing to issue, ``cut``: stock ran out that day, else
    null); ``missing`` also sets ``y`` to NaN on ``out`` days (the demand is unknown, not
    zero), for models and estimates that skip missing values (``ml.censoring`` treats
    ``cut`` days as at-least values); ``impute`` marks and sets ``y`` on ``out`` days to
    the pair's recent rate on days with stock (``ml.censoring.impute_stockouts``: what the
    forecaster trains and forecasts on), keeping the recorded value in ``y_recorded``.

    ``categorical`` returns ``unique_id``, ``item_id`` and ``depot_id`` as pandas
    ordered categoricals with sorted categories, built from integer codes: the same
    values, without 9M Python strings per column (a third of the daily step's time).
    """
    if censored not in ("keep", "mark", "missing", "impute"):
        raise ValueError(f"censored must be keep, mark, missing or impute, not {censored!r}")
    from datetime import date, timedelta

    from backend.lake import delta
    from backend.lake.duck import connect

    uri = delta.table_uri("gold", "fct_daily_demand", settings=settings)
    if not delta.table_exists(uri, settings):
        raise FileNotFoundError(f"no gold fct_daily_demand at {uri}: run the pipeline first")
    conn = connect(settings=settings)
    last = date.fromisoformat(end) if end else None
    if last is None:
        row = conn.execute("select max(demand_date) from delta_scan(?)", [uri]).fetchone()
        last = row[0] if row else None
        if last is None:
            raise ValueError("gold fct_daily_demand is empty")
    first = last - timedelta(days=days - 1) if days else date(1900, 1, 1)
    select = """
        select d.item_id || '|' || d.depot_id as unique_id, d.item_id, d.depot_id,
               cast(d.demand_date as timestamp) as ds, cast(d.demand_qty as double) as y{state}
        from delta_scan(?) as d{join}
        where d.demand_date between ? and ?
        order by unique_id, ds
    """
    df = _read_categorical(conn, censored, settings, uri, first, last)
    if df is not None:
        if not categorical:
            # the same frame with plain string columns: taken from the pairs' categories,
            # a third of the time of DuckDB returning 9M strings a column (default demo:
            # 5.3 s against 15.6 s, most of `nova train`'s load)
            import pandas as pd

            for column in ("unique_id", "item_id", "depot_id"):
                plain = df[column].astype(object).to_numpy()
                plain[pd.isna(plain)] = None  # a row without a pair: None, as DuckDB's
                df[column] = plain
        return df
    if categorical:
        # a pair and day listed twice: the joined rows repeat, as the plain reader's do
        import pandas as pd

        df = _read_demand(conn, select, censored, settings, uri, first, last)
        for column in ("unique_id", "item_id", "depot_id"):
            values = df[column]
            df[column] = pd.Categorical(
                values, categories=sorted(values.dropna().unique()), ordered=True
            )
        return df
    return _read_demand(conn, select, censored, settings, uri, first, last)


def _read_categorical(
    conn: Any, censored: Censored, settings: Settings, uri: str, first: Any, last: Any
) -> pd.DataFrame | None:
    """``load_gold_demand(categorical=True)``: DuckDB returns only numbers (the pair's
    index in the sorted pairs, the day, the quantity; the stock states as a few thousand
    rows), in scan order. The rows are ordered by series and day, the stock states placed
    and the categoricals built from the codes here: the enum columns' conversion to pandas,
    the sort of 9M rows and the stock join were most of the read's time in DuckDB. None
    when a stock state's pair and day match more than one row or state (gold lists each
    once): the caller reads joined rows instead."""
    import uuid

    import numpy as np
    import pandas as pd

    from backend.lake import delta

    stock_uri = None
    if censored != "keep":
        stock_uri = delta.table_uri("gold", "fct_stockout_days", settings=settings)
        if not delta.table_exists(stock_uri, settings):
            raise FileNotFoundError(
                f"no gold fct_stockout_days at {stock_uri}: run the pipeline's transform "
                "step first, or load with censored='keep'"
            )
    pairs = f"nova_pairs_{uuid.uuid4().hex[:12]}"
    # one scan of the window for its distinct pairs (a few thousand rows), numbered in the
    # order of their ``item|depot`` id: the categories of unique_id
    conn.execute(
        f"create temp table {pairs} as select item_id, depot_id, "
        "cast(row_number() over (order by item_id || '|' || depot_id) - 1 as integer) "
        "as code from (select distinct item_id, depot_id from delta_scan(?) "
        "where demand_date between ? and ? and item_id is not null and depot_id is not null)",
        [uri, first, last],
    )
    try:
        found = conn.execute(f"select item_id, depot_id from {pairs} order by code").fetchnumpy()
        rows = conn.execute(
            f"""
            select p.code, cast(datediff('day', ?::date, d.demand_date) as integer) as day,
                   cast(d.demand_qty as double) as y
            from delta_scan(?) as d
            left join {pairs} as p on p.item_id = d.item_id and p.depot_id = d.depot_id
            where d.demand_date between ? and ?
            """,
            [first, uri, first, last],
        ).fetchnumpy()
        stock = None
        if stock_uri is not None:
            stock = conn.execute(
                f"""
                select p.code, cast(datediff('day', ?::date, s.stock_date) as integer) as day,
                       s.stock_state
                from delta_scan(?) as s
                join {pairs} as p on p.item_id = s.item_id and p.depot_id = s.depot_id
                where s.stock_date between ? and ?
                """,
                [first, stock_uri, first, last],
            ).fetchnumpy()
    finally:
        conn.execute(f"drop table if exists {pairs}")
    n_pairs, n_days = len(found["item_id"]), (last - first).days + 1
    code = np.ma.filled(rows["code"], -1).astype(np.int64)
    day = np.asarray(rows["day"], dtype=np.int64)
    # order by series, then day; a row without a pair (null id) last, as "nulls last" did
    key = np.where(code >= 0, code, n_pairs) * n_days + day
    order = _order_of(key, (n_pairs + 1) * n_days)
    key, code, day = key[order], code[order], day[order]
    item_of = np.asarray(found["item_id"], dtype=object)
    depot_of = np.asarray(found["depot_id"], dtype=object)
    ids = pd.Index(item_of + "|" + depot_of)
    items, item_code = np.unique(item_of.astype(str), return_inverse=True)
    depots, depot_code = np.unique(depot_of.astype(str), return_inverse=True)

    def categorical(per_pair: np.ndarray, categories: Any) -> pd.Categorical:
        # each row's code from its pair's; a row without item or depot has no pair (code
        # -1, null, as the enum cast gave): the appended -1
        codes: Any = np.append(per_pair, -1)[code]
        return pd.Categorical.from_codes(
            codes, categories=pd.Index(categories, dtype=object), ordered=True
        )

    df = pd.DataFrame(
        {
            "unique_id": categorical(np.arange(len(ids)), ids),
            "item_id": categorical(item_code, items),
            "depot_id": categorical(depot_code, depots),
            "ds": (np.datetime64(first, "D") + day).astype("datetime64[us]"),
            "y": np.ma.filled(np.ma.asarray(rows["y"], dtype=float), np.nan)[order],
        }
    )
    if stock is None:
        return df
    states = _stock_states(key, stock, n_days)
    if states is None:
        return None
    df["stock_state"] = states
    return _censor(df, censored)


def _order_of(key: np.ndarray, size: int) -> np.ndarray:
    """The stable order of ``key`` (non-negative ints below ``size``): scattered into a
    table of ``size`` slots when keys are unique and the table small (one pass), else a
    stable sort. Equal keys (a pair recorded twice a day) keep their scan order."""
    import numpy as np

    if 0 < size <= 4 * key.size + (1 << 20):
        slot = np.full(size, -1, dtype=np.int64)
        slot[key] = np.arange(key.size)
        order = slot[slot >= 0]
        if order.size == key.size:
            return order
    return np.argsort(key, kind="stable")


def _stock_states(key: np.ndarray, stock: dict[str, Any], n_days: int) -> np.ndarray | None:
    """Each row's stock state (None where gold lists none), for rows of sorted ``key``:
    what a left join on pair and day gives. None when a state would match two rows or a
    row two states (the join would repeat rows)."""
    import numpy as np
    import pandas as pd

    values = np.asarray(np.ma.filled(stock["stock_state"], None), dtype=object)
    at = np.asarray(stock["code"], dtype=np.int64) * n_days + np.asarray(stock["day"])
    lo = np.searchsorted(key, at, side="left")
    hi = np.searchsorted(key, at, side="right")
    if (hi - lo > 1).any() or np.unique(at[hi > lo]).size != int((hi > lo).sum()):
        return None
    names = pd.Index(pd.unique(values[pd.notna(values)])).astype(str)
    states = np.array([None, *names], dtype=object)
    state = np.zeros(key.size, dtype=np.intp)
    found = hi > lo
    state[lo[found]] = pd.Index(names).get_indexer(values[found]) + 1
    return states[state]


_STOCK_JOIN = """
        left join (
            select item_id, depot_id, stock_date, stock_state from delta_scan(?)
            where stock_date between ? and ?
        ) as s
        on s.item_id = d.item_id and s.depot_id = d.depot_id and s.stock_date = d.demand_date
"""


def _read_demand(
    conn: Any,
    select: str,
    censored: Censored,
    settings: Settings,
    uri: str,
    first: Any,
    last: Any,
) -> pd.DataFrame:
    from backend.lake import delta

    if censored == "keep":
        return conn.execute(select.format(state="", join=""), [uri, first, last]).df()
    stock_uri = delta.table_uri("gold", "fct_stockout_days", settings=settings)
    if not delta.table_exists(stock_uri, settings):
        raise FileNotFoundError(
            f"no gold fct_stockout_days at {stock_uri}: run the pipeline's transform step "
            "first, or load with censored='keep'"
        )
    # the stock states joined in DuckDB: a pandas merge of 9M rows on string keys cost
    # about as much as the read itself
    join = _STOCK_JOIN
    df = conn.execute(
        select.format(state=", s.stock_state", join=join),
        [uri, stock_uri, first, last, first, last],
    ).df()
    return _censor(df, censored)


def _censor(df: pd.DataFrame, censored: Censored) -> pd.DataFrame:
    """``df`` (rows by series and day, ``stock_state`` marked) censored as asked."""
    if censored == "missing":
        df.loc[df["stock_state"] == "out", "y"] = float("nan")
    elif censored == "impute":
        import numpy as np
        import pandas as pd

        from ml.censoring import impute_stockouts

        # the query orders rows by series and day, as impute_stockouts needs
        df["y_recorded"] = df["y"]
        ids = df["unique_id"]
        # integer codes of a categorical id: the same runs, without comparing 9M strings
        codes = ids.cat.codes.to_numpy() if isinstance(ids.dtype, pd.CategoricalDtype) else ids
        df["y"] = impute_stockouts(
            np.asarray(codes), df["y"].to_numpy(), (df["stock_state"] == "out").to_numpy()
        )
    return df


def read_long_table(path: str | Path) -> pd.DataFrame:
    """A CSV or Parquet long table with at least ``unique_id, ds, y``."""
    import pandas as pd

    path = Path(path)
    df = pd.read_parquet(path) if path.suffix in (".parquet", ".pq") else pd.read_csv(path)
    missing = {"unique_id", "ds", "y"} - set(df.columns)
    if missing:
        raise ValueError(f"{path}: missing columns {sorted(missing)} (need unique_id, ds, y)")
    df["unique_id"] = df["unique_id"].astype(str)
    df["ds"] = pd.to_datetime(df["ds"])
    df["y"] = pd.to_numeric(df["y"], errors="coerce")
    return df.sort_values(["unique_id", "ds"], ignore_index=True)
