"""Chart series: demand and on-hand history, the latest forecast with 80/95% bands and the
reorder point, for one item x depot or summed over every series the filters select (a
depot, a category, a category at a depot, an item across depots, or everything).

The bands of an aggregate are the aggregate's own interval, not the sum of the series'
quantiles (which would be far too wide: quantiles do not add). Each point's spread is read
off its bands, means and variances add over series and days, and the aggregate's
quantiles are normal ones clipped at 0. docs/api-series.md gives the method, its
assumptions and the coverage it reaches on simulated count series.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import NormalDist
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, HTTPException, Query, status
from numpy.typing import ArrayLike
from pydantic import TypeAdapter

from backend.api.deps import CurrentPrincipal, LakeDep
from backend.api.lake import warm_on_publish
from backend.api.memtables import EPOCH, PairTable, held
from backend.api.principal import Principal
from backend.api.routes.common import (
    ERRORS,
    NOT_FOUND,
    STRICT,
    EndDate,
    StartDate,
    Text,
    pair_filters,
)
from backend.api.schemas_planner import ForecastBand, HistoryPoint, SeriesPublic
from backend.lake.reader import GoldReader, Where

router = APIRouter(
    prefix="/series", tags=["series"], responses={**ERRORS, **NOT_FOUND}, dependencies=STRICT
)

Z80 = NormalDist().inv_cdf(0.90)  # the 80% band is the 10%..90% quantiles
Z95 = NormalDist().inv_cdf(0.975)  # the 95% band is the 2.5%..97.5% quantiles
# Default history: 13 weeks of days, or 26 weeks of weeks.
DEFAULT_DAYS = {"day": 90, "week": 182}
BUCKET = {"day": "{d}", "week": "cast(date_trunc('week', {d}) as date)"}

# --- the method, as pure functions ---------------------------------------------------


def point_variance(
    yhat: ArrayLike, lo80: ArrayLike, hi80: ArrayLike, lo95: ArrayLike, hi95: ArrayLike
) -> np.ndarray:
    """Each forecast point's variance read off its bands.

    Four normal-equivalent standard deviations: the upper half-width of each band over its
    z, and each band's full width over 2z. The upper half alone overstates a right-skewed
    count's spread and the full width understates it when the lower bound is clipped at 0;
    the mean of their squares stays within about 20% of the true standard deviation for
    Poisson and negative binomial demand with a mean above ~0.2 a day (docs/api-series.md),
    and is exact for a normal forecast.
    """
    mu, l80, h80, l95, h95 = (np.asarray(a, dtype=float) for a in (yhat, lo80, hi80, lo95, hi95))
    sigmas = (
        np.maximum(h80 - mu, 0.0) / Z80,
        np.maximum(h95 - mu, 0.0) / Z95,
        np.maximum(h80 - l80, 0.0) / (2 * Z80),
        np.maximum(h95 - l95, 0.0) / (2 * Z95),
    )
    return np.asarray(sum(s**2 for s in sigmas) / 4.0)


# The same expression in SQL, for sums over many series inside DuckDB (a unit test keeps
# the two equal). Constants only: no request text.
POINT_VARIANCE_SQL = (
    f"(pow(greatest(yhat_hi_80 - yhat, 0) / {Z80!r}, 2)"
    f" + pow(greatest(yhat_hi_95 - yhat, 0) / {Z95!r}, 2)"
    f" + pow(greatest(yhat_hi_80 - yhat_lo_80, 0) / {2 * Z80!r}, 2)"
    f" + pow(greatest(yhat_hi_95 - yhat_lo_95, 0) / {2 * Z95!r}, 2)) / 4.0"
)


@dataclass(frozen=True)
class Band:
    yhat: float
    lo80: float
    hi80: float
    lo95: float
    hi95: float


def band_from_moments(mean: float, variance: float) -> Band:
    """The 80% and 95% intervals of a sum with this mean and variance: normal quantiles
    (the sum of many independent series and days), clipped at 0 (demand is never
    negative). A clipped lower bound keeps zero demand inside the band, which is what a
    small, intermittent aggregate most often sees."""
    sd = float(np.sqrt(max(variance, 0.0)))
    return Band(
        yhat=mean,
        lo80=max(mean - Z80 * sd, 0.0),
        hi80=max(mean + Z80 * sd, 0.0),
        lo95=max(mean - Z95 * sd, 0.0),
        hi95=max(mean + Z95 * sd, 0.0),
    )


def aggregate_band(
    yhat: ArrayLike, lo80: ArrayLike, hi80: ArrayLike, lo95: ArrayLike, hi95: ArrayLike
) -> Band:
    """The band of the sum of forecast points (series and/or days) assumed independent:
    means add, variances add."""
    mean = float(np.sum(np.asarray(yhat, dtype=float)))
    return band_from_moments(mean, float(np.sum(point_variance(yhat, lo80, hi80, lo95, hi95))))


# --- the route -----------------------------------------------------------------------

Grain = Literal["day", "week"]


def on_hand_ctes(where_sql: str, start: str, *, by_depot: bool = False) -> str:
    """CTEs ending in ``carried(item_id, depot_id, d, demand_qty, receipts_qty, on_hand)``:
    each pair's days from the last snapshot on or before ``start`` (fixed SQL text), with
    the units on hand at the end of the day. ``by_depot``: that last snapshot day is taken
    per depot, as if each depot were selected alone (the KPIs computed for every depot at
    once).

    On-hand per pair and day: the snapshot of the latest snapshot day on or before it (or,
    before the first, the next one), rolled with the cumulative net movement
    (receipts + adjustments - issues) of fct_daily_demand: on_hand(d) = k + C(d), where
    k = snapshot - C(snapshot day) is carried between snapshots.
    """
    if by_depot:
        anchor = (
            "anchor as (select depot_id, max(d) as a from snaps where d <= "
            f"{start} group by depot_id)"
        )
        joined = "left join anchor using (depot_id)"
    else:
        anchor = f"anchor as (select max(d) as a from snaps where d <= {start})"
        joined = ", anchor"
    return f"""
        s as (
            select item_id, depot_id, demand_date as d, demand_qty, receipts_qty,
                receipts_qty + adjustments_qty - demand_qty as net
            from delta_scan($t_fct_daily_demand) where {where_sql}
        ),
        snaps as (
            select item_id, depot_id, snapshot_date as d, on_hand
            from delta_scan($t_fct_inventory_snapshot) where {where_sql}
        ),
        {anchor},
        days as (
            select s.*, sum(net) over (partition by item_id, depot_id order by d) as c
            from s {joined} where anchor.a is null or s.d >= anchor.a
        ),
        anchored as (
            select days.*, snaps.on_hand - days.c as k
            from days left join snaps using (item_id, depot_id, d)
        ),
        carried as (
            select item_id, depot_id, d, demand_qty, receipts_qty, c + coalesce(
                last_value(k ignore nulls) over (partition by item_id, depot_id order by d
                    rows between unbounded preceding and current row),
                first_value(k ignore nulls) over (partition by item_id, depot_id order by d
                    rows between current row and unbounded following)
            ) as on_hand
            from anchored
        )"""


def _history(
    reader: GoldReader, where: Where, extra: list[str], grain: Grain, start: date, end: date
) -> list[HistoryPoint]:
    """Demand per period and on-hand at each period's end (see :func:`on_hand_ctes`)."""
    bucket = BUCKET[grain].format(d="d")
    sql = f"""
        with {on_hand_ctes(where.sql, "$start")},
        daily as (
            select d, sum(demand_qty) as demand_qty, sum(on_hand) as on_hand
            from carried where d between $start and $end group by d
        )
        select {bucket} as period_start, count(*) as days,
            sum(demand_qty) as demand_qty, arg_max(on_hand, d) as on_hand
        from daily group by 1 order by 1
    """
    rows = reader.rows(
        sql,
        tables=["fct_daily_demand", "fct_inventory_snapshot", *extra],
        params={**where.params, "start": start, "end": end},
    )
    return [HistoryPoint.model_validate(r) for r in rows]


def _forecast(
    reader: GoldReader,
    where: Where,
    extra: list[str],
    grain: Grain,
    start: date,
    end: date | None,
    pair: bool,
) -> tuple[date | None, date | None, list[ForecastBand], bool]:
    """The latest forecast run's date, its last target day in [start, end] and its points
    there, summed per period; the band of a sum from the points' moments (a pair's days keep
    the model's own bands)."""
    bucket = BUCKET[grain].format(d="target_date")
    sql = f"""
        with f as (select * from delta_scan($t_fct_forecasts) where {where.sql}),
        latest as (select max(forecast_date) as fd from f),
        per_day as (
            select f.target_date, count(*) as series, sum(yhat) as yhat,
                sum({POINT_VARIANCE_SQL}) as variance,
                sum(yhat_lo_80) as lo80, sum(yhat_hi_80) as hi80,
                sum(yhat_lo_95) as lo95, sum(yhat_hi_95) as hi95
            from f, latest
            where f.forecast_date = latest.fd and f.target_date >= $start
                and ($end is null or f.target_date <= $end)
            group by f.target_date
        )
        select (select fd from latest) as forecast_date, {bucket} as period_start,
            count(*) as days, max(target_date) as last_day, max(series) as series,
            sum(yhat) as yhat,
            sum(variance) as variance, sum(lo80) as lo80, sum(hi80) as hi80,
            sum(lo95) as lo95, sum(hi95) as hi95
        from per_day group by 2 order by 2
    """
    rows = reader.rows(
        sql, tables=["fct_forecasts", *extra], params={**where.params, "start": start, "end": end}
    )
    model_bands = pair and grain == "day"
    points = []
    for r in rows:
        model = (r["yhat"], r["lo80"], r["hi80"], r["lo95"], r["hi95"])
        if model_bands and None not in model:  # a point without bands: from its moments
            band = Band(*model)
        else:
            band = band_from_moments(r["yhat"] or 0.0, r["variance"] or 0.0)
        points.append(
            ForecastBand(
                period_start=r["period_start"],
                days=r["days"],
                series=r["series"],
                yhat=band.yhat,
                yhat_lo_80=band.lo80,
                yhat_hi_80=band.hi80,
                yhat_lo_95=band.lo95,
                yhat_hi_95=band.hi95,
            )
        )
    last_day = rows[-1]["last_day"] if rows else None
    return (rows[0]["forecast_date"] if rows else None), last_day, points, model_bands


# --- one pair from the tables held in memory -------------------------------------------

HELD_TABLES = ("fct_daily_demand", "fct_inventory_snapshot", "fct_forecasts", "fct_reorder_points")
BANDS = ("yhat", "yhat_lo_80", "yhat_hi_80", "yhat_lo_95", "yhat_hi_95")
HISTORY = TypeAdapter(list[HistoryPoint])
BANDS_LIST = TypeAdapter(list[ForecastBand])


def _day(value: date) -> int:
    return (value - EPOCH).days


def _date(day: int) -> date:
    return EPOCH + timedelta(days=int(day))


def _dates(days: np.ndarray) -> list[date]:
    return list(days.astype("datetime64[D]").tolist())


def _bucket(days: np.ndarray, grain: Grain) -> np.ndarray:
    """Each day number's period start: itself, or its ISO week's Monday (1970-01-01 was a
    Thursday)."""
    return days if grain == "day" else days - (days + 3) % 7


def _held_history(
    demand: PairTable, snaps: PairTable, pair: tuple[str, str], grain: Grain, start: date,
    end: date,
) -> list[HistoryPoint] | None:  # fmt: skip
    """:func:`_history` for one pair, the same on-hand rule on its rows (None: a row this
    path does not handle, e.g. a null; the caller asks DuckDB)."""
    rows, snap_rows = demand.pair_rows(*pair), snaps.pair_rows(*pair)
    cols, snap_cols = demand.columns, snaps.columns
    if any(cols[c].has_nulls(rows) for c in cols) or any(
        snap_cols[c].has_nulls(snap_rows) for c in snap_cols
    ):
        return None
    days = cols["demand_date"].data[rows].astype(np.int64)
    snap_days = snap_cols["snapshot_date"].data[snap_rows].astype(np.int64)
    on_hand_at = snap_cols["on_hand"].data[snap_rows].astype(np.int64)
    if (np.diff(days) <= 0).any() or (np.diff(snap_days) <= 0).any():
        return None  # one row per day expected (the facts' key)
    # the last snapshot day on or before start; the days from it (all, without one)
    before = snap_days[snap_days <= _day(start)]
    keep = days >= before.max() if before.size else np.ones(days.size, dtype=bool)
    days = days[keep]
    qty = cols["demand_qty"].data[rows][keep].astype(np.int64)
    net = (
        cols["receipts_qty"].data[rows][keep].astype(np.int64)
        + cols["adjustments_qty"].data[rows][keep].astype(np.int64)
        - qty
    )
    c = np.cumsum(net)
    # k = snapshot - c on snapshot days, carried forward (and backward before the first)
    at = np.searchsorted(snap_days, days)
    inside = at < snap_days.size
    snapped = np.zeros(days.size, dtype=bool)
    snapped[inside] = snap_days[at[inside]] == days[inside]
    k = np.where(snapped, on_hand_at[np.minimum(at, max(snap_days.size - 1, 0))] - c, 0)
    positions = np.arange(days.size)
    last = np.maximum.accumulate(np.where(snapped, positions, -1))
    following = np.where(snapped, positions, days.size)
    first = np.minimum.accumulate(following[::-1])[::-1] if days.size else following
    source = np.where(last >= 0, last, first)
    known = source < days.size
    on_hand = c + k[np.minimum(source, max(days.size - 1, 0))]
    window = (days >= _day(start)) & (days <= _day(end))
    periods = _bucket(days[window], grain)
    qty, on_hand, known = qty[window], on_hand[window], known[window]
    if not periods.size:
        return []
    # days are sorted: each period is a run of rows; its on-hand is that of its last day
    # with one (arg_max skips nulls)
    firsts = np.flatnonzero(np.r_[True, np.diff(periods) != 0])
    lasts = np.r_[firsts[1:], periods.size] - 1
    last_known = np.maximum.accumulate(np.where(known, np.arange(periods.size), -1))[lasts]
    stocked = last_known >= firsts
    stock = on_hand[np.maximum(last_known, 0)]
    # Validated as one list (one call into pydantic-core, not one per point).
    return HISTORY.validate_python([
        {"period_start": p, "days": n, "demand_qty": q, "on_hand": h if ok else None}
        for p, n, q, h, ok in zip(
            _dates(periods[firsts]), (lasts - firsts + 1).tolist(),
            np.add.reduceat(qty, firsts).tolist(), stock.tolist(), stocked.tolist(), strict=True,
        )
    ])  # fmt: skip


def _held_forecast(
    forecasts: PairTable, pair: tuple[str, str], grain: Grain, start: date, end: date | None
) -> tuple[date | None, date | None, list[ForecastBand], bool] | None:
    """:func:`_forecast` for one pair from its held rows (None: a null band or a repeated
    target day; the caller asks DuckDB)."""
    rows = forecasts.pair_rows(*pair)
    cols = forecasts.columns
    runs = cols["forecast_date"].data[rows]
    model_bands = grain == "day"
    if runs.size == 0 or cols["forecast_date"].has_nulls(rows):
        return (None, None, [], model_bands) if runs.size == 0 else None
    latest = int(runs.max())
    chosen = (runs == latest) & cols["target_date"].compare(operator.ge, start, rows)
    if end is not None:
        chosen &= cols["target_date"].compare(operator.le, end, rows)
    idx = np.flatnonzero(chosen) + rows.start
    targets = cols["target_date"].data[idx].astype(np.int64)
    if any(cols[b].has_nulls(idx) for b in BANDS) or (np.diff(targets) <= 0).any():
        return None
    if idx.size == 0:
        return None, None, [], model_bands
    values = {b: cols[b].data[idx] for b in BANDS}
    periods = _bucket(targets, grain)
    if model_bands:  # one day of one pair each: the model's own band
        bands = [Band(*v) for v in zip(*(values[b].tolist() for b in BANDS), strict=True)]
        counts = [1] * len(bands)
    else:
        firsts = np.flatnonzero(np.r_[True, np.diff(periods) != 0])
        stops = np.r_[firsts[1:], periods.size]
        variance = point_variance(*(values[b] for b in BANDS))
        yhat = values["yhat"]
        # summed in order, as the SQL adds one day after another
        bands = [
            band_from_moments(float(sum(yhat[a:b].tolist())), float(sum(variance[a:b].tolist())))
            for a, b in zip(firsts.tolist(), stops.tolist(), strict=True)
        ]
        counts = (stops - firsts).tolist()
        periods = periods[firsts]
    points = BANDS_LIST.validate_python([
        {"period_start": p, "days": n, "series": 1, "yhat": band.yhat, "yhat_lo_80": band.lo80,
         "yhat_hi_80": band.hi80, "yhat_lo_95": band.lo95, "yhat_hi_95": band.hi95}
        for p, n, band in zip(_dates(periods), counts, bands, strict=True)
    ])  # fmt: skip
    return _date(latest), _date(int(targets.max())), points, model_bands


@warm_on_publish
def hold_series_tables(reader: GoldReader) -> object:
    """Load a new version's tables of one-pair series into memory before requests ask."""
    return [held(reader, table) for table in HELD_TABLES]


def held_series(
    reader: GoldReader,
    *,
    principal: Principal,
    item_id: str | None,
    depot_id: str | None,
    category: str | None,
    grain: Grain,
    start: date | None,
    end: date | None,
    load: bool = True,
) -> SeriesPublic | None:
    """:func:`build_series` of one pair from the tables held in memory
    (backend/api/memtables.py), the same figures without a scan; None when they are not
    held or the request is not one visible pair with demand (the caller asks DuckDB)."""
    if item_id is None or depot_id is None or category is not None:
        return None
    if not principal.sees_depot(depot_id):
        return None
    tables = [held(reader, t, load=load) for t in HELD_TABLES]
    demand, snaps, forecasts, reorder = tables
    if demand is None or snaps is None or forecasts is None or reorder is None:
        return None
    pair = (item_id, depot_id)
    rows = demand.pair_rows(*pair)
    if rows.stop == rows.start or demand.columns["demand_date"].has_nulls(rows):
        return None
    last_day = _date(int(demand.columns["demand_date"].data[rows].max()))
    history_end = end or last_day
    history_start = start or date.fromordinal(history_end.toordinal() - DEFAULT_DAYS[grain] + 1)
    history = _held_history(demand, snaps, pair, grain, history_start, history_end)
    forecast = _held_forecast(forecasts, pair, grain, history_start, end)
    if history is None or forecast is None:
        return None
    forecast_date, forecast_end, points, model_bands = forecast
    found = reorder.pair_rows(*pair)
    extra: dict[str, Any] = {}
    if found.stop > found.start:
        last = np.array([found.stop - 1])
        extra = reorder.rows(last, ("as_of_date", "reorder_point", "safety_stock"))[0]
        extra["reorder_as_of_date"] = extra.pop("as_of_date")
    return SeriesPublic(
        group="pair", grain=grain, item_id=item_id, depot_id=depot_id, category=None,
        series_count=1, start_date=history_start,
        end_date=end or max(filter(None, (history_end, forecast_end))),
        history=history, forecast_date=forecast_date,
        band_method="model" if model_bands else "normal_moments", forecast=points, **extra,
    )  # fmt: skip


def build_series(
    reader: GoldReader,
    *,
    principal: Principal,
    item_id: str | None,
    depot_id: str | None,
    category: str | None,
    grain: Grain,
    start: date | None,
    end: date | None,
) -> SeriesPublic:
    where, extra = pair_filters(principal, item_id, depot_id, category)
    meta = reader.rows(
        f"""
        select count(*) as series, max(last_day) as last_day from (
            select item_id, depot_id, max(demand_date) as last_day
            from delta_scan($t_fct_daily_demand) where {where.sql} group by all
        )
        """,
        tables=["fct_daily_demand", *extra],
        params=where.params,
    )
    series = int(meta[0]["series"]) if meta else 0
    if series == 0:
        given = {"item_id": item_id, "depot_id": depot_id, "category": category}
        what = ", ".join(f"{k}={v}" for k, v in given.items() if v is not None) or "any filter"
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no demand series for {what}")
    pair = item_id is not None and depot_id is not None
    history_end = end or meta[0]["last_day"]
    history_start = start or date.fromordinal(history_end.toordinal() - DEFAULT_DAYS[grain] + 1)
    # start after end: empty history and forecast, as the list routes give an empty page
    history = _history(reader, where, extra, grain, history_start, history_end)
    forecast_date, forecast_end, forecast, model_bands = _forecast(
        reader, where, extra, grain, history_start, end, pair=pair
    )
    reorder: dict[str, Any] = {}
    if pair:
        found = reader.rows(
            f"""select as_of_date as reorder_as_of_date, reorder_point, safety_stock
            from delta_scan($t_fct_reorder_points) where {where.sql}
            order by as_of_date desc limit 1""",
            tables=["fct_reorder_points"],
            params=where.params,
        )
        reorder = found[0] if found else {}
    return SeriesPublic(
        group="pair" if pair else "aggregate", grain=grain, item_id=item_id, depot_id=depot_id,
        category=category, series_count=series, start_date=history_start,
        end_date=end or max(filter(None, (history_end, forecast_end))),
        history=history, forecast_date=forecast_date,
        band_method="model" if model_bands else "normal_moments", forecast=forecast, **reorder,
    )  # fmt: skip


@router.get("", response_model=SeriesPublic)
async def get_series(
    lake: LakeDep,
    principal: CurrentPrincipal,
    item_id: Text = None,
    depot_id: Text = None,
    category: Text = None,
    grain: Annotated[Grain, Query(description="Points per day or per ISO week.")] = "day",
    start: StartDate = None,
    end: EndDate = None,
):
    """Demand and on-hand history, the latest forecast with its 80/95% bands and (for a
    pair) the reorder point and safety stock. item_id + depot_id select one pair; any other
    combination of item_id, depot_id and category (or none) sums every series it selects,
    e.g. depot_id alone for a depot, category alone for a category. History defaults to the last 90 days (26
    weeks) up to the latest demand date; the forecast runs from `start` to `end` (default:
    its whole horizon). An aggregate's bands are the aggregate's interval, not the sum of
    the series' quantiles (docs/api-series.md)."""
    params: dict[str, Any] = {
        "item_id": item_id, "depot_id": depot_id, "category": category,
        "grain": grain, "start": start, "end": end, "scope": principal.scope_key,
    }  # fmt: skip

    query: dict[str, Any] = {
        "principal": principal, "item_id": item_id, "depot_id": depot_id,
        "category": category, "grain": grain, "start": start, "end": end,
    }  # fmt: skip

    def build(reader: GoldReader) -> SeriesPublic:
        answer = held_series(reader, **query)
        return answer if answer is not None else build_series(reader, **query)

    def inline(reader: GoldReader) -> SeriesPublic | None:
        return held_series(reader, **query, load=False)

    return await lake.cached("series", params, build, inline=inline)
