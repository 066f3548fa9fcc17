"""Operations KPIs: stock value, open alerts, pairs at risk, fill rate, forecast accuracy,
source freshness and the last run."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any, Generic, TypeVar

import pyarrow.compute as pc
import pyarrow.fs as pafs
from deltalake import DeltaTable
from fastapi import APIRouter, Query

from backend.api.deps import CurrentPrincipal, LakeDep
from backend.api.lake import warm_on_publish
from backend.api.memtables import lake_uri
from backend.api.principal import Principal
from backend.api.routes.common import ERRORS, STRICT, Text
from backend.api.routes.runs import latest_run, list_run_ids, read_report
from backend.api.routes.series import on_hand_ctes
from backend.api.schemas_planner import (
    AccuracyWeek,
    AlertCounts,
    FillRateKpi,
    KpisPublic,
    RiskKpi,
    SlaTierAlerts,
    SourceFreshness,
    StockValuePoint,
)
from backend.lake import delta
from backend.lake.reader import GoldReader
from backend.settings import Settings

log = logging.getLogger(__name__)
router = APIRouter(prefix="/kpis", tags=["kpis"], responses=ERRORS, dependencies=STRICT)

FILL_RATE_DAYS = 30
LATEST_ACTIONS = "as_of_date = (select max(as_of_date) from delta_scan($t_fct_actions))"
PARTITION = delta.PARTITION_COLUMN


TIER_RANK = {"platinum": 0, "gold": 1, "silver": 2}
T = TypeVar("T")


class Recent(Generic[T]):
    """A value read from the lake outside gold (bronze freshness, the last run report), per
    lake, re-read after the response cache's TTL or once a new gold version is published.
    Stale-while-revalidate: once known, a request never waits for a re-read (freshness
    opens every bronze table's log: seconds on the demo lake); a stale value starts one
    re-read in a thread and is served until it lands (for a few seconds after a run)."""

    def __init__(self) -> None:
        self._values: dict[str, tuple[str | None, float, T]] = {}
        self._reading: set[str] = set()
        self._lock = threading.Lock()

    def known(self, settings: Settings) -> bool:
        """Known, so that :meth:`get` answers at once."""
        return lake_uri(settings) in self._values

    def _read(self, settings: Settings, version: str | None, read: Callable[[Settings], T]) -> T:
        try:
            value = read(settings)
            expires = time.monotonic() + settings.cache_ttl_seconds
            self._values[lake_uri(settings)] = (version, expires, value)
            return value
        finally:
            with self._lock:
                self._reading.discard(lake_uri(settings))

    def _refresh(
        self, settings: Settings, version: str | None, read: Callable[[Settings], T]
    ) -> None:
        try:
            self._read(settings, version, read)
        except Exception:  # the stale value stays; the next request tries again
            log.exception("re-reading %s for /kpis failed", getattr(read, "__name__", read))

    def get(self, settings: Settings, version: str | None, read: Callable[[Settings], T]) -> T:
        held = self._values.get(lake_uri(settings))
        if held is None:
            with self._lock:
                self._reading.add(lake_uri(settings))
            return self._read(settings, version, read)
        if held[0] != version or time.monotonic() >= held[1]:
            with self._lock:
                start = lake_uri(settings) not in self._reading
                self._reading.add(lake_uri(settings))
            if start:
                threading.Thread(
                    target=self._refresh, args=(settings, version, read), daemon=True
                ).start()
        return held[2]


@dataclass(frozen=True)
class DepotKpis:
    """What /kpis adds up, per depot, for one gold snapshot: computed once per published
    version (a few grouped scans), so that each request, whatever its depot, scope, months
    and weeks, sums a few hundred small rows instead of scanning the facts again."""

    stock: list[dict[str, Any]]  # depot_id, snapshot_date, stock_value, on_hand
    alerts: list[dict[str, Any]]  # depot_id, sla_tier, critical, warning, total
    risk: list[dict[str, Any]]  # depot_id, pairs, value_at_risk
    fill: list[
        dict[str, Any]
    ]  # depot_id, start_date, end_date, issued_qty, stockout_days, lost_qty
    fill_all: dict[str, Any]  # the same over every depot (their common anchor snapshot)
    weeks: list[dict[str, Any]]  # depot_id, week_start, points, actual/forecast qty, abs_error
    last_target: dict[str, date]  # depot_id -> latest target date with a known actual


def _stock_rows(reader: GoldReader) -> list[dict[str, Any]]:
    return reader.rows(
        """
        select depot_id, snapshot_date, sum(stock_value) as stock_value, sum(on_hand) as on_hand
        from delta_scan($t_fct_inventory_snapshot) group by all
        """,
        tables=["fct_inventory_snapshot"],
    )


def _alert_rows(reader: GoldReader) -> list[dict[str, Any]]:
    """The latest work list's alerted lines per depot and worst SLA tier (the
    acknowledgement state from the app database will narrow "open" later)."""
    return reader.rows(
        f"""
        select depot_id, worst_sla_tier as sla_tier,
            count(*) filter (where severity = 'critical') as critical,
            count(*) filter (where severity = 'warning') as warning,
            count(*) as total
        from delta_scan($t_fct_actions)
        where {LATEST_ACTIONS} and alert_id is not null
        group by all
        """,
        tables=["fct_actions"],
    )


def _risk_rows(reader: GoldReader) -> list[dict[str, Any]]:
    return reader.rows(
        f"""
        with a as (select * from delta_scan($t_fct_actions) where {LATEST_ACTIONS}),
        r as (
            select item_id, depot_id, as_of_date, lead_time_days
            from delta_scan($t_fct_reorder_points)
        )
        select depot_id, count(*) as pairs, sum(a.value_at_risk) as value_at_risk
        from a join r using (item_id, depot_id, as_of_date)
        where a.days_to_stockout <= r.lead_time_days
        group by depot_id
        """,
        tables=["fct_actions", "fct_reorder_points"],
    )


def _fill_rows(reader: GoldReader, *, by_depot: bool) -> list[dict[str, Any]]:
    """Issued / (issued + lost) over the last FILL_RATE_DAYS demand days, per depot or
    over all; a pair-day is a stock-out when it opened with nothing on hand and received
    nothing, and loses the pair's average daily demand."""
    latest = "(select max(demand_date) from delta_scan($t_fct_daily_demand))"
    group = ("depot_id, ", "group by depot_id") if by_depot else ("", "")
    return reader.rows(
        f"""
        with {on_hand_ctes("true", f"{latest} - $days", by_depot=by_depot)},
        opened as (
            select *, lag(on_hand) over (partition by item_id, depot_id order by d) as at_open
            from carried
        ),
        demand_rate as (
            select item_id, depot_id, arg_max(avg_daily_demand, as_of_date) as rate
            from delta_scan($t_fct_reorder_points) group by all
        ),
        window_days as (
            select opened.*, coalesce(at_open <= 0 and receipts_qty = 0, false) as stockout,
                demand_rate.rate
            from opened left join demand_rate using (item_id, depot_id)
            where d > {latest} - $days
        )
        select {group[0]}min(d) as start_date, max(d) as end_date,
            coalesce(sum(demand_qty), 0) as issued_qty,
            count(*) filter (where stockout) as stockout_days,
            coalesce(sum(rate) filter (where stockout), 0) as lost_qty
        from window_days {group[1]}
        """,
        tables=["fct_daily_demand", "fct_inventory_snapshot", "fct_reorder_points"],
        params={"days": FILL_RATE_DAYS},
    )


def _week_rows(reader: GoldReader) -> list[dict[str, Any]]:
    return reader.rows(
        """
        select depot_id, cast(date_trunc('week', target_date) as date) as week_start,
            count(*) as points, sum(actual_qty) as actual_qty, sum(yhat) as forecast_qty,
            sum(abs_error) as abs_error, max(target_date) as last_target
        from delta_scan($t_fct_forecasts) where actual_qty is not null
        group by all
        """,
        tables=["fct_forecasts"],
    )


def depot_kpis(reader: GoldReader) -> DepotKpis:
    """The per-depot figures of ``reader``'s snapshot (see :class:`DepotKpis`)."""
    weeks = _week_rows(reader)
    last: dict[str, date] = {}
    for w in weeks:
        depot, day = w.pop("depot_id"), w.pop("last_target")
        w["depot_id"] = depot
        last[depot] = max(last.get(depot, day), day)
    fill_all = _fill_rows(reader, by_depot=False)
    return DepotKpis(
        stock=_stock_rows(reader),
        alerts=_alert_rows(reader),
        risk=_risk_rows(reader),
        fill=_fill_rows(reader, by_depot=True),
        fill_all=fill_all[0] if fill_all else {},
        weeks=weeks,
        last_target=last,
    )


class _PerVersion:
    """:func:`depot_kpis` of the two latest snapshots asked for; readers of the lake's
    latest tables (not pinned) compute it each time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done: dict[tuple[str, tuple[tuple[str, int], ...]], DepotKpis] = {}
        self._building: dict[tuple[str, tuple[tuple[str, int], ...]], threading.Lock] = {}

    @staticmethod
    def key(reader: GoldReader) -> tuple[str, tuple[tuple[str, int], ...]] | None:
        if reader.versions is None:
            return None
        pinned = tuple(sorted((t, v) for t, v in reader.versions.items() if t in KPI_TABLES))
        return lake_uri(reader.settings), pinned

    def ready(self, reader: GoldReader) -> DepotKpis | None:
        key = self.key(reader)
        return self._done.get(key) if key is not None else None

    def get(self, reader: GoldReader) -> DepotKpis:
        key = self.key(reader)
        if key is None:
            return depot_kpis(reader)
        done = self._done.get(key)
        if done is not None:
            return done
        with self._lock:
            building = self._building.setdefault(key, threading.Lock())
        with building:  # one worker computes a version; the others wait for it
            done = self._done.get(key)
            if done is None:
                done = depot_kpis(reader)
                with self._lock:
                    self._done[key] = done
                    for old in list(self._done)[:-2]:
                        del self._done[old]
                    self._building.pop(key, None)
            return done


PER_VERSION = _PerVersion()
KPI_TABLES = frozenset(
    {"fct_inventory_snapshot", "fct_actions", "fct_reorder_points", "fct_daily_demand",
     "fct_forecasts"}
)  # fmt: skip


def _depots(principal: Principal, depot_id: str | None) -> frozenset[str] | None:
    """The depots a request sums; None: every depot (an unscoped caller, no depot_id)."""
    if depot_id is None:
        return frozenset(principal.depots) if principal.depots is not None else None
    return frozenset({depot_id}) if principal.sees_depot(depot_id) else frozenset()


def _mine(rows: list[dict[str, Any]], depots: frozenset[str] | None) -> list[dict[str, Any]]:
    return rows if depots is None else [r for r in rows if r["depot_id"] in depots]


def _total(values: Iterable[Any]) -> Any:
    """SQL ``sum``: nulls skipped, null when nothing is left."""
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def stock_by_month(
    kpis: DepotKpis, depots: frozenset[str] | None, months: int
) -> list[StockValuePoint]:
    """Each month's last snapshot day, the latest ``months`` of them."""
    per_day: dict[date, list[Any]] = {}
    for r in _mine(kpis.stock, depots):
        per_day.setdefault(r["snapshot_date"], []).append(r)
    month_end: dict[tuple[int, int], date] = {}
    for day in per_day:
        month = (day.year, day.month)
        month_end[month] = max(month_end.get(month, day), day)
    chosen = sorted(month_end.values(), reverse=True)[:months]
    return [
        StockValuePoint(
            month=day.replace(day=1),
            snapshot_date=day,
            stock_value=_total(r["stock_value"] for r in per_day[day]) or 0,
            on_hand=_total(r["on_hand"] for r in per_day[day]) or 0,
        )
        for day in reversed(chosen)
    ]


def open_alerts(kpis: DepotKpis, depots: frozenset[str] | None) -> list[SlaTierAlerts]:
    tiers: dict[str | None, dict[str, int]] = {}
    for r in _mine(kpis.alerts, depots):
        counts = tiers.setdefault(r["sla_tier"], {"critical": 0, "warning": 0, "total": 0})
        for level in counts:
            counts[level] += r[level]
    order = sorted(tiers, key=lambda t: (TIER_RANK.get(t or "", 3), t is None, t or ""))
    return [SlaTierAlerts(sla_tier=t, **tiers[t]) for t in order]


def at_risk(kpis: DepotKpis, depots: frozenset[str] | None) -> RiskKpi:
    rows = _mine(kpis.risk, depots)
    return RiskKpi(
        pairs=sum(r["pairs"] for r in rows),
        value_at_risk=_total(r["value_at_risk"] for r in rows) or 0.0,
    )


def fill_rate(kpis: DepotKpis, depots: frozenset[str] | None) -> FillRateKpi:
    if depots is None:
        rows = [kpis.fill_all] if kpis.fill_all else []
    else:
        rows = _mine(kpis.fill, depots)
    starts = [r["start_date"] for r in rows if r["start_date"] is not None]
    ends = [r["end_date"] for r in rows if r["end_date"] is not None]
    issued = sum(r["issued_qty"] for r in rows)
    lost = sum(r["lost_qty"] for r in rows)
    demanded = issued + lost
    return FillRateKpi(
        start_date=min(starts) if starts else None,
        end_date=max(ends) if ends else None,
        issued_qty=issued,
        stockout_days=sum(r["stockout_days"] for r in rows),
        lost_qty=lost,
        fill_rate=issued / demanded if demanded > 0 else None,
    )


def accuracy_by_week(
    kpis: DepotKpis, depots: frozenset[str] | None, weeks: int
) -> list[AccuracyWeek]:
    """Weeks up to that of the latest target date with an actual, the last ``weeks``."""
    lasts = [d for depot, d in kpis.last_target.items() if depots is None or depot in depots]
    if not lasts:
        return []
    ref = max(lasts)
    first = ref - timedelta(days=ref.weekday() + 7 * weeks)  # weeks after this Monday
    per_week: dict[date, list[dict[str, Any]]] = {}
    for r in _mine(kpis.weeks, depots):
        if r["week_start"] > first:
            per_week.setdefault(r["week_start"], []).append(r)
    out = []
    for week in sorted(per_week):
        rows = per_week[week]
        actual = _total(r["actual_qty"] for r in rows)
        forecast = _total(r["forecast_qty"] for r in rows)
        error = _total(r["abs_error"] for r in rows)
        out.append(
            AccuracyWeek(
                week_start=week,
                points=sum(r["points"] for r in rows),
                actual_qty=actual,
                forecast_qty=forecast,
                wape=error / actual if error is not None and actual else None,
                bias=(forecast - actual) / actual if forecast is not None and actual else None,
            )
        )
    return out


JUDGED = ("status", "age_days", "max_age_days")


def latest_freshness(settings: Settings) -> dict[str, dict[str, Any]]:
    """Each source's freshness as the newest readable run report judged it."""
    for run_id in list_run_ids(settings):
        report = read_report(settings, run_id)
        if report is not None:
            return dict(report.get("freshness") or {})
    return {}


def freshness(settings: Settings) -> list[SourceFreshness]:
    """Per bronze source: the newest ``_ingest_date`` partition of each table, from the
    Delta log (no data read), then the latest ``_ingested_at`` inside that partition only.
    (The log's column statistics would be cheaper still, but delta-rs keeps them for the
    first 32 columns only, and the audit columns come last.) With each, its status as the
    latest run report judged it on that run's date (backend/pipeline/freshness.py)."""
    root = delta.table_uri("bronze", settings=settings)
    options = delta.storage_options(settings)
    judged = latest_freshness(settings)
    out = []
    for source in delta.list_dir(root, settings):
        if source.type != pafs.FileType.Directory:
            continue
        tables, newest_day, newest_at = 0, None, None
        for entity in delta.list_dir(f"{root}/{source.base_name}", settings):
            uri = f"{root}/{source.base_name}/{entity.base_name}"
            if entity.type != pafs.FileType.Directory or not delta.table_exists(uri, settings):
                continue
            tables += 1
            table = DeltaTable(uri, storage_options=options)
            days = [p[PARTITION] for p in table.partitions() if p.get(PARTITION)]
            if not days:
                continue
            day = date.fromisoformat(max(days))
            loaded = table.to_pyarrow_table(
                filters=[(PARTITION, "=", day)], columns=["_ingested_at"]
            )
            at = pc.max(loaded["_ingested_at"]).as_py() if loaded.num_rows else None
            newest_day = day if newest_day is None else max(newest_day, day)
            if at is not None and (newest_at is None or at > newest_at):
                newest_at = at
        out.append(
            SourceFreshness(
                source=source.base_name,
                tables=tables,
                latest_ingest_date=newest_day,
                latest_ingested_at=newest_at.isoformat() if newest_at else None,
                **{k: judged.get(source.base_name, {}).get(k) for k in JUDGED},
            )
        )
    return sorted(out, key=lambda s: s.source)


def build_kpis(
    reader: GoldReader,
    *,
    principal: Principal,
    depot_id: str | None,
    months: int,
    weeks: int,
    kpis: DepotKpis | None = None,
) -> KpisPublic:
    """/kpis for one depot, or every depot the caller may see, from the snapshot's
    per-depot figures (``kpis``; computed, or taken from this version's, when not given)."""
    figures = kpis if kpis is not None else PER_VERSION.get(reader)
    version = _version_of(reader)
    depots = _depots(principal, depot_id)
    by_month = stock_by_month(figures, depots, months)
    tiers = open_alerts(figures, depots)
    counts: dict[str, Any] = {
        level: sum(getattr(t, level) for t in tiers) for level in ("critical", "warning", "total")
    }
    return KpisPublic(
        depot_id=depot_id,
        as_of_date=by_month[-1].snapshot_date if by_month else None,
        stock_value=by_month[-1].stock_value if by_month else 0.0,
        stock_value_by_month=by_month,
        open_alerts=AlertCounts(**counts),
        open_alerts_by_sla_tier=tiers,
        at_risk=at_risk(figures, depots),
        fill_rate=fill_rate(figures, depots),
        accuracy_by_week=accuracy_by_week(figures, depots, weeks),
        freshness=FRESHNESS.get(reader.settings, version, freshness),
        last_run=LAST_RUN.get(reader.settings, version, latest_run),
    )


FRESHNESS: Recent[list[SourceFreshness]] = Recent()
LAST_RUN: Recent[Any] = Recent()


def _version_of(reader: GoldReader) -> str | None:
    """The pinned snapshot, as a key (None for a reader of the latest tables)."""
    return repr(sorted(reader.versions.items())) if reader.versions is not None else None


@warm_on_publish
def warm_kpis(reader: GoldReader) -> object:
    """A new version's per-depot figures. (Freshness and the last run are read by the
    first request: they are no part of gold.)"""
    return PER_VERSION.get(reader)


@router.get("", response_model=KpisPublic)
async def get_kpis(
    lake: LakeDep,
    principal: CurrentPrincipal,
    depot_id: Text = None,
    months: Annotated[int, Query(ge=1, le=60, description="Months of stock value history.")] = 12,
    weeks: Annotated[int, Query(ge=1, le=104, description="Weeks of forecast accuracy.")] = 12,
):
    """Stock value now and by month, open alerts by severity and SLA tier, pairs at risk
    within their lead time, the 30-day fill rate, forecast accuracy by week, each source's
    freshness and the last run's status; for one depot or all the caller may see."""
    params = {"depot_id": depot_id, "months": months, "weeks": weeks}
    params["scope"] = principal.scope_key

    def build(reader: GoldReader) -> KpisPublic:
        return build_kpis(reader, principal=principal, depot_id=depot_id, months=months,
                          weeks=weeks)  # fmt: skip

    def inline(reader: GoldReader) -> KpisPublic | None:
        """Sums of this version's per-depot figures, once a worker computed them."""
        figures = PER_VERSION.ready(reader)
        settings = reader.settings
        if figures is None or not (FRESHNESS.known(settings) and LAST_RUN.known(settings)):
            return None
        return build_kpis(reader, principal=principal, depot_id=depot_id, months=months,
                          weeks=weeks, kpis=figures)  # fmt: skip

    return await lake.cached("kpis", params, build, inline=inline)
