"""An honest replay: three reorder policies on the demo's true demand, last 365 days.

Builds the demo ERP in memory with its true demand (`build_demo_frames_with_truth`: the
demand as asked, met or lost; evaluation only, nothing in the pipeline reads it; not
timed) and replays the last 365 days day by day (`ml.policy_replay`, lost sales) under:

* oracle: the ERP's min/max as the demo stores it (item master `min_stock`/`max_stock`,
  which the generator computes from the true demand parameters; ordering at least the MOQ);
* rule of thumb: what a planner computes from the recorded history only: min = the last
  12 months' average daily consumption x lead time x 1.5, max = min + 30 days of it,
  revised yearly (once, at the start of the window), ordering at least the MOQ;
* policy: the rule fct_reorder_points runs. Target level per pair from the SLA tiers of
  the towers it served in the last 365 days (seed `dbt/seeds/sla_service_levels.csv`, the
  category seed as the floor), then the value adjustment of
  `ml.inventory.value_aware_service_levels` (the pair's stockout risk per cycle scaled by
  unit cost x economic cycle days over the median pair's, within [0.5, 0.999], on the
  grid of the seed `normal_quantiles`); daily demand distribution from the trailing 365
  days with stockout days left out and stockout-cut days treated as censored
  (`ml.censoring`; the marts use the forecast instead); reorder point = the normal
  lead-time demand quantile, except for the classes a backtest on the year before the
  window chooses, which take the empirical lead-time demand of `ml.lead_time_demand`
  (`--lead-time backtest`, the default: fct_reorder_points does the same for the
  intermittent and lumpy pairs; `--lead-time normal`: the normal model everywhere);
  order-up-to = reorder point + max(economic cycle of demand, MOQ), MOQ multiples; re-estimated at the start of every month from data
  before it only. The SLA targets alone (the previous rule) are replayed for reference.

Every policy faces the same true demand, the same start stock (on hand + on order in the
ERP's snapshot the day before the window) and the same lead time per order day (drawn from
the supplier's mean/std, seeded). The policy's rule is also replayed with every pair's
stockout risk scaled by 0.25 ... 128, then with every pair at 50% ... 20% (negative safety
stock, below the marts' floor): its inventory-versus-fill-rate frontier, on which the
comparators are read at their own fill rate.

Targets: every SLA tier's fill rate >= its seed service level; at the rule of thumb's fill
rate >= 25% less average inventory value than it; at the oracle's fill rate <= 5% more.

    uv run --no-sync python benchmarks/inventory_policy.py [--items 300 --depots 4]
        [--json out.json] [--png docs/inventory_frontier.png]
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from ml.policy_replay import Replay

WINDOW_DAYS = 365
HISTORY_DAYS = 365
ORDER_CYCLE_DAYS = 30.0
THUMB_SAFETY = 1.5
ORDER_COST = 150.0  # R$ per purchase order line (dbt var order_cost)
HOLDING_RATE = 0.25  # share of the unit cost a unit costs to hold for a year
DRAWS = 400
# Frontier points. "policy": the rule the marts run (ml.inventory.value_aware_service_levels)
# with every pair's stockout risk per cycle multiplied by a risk scale (1 = the policy);
# (scale, lowest level): the last points also lower the floor of 0.5 (negative safety
# stock) to reach the oracle's fill rate. "uniform": one service level for every pair.
FRONTIER: dict[str, tuple[tuple[float, float], ...]] = {
    "policy": (
        (0.25, 0.5), (0.5, 0.5), (1.0, 0.5), (2.0, 0.5), (4.0, 0.5), (8.0, 0.5), (16.0, 0.5),
        (32.0, 0.5), (48.0, 0.5), (64.0, 0.5), (96.0, 0.5), (128.0, 0.5), (1e6, 0.5), (1e6, 0.45), (1e6, 0.4), (1e6, 0.3), (1e6, 0.2),
    ),
    "uniform": tuple((lv, 0.0) for lv in (0.30, 0.50, 0.70, 0.80, 0.90, 0.95, 0.98, 0.99, 0.995)),
}  # fmt: skip
SEEDS = Path(__file__).resolve().parents[1] / "dbt" / "seeds"
TIERS = ("platinum", "gold", "silver", "none")


@dataclass(frozen=True)
class Data:
    """Arrays have one row per stocked item x depot pair; days index the whole history."""

    recorded: np.ndarray  # recorded consumption (censored by stock)
    available: np.ndarray  # stock at the start of each day (after receipts), from the ledger
    true_demand: np.ndarray  # demand as asked (evaluation only)
    first_day: np.ndarray
    window_start: int
    month_starts: list[int]
    start_stock: np.ndarray
    unit_cost: np.ndarray
    lead_time: np.ndarray
    min_order_qty: np.ndarray
    min_stock: np.ndarray
    max_stock: np.ndarray
    lt_mean: np.ndarray
    lt_std: np.ndarray
    category_level: np.ndarray
    tier_towers: dict[str, np.ndarray]  # towers of each tier served (365 days before)
    tier_share: dict[str, np.ndarray]  # share of the pair's units those towers consumed
    n_items: int
    n_depots: int


def _matrix(
    frame: pd.DataFrame,
    key: pd.MultiIndex,
    day0: pd.Timestamp,
    n: int,
    days: int,
    col: str,
    date_col: str,
) -> np.ndarray:
    import pandas as pd

    g = frame.groupby(["item_id", "depot_id", date_col])[col].sum().reset_index()
    row = key.get_indexer(pd.MultiIndex.from_frame(g[["item_id", "depot_id"]]))
    day = (g[date_col] - day0).dt.days.to_numpy()
    keep = (row >= 0) & (day >= 0) & (day < days)
    out = np.zeros((n, days))
    np.add.at(out, (row[keep], day[keep]), g[col].to_numpy(float)[keep])
    return out


def _load(args: argparse.Namespace) -> Data:
    import pandas as pd

    from backend.demo.erp import DemoConfig, build_demo_frames_with_truth

    defaults = DemoConfig()
    cfg = DemoConfig(
        items=args.items or defaults.items,
        depots=args.depots or defaults.depots,
        towers=args.towers or defaults.towers,
    )
    frames, truth = build_demo_frames_with_truth(cfg)
    items = frames["items"].set_index("item_id")
    suppliers = frames["suppliers"].set_index("supplier_id")
    mv = frames["stock_movements"].drop_duplicates()  # double postings are exact copies
    mv = mv[mv["item_id"].isin(items.index)]
    # invalid copies of consumptions (non-positive quantity) are quarantined by the pipeline
    mv = mv[(mv["movement_type"] != "consumption") | (mv["quantity"] > 0)]
    end = pd.Timestamp(cfg.end_date)
    days = cfg.years * 365
    start = end - pd.Timedelta(days=WINDOW_DAYS - 1)
    day0 = end - pd.Timedelta(days=days - 1)
    w0 = int((start - day0).days)

    snaps = frames["inventory_snapshots"]
    snap = snaps[snaps["snapshot_date"] == start - pd.Timedelta(days=1)].reset_index(drop=True)
    pairs = snap[["item_id", "depot_id"]]
    key = pd.MultiIndex.from_frame(pairs)
    n = len(pairs)

    cons = mv[mv["movement_type"] == "consumption"]
    recorded = _matrix(cons, key, day0, n, days, "quantity", "movement_date")
    receipts = _matrix(
        mv[mv["movement_type"] == "receipt"], key, day0, n, days, "quantity", "movement_date"
    )
    adjust = _matrix(
        mv[mv["movement_type"] == "adjustment"], key, day0, n, days, "quantity", "movement_date"
    )
    # end-of-day stock from the ledger, anchored on the snapshot the day before the window
    net = np.cumsum(receipts - recorded + adjust, axis=1)
    end_stock = snap["on_hand"].to_numpy(float)[:, None] + net - net[:, w0 - 1 : w0]
    prev_end = np.concatenate([end_stock[:, :1] - (net[:, :1]), end_stock[:, :-1]], axis=1)
    available = prev_end + receipts
    true_demand = _matrix(truth, key, day0, n, days, "quantity", "demand_date")

    first = mv.groupby(["item_id", "depot_id"])["movement_date"].min()
    first_day = ((first.reindex(key) - day0).dt.days).fillna(0).to_numpy(np.int64)

    # SLA exposure: towers of each tier that consumed the item from the depot in the
    # 365 days before the window
    towers = frames["towers"].set_index("tower_id")["sla_tier"]
    used = cons[
        (cons["movement_date"] < start)
        & (cons["movement_date"] >= start - pd.Timedelta(days=365))
        & cons["tower_id"].notna()
    ][["item_id", "depot_id", "tower_id"]].drop_duplicates()
    used = used.assign(tier=used["tower_id"].map(towers))
    tier_towers = {}
    for tier in TIERS[:3]:
        c = used[used["tier"] == tier].groupby(["item_id", "depot_id"]).size()
        tier_towers[tier] = c.reindex(key).fillna(0).to_numpy(np.int64)
    # share of each pair's consumption (units) that went to towers of each tier
    year = cons[
        (cons["movement_date"] < start) & (cons["movement_date"] >= start - pd.Timedelta(days=365))
    ]
    year = year.assign(tier=year["tower_id"].map(towers))
    total = year.groupby(["item_id", "depot_id"])["quantity"].sum().reindex(key)
    tier_share = {}
    for tier in TIERS[:3]:
        q = year[year["tier"] == tier].groupby(["item_id", "depot_id"])["quantity"].sum()
        tier_share[tier] = (q.reindex(key) / total).fillna(0).to_numpy(float)

    it = items.loc[pairs["item_id"]]
    sup = suppliers.loc[it["supplier_id"]]
    levels = pd.read_csv(SEEDS / "service_levels.csv").set_index("category")["service_level"]
    return Data(
        recorded=recorded,
        available=available,
        true_demand=true_demand,
        first_day=first_day,
        window_start=w0,
        month_starts=sorted(
            {int((m - day0).days) for m in [start, *pd.date_range(start, end, freq="MS")]}
        ),
        start_stock=(snap["on_hand"] + snap["on_order"]).to_numpy(float),
        unit_cost=it["unit_cost"].to_numpy(float),
        lead_time=it["lead_time_days"].to_numpy(float),
        min_order_qty=it["min_order_qty"].to_numpy(float),
        min_stock=it["min_stock"].to_numpy(float),
        max_stock=it["max_stock"].to_numpy(float),
        lt_mean=sup["lead_time_mean_days"].to_numpy(float),
        lt_std=sup["lead_time_std_days"].to_numpy(float),
        category_level=it["category"].map(levels).fillna(levels["default"]).to_numpy(float),
        tier_towers=tier_towers,
        tier_share=tier_share,
        n_items=cfg.items,
        n_depots=cfg.depots,
    )


def _sla_levels(data: Data) -> tuple[np.ndarray, np.ndarray]:
    """(service level, worst tier exposed) per pair, by ml.inventory's rule."""
    import pandas as pd

    from ml.inventory import TierLevel, service_level_from_exposure

    seed = pd.read_csv(SEEDS / "sla_service_levels.csv").set_index("sla_tier")
    tiers = {
        str(t): TierLevel(float(r.service_level), int(r.many_towers), float(r.service_level_many))
        for t, r in seed.iterrows()
    }
    n = data.category_level.size
    level = np.empty(n)
    worst = np.full(n, "none", dtype=object)
    for i in range(n):
        counts = {t: int(data.tier_towers[t][i]) for t in TIERS[:3]}
        level[i], _ = service_level_from_exposure(float(data.category_level[i]), counts, tiers)
        worst[i] = next((t for t in TIERS[:3] if counts[t] > 0), "none")
    return level, worst


def _estimate(data: Data, at: int) -> np.ndarray:
    """Unconstrained daily-demand pmf per pair from [at - HISTORY_DAYS, at)."""
    from ml.censoring import unconstrained_pmf

    lo = max(at - HISTORY_DAYS, 0)
    valid = np.arange(lo, at)[None, :] >= data.first_day[:, None]
    return unconstrained_pmf(data.recorded[:, lo:at], data.available[:, lo:at], valid)


def _estimate_mean(data: Data, at: int) -> np.ndarray:
    from ml.censoring import pmf_moments

    return pmf_moments(_estimate(data, at))[0]


def _classes(pmf_recorded: np.ndarray) -> np.ndarray:
    """Syntetos-Boylan class per pair from its daily-demand pmf (ADI, CV2 of sizes)."""
    from ml.classify import ADI_CUTOFF, CV2_CUTOFF

    k = np.arange(pmf_recorded.shape[1], dtype=float)
    p_day = 1.0 - pmf_recorded[:, 0]
    adi = np.divide(1.0, p_day, out=np.full_like(p_day, np.inf), where=p_day > 0)
    nz = pmf_recorded.copy()
    nz[:, 0] = 0
    tot = np.maximum(nz.sum(axis=1), 1e-12)
    m1 = nz @ k / tot
    m2 = nz @ (k**2) / tot
    cv2 = np.divide(m2 - m1**2, m1**2, out=np.zeros_like(m1), where=m1 > 0)
    lumpy = cv2 >= CV2_CUTOFF
    return np.where(
        adi < ADI_CUTOFF,
        np.where(lumpy, "erratic", "smooth"),
        np.where(lumpy, "lumpy", "intermittent"),
    )


@dataclass
class Estimates:
    d: np.ndarray
    normal_std: np.ndarray  # demand std over the lead time (normal model)
    samples: np.ndarray | None  # bootstrap lead-time demand of the sampled pairs
    sampled: np.ndarray  # indices of the pairs sampled


def _estimates(data: Data, at: int, sampled: np.ndarray, rng: np.random.Generator) -> Estimates:
    from ml import inventory
    from ml.censoring import pmf_moments
    from ml.lead_time_demand import sample_lead_time_demand

    pmf = _estimate(data, at)
    d, sd = pmf_moments(pmf)
    std_lt = inventory.demand_std_lead_time(d, sd, data.lead_time, data.lt_std)
    samples = None
    if sampled.size:
        samples = sample_lead_time_demand(
            pmf[sampled], data.lead_time[sampled], data.lt_std[sampled], 0, DRAWS, rng
        )
    return Estimates(d=d, normal_std=std_lt, samples=samples, sampled=sampled)


def _reorder_points(
    data: Data,
    est: Estimates,
    level: np.ndarray,
    use_boot: np.ndarray,
    order_qty: np.ndarray | None = None,
) -> np.ndarray:
    """The reorder point that meets ``level`` both as a cycle service level (quantile of
    the lead-time demand) and, with ``order_qty``, as a fill rate (expected units short per
    cycle <= (1 - level) x order quantity): the larger of the two."""
    from ml import inventory
    from ml.lead_time_demand import fill_rate_reorder_points, row_quantiles

    z = inventory.z_scores(np.clip(level, 0.0005, 0.9995))
    if order_qty is not None:
        z = np.maximum(z, inventory.fill_rate_safety_factor(est.normal_std, order_qty, level))
    rop = inventory.reorder_point(est.d, data.lead_time, z * est.normal_std)
    if est.samples is not None:
        lv = level[est.sampled]
        boot = row_quantiles(est.samples, lv)
        if order_qty is not None:
            boot = np.maximum(
                boot, fill_rate_reorder_points(est.samples, order_qty[est.sampled], lv)
            )
        pick = use_boot[est.sampled]
        rop[est.sampled[pick]] = boot[pick]
    # levels below 0.5 (the frontier's extension only) can take d x L - |z| sigma below 0
    return np.maximum(rop, 0.0)


def _backtest(
    data: Data, level: np.ndarray, classes: np.ndarray, rng: np.random.Generator
) -> tuple[dict[str, bool], list[tuple[str, ...]]]:
    """On the year before the window, per class of the sampled pairs: coverage of the
    recorded lead-time demand by the normal and the bootstrap reorder points. The
    bootstrap is chosen for a class when its coverage error is the smaller."""
    w0 = data.window_start
    origins = [w0 - 365 + k * 91 for k in range(4)]
    sampled = np.flatnonzero(np.isin(classes, ("intermittent", "lumpy")))
    hits: dict[str, dict[str, list[float]]] = {}
    lead = np.maximum(np.rint(data.lead_time), 1).astype(np.int64)
    csum = np.concatenate(
        [np.zeros((data.recorded.shape[0], 1)), np.cumsum(data.recorded, axis=1)], axis=1
    )
    rows = np.arange(data.recorded.shape[0])
    for o in origins:
        est = _estimates(data, o, sampled, rng)
        live = data.first_day <= o - 30
        stop = np.minimum(o + lead, w0)
        realised = csum[rows, stop] - csum[rows, o]
        full = (o + lead) <= w0
        for method, use in (
            ("normal", np.zeros(level.size, bool)),
            ("bootstrap", np.ones(level.size, bool)),
        ):
            rop = _reorder_points(data, est, level, use)
            for cls in ("intermittent", "lumpy"):
                m = live & full & (classes == cls)
                m[~np.isin(rows, sampled)] = False
                covered = (realised[m] <= rop[m]).mean() if m.any() else np.nan
                hits.setdefault(cls, {}).setdefault(method, []).append(float(covered))
    choice: dict[str, bool] = {}
    table: list[tuple[str, ...]] = []
    for cls, by in hits.items():
        target = float(level[classes == cls].mean())
        cov = {k: float(np.nanmean(v)) for k, v in by.items()}
        choice[cls] = abs(cov["bootstrap"] - target) < abs(cov["normal"] - target)
        table.append(
            (cls, f"{target:.2%}", f"{cov['normal']:.2%}", f"{cov['bootstrap']:.2%}",
             "bootstrap" if choice[cls] else "normal")
        )  # fmt: skip
    return choice, table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, help="demo items (default: the demo's 2000)")
    parser.add_argument("--depots", type=int, help="demo depots (default 8)")
    parser.add_argument("--towers", type=int, help="demo towers (default 600)")
    parser.add_argument("--seed", type=int, default=7, help="seed of lead-time and bootstrap draws")
    parser.add_argument(
        "--cycle",
        choices=("economic", "fixed"),
        default="economic",
        help="order cycle: economic (EOQ days) or a fixed 30 days",
    )
    parser.add_argument(
        "--fill-rule",
        action="store_true",
        help="reorder points also meet the level as a fill rate (P2 rule)",
    )
    parser.add_argument(
        "--frontier",
        choices=("policy", "uniform"),
        default="policy",
        help="frontier: the policy's rule at other risk scales (default) or one level for all",
    )
    parser.add_argument(
        "--lead-time",
        choices=("normal", "backtest"),
        default="backtest",
        help="lead-time demand: the empirical one for the classes a backtest chooses, as "
        "fct_reorder_points runs it for intermittent and lumpy pairs (default), or normal "
        "for every pair",
    )
    parser.add_argument("--json", type=Path, help="write every figure to this JSON file")
    parser.add_argument("--png", type=Path, help="plot the frontier to this PNG")
    args = parser.parse_args()

    from rich.console import Console
    from rich.table import Table

    from ml.policy_replay import replay

    console = Console(width=160)
    began = time.perf_counter()
    data = _load(args)
    loaded = time.perf_counter()
    w0 = data.window_start
    demand = data.true_demand[:, w0 : w0 + WINDOW_DAYS]
    recorded = data.recorded[:, w0 : w0 + WINDOW_DAYS]
    n = demand.shape[0]
    cost = data.unit_cost
    rng = np.random.default_rng(args.seed)
    lead = np.maximum(
        1, np.round(rng.normal(data.lt_mean[:, None], data.lt_std[:, None], (n, WINDOW_DAYS)))
    ).astype(np.int64)
    common = {
        "lead_time": lead,
        "start_on_hand": data.start_stock,
        "min_order_qty": data.min_order_qty,
    }

    sla_level, worst = _sla_levels(data)
    classes = _classes(_estimate(data, w0))
    choice, backtest_rows = _backtest(
        data, sla_level, classes, np.random.default_rng(args.seed + 1)
    )
    use_boot = np.array([choice.get(c, False) for c in classes])
    if args.lead_time == "normal":  # the normal model everywhere (the marts before issue 14)
        use_boot[:] = False

    # the policy's levels at every month start, for the SLA levels and the frontier's
    starts = data.month_starts
    month_of_day = (
        np.searchsorted(np.array(starts), np.arange(w0, w0 + WINDOW_DAYS), side="right") - 1
    )

    def cycle_days(d: np.ndarray) -> np.ndarray:
        if args.cycle == "fixed":
            return np.full(n, ORDER_CYCLE_DAYS)
        from ml.inventory import economic_cycle_days

        return economic_cycle_days(d, cost, ORDER_COST, HOLDING_RATE)

    from ml.inventory import value_aware_service_levels

    points = FRONTIER[args.frontier]

    def point_label(scale: float, lowest: float) -> str:
        if args.frontier == "uniform":
            return f"{scale:.1%} all pairs"
        if scale >= 1e5:
            return f"all at {lowest:.0%}"
        return f"risk x{scale:g}"

    def scenario_levels(k: str, d: np.ndarray) -> np.ndarray:
        """The levels of scenario k at a month start, from its demand estimate d: the
        policy's are ml.inventory.value_aware_service_levels of the SLA targets, as
        fct_reorder_points computes them every day from the forecast."""
        if k == "sla":  # the SLA/category targets alone (the previous rule), for reference
            return sla_level
        if k == "policy":
            return value_aware_service_levels(sla_level, cost, cycle_days(d))
        scale, lowest = points[int(k)]
        if args.frontier == "uniform":
            return np.full(n, scale)
        return value_aware_service_levels(
            sla_level, cost, cycle_days(d), risk_scale=scale, lowest=lowest
        )

    scenarios = ["policy", "sla", *(str(i) for i in range(len(points)))]
    rops: dict[str, list[np.ndarray]] = {k: [] for k in scenarios}
    outs: dict[str, list[np.ndarray]] = {k: [] for k in scenarios}
    applied: list[np.ndarray] = []  # the policy's levels per month start
    sampled = np.flatnonzero(use_boot)

    est_rng = np.random.default_rng(args.seed + 2)
    for at in starts:
        est = _estimates(data, at, sampled, est_rng)
        q = np.maximum(est.d * cycle_days(est.d), data.min_order_qty)
        for k in scenarios:
            lv_k = scenario_levels(k, est.d)
            if k == "policy":
                applied.append(lv_k)
            rop_k = _reorder_points(data, est, lv_k, use_boot, q if args.fill_rule else None)
            rops[k].append(rop_k)
            outs[k].append(rop_k + q)
    t_est = time.perf_counter()

    def levels(k: str) -> tuple[np.ndarray, np.ndarray]:
        return np.stack(rops[k], axis=1)[:, month_of_day], np.stack(outs[k], axis=1)[
            :, month_of_day
        ]

    # the planner's rule of thumb, from the recorded 12 months before the window
    lo = np.maximum(w0 - 365, data.first_day)
    csum = np.concatenate([np.zeros((n, 1)), np.cumsum(data.recorded, axis=1)], axis=1)
    avg = (csum[:, w0] - csum[np.arange(n), np.minimum(lo, w0)]) / np.maximum(w0 - lo, 1)
    thumb_min = np.ceil(avg * data.lead_time * THUMB_SAFETY)
    thumb_max = thumb_min + np.maximum(np.ceil(avg * 30), 1)

    t0 = time.perf_counter()
    results: dict[str, Replay] = {
        "oracle": replay(demand, data.min_stock, data.max_stock, moq_rule="minimum", **common),
        "thumb": replay(demand, thumb_min, thumb_max, moq_rule="minimum", **common),
    }
    for k in ("policy", "sla"):
        r_k, o_k = levels(k)
        results[k] = replay(demand, r_k, o_k, moq_rule="multiple", **common)
    frontier = []
    for i, (scale, lowest) in enumerate(points):
        r_lv, o_lv = levels(str(i))
        res = replay(demand, r_lv, o_lv, moq_rule="multiple", **common)
        frontier.append(
            (point_label(scale, lowest), res.fill_rate(), res.inventory_value(cost), int(res.orders.sum()))
        )  # fmt: skip
    t1 = time.perf_counter()

    lost_share = 1 - recorded.sum() / max(demand.sum(), 1)
    console.print(
        f"demo ERP: {data.n_items} items x {data.n_depots} depots, {n:,} stocked pairs, "
        f"{WINDOW_DAYS} days replayed on the true demand ({demand.sum():,.0f} units; the ERP "
        f"recorded {recorded.sum():,.0f}, {lost_share:.1%} lost to its stockouts); "
        f"ERP built in {loaded - began:.0f} s (not timed)"
    )
    names = {
        "oracle": "ERP min/max (oracle)",
        "thumb": "rule of thumb",
        "policy": "policy (value-aware levels, bootstrap lead time: as the marts)"
        if args.lead_time == "backtest"
        else "policy (value-aware levels, normal lead time everywhere)",
        "sla": "SLA targets alone (previous rule)",
    }
    out: dict[str, object] = {
        "pairs": n,
        "window_days": WINDOW_DAYS,
        "true_demand_units": float(demand.sum()),
    }
    table = Table("policy", "fill rate", "cycle service", "avg inventory (R$)", "orders",
                  "stockout days, platinum pairs", title="Last 365 days, true demand, lost sales")  # fmt: skip
    plat = worst == "platinum"
    for key, res in results.items():
        value = res.inventory_value(cost)
        table.add_row(
            names[key], f"{res.fill_rate():.2%}", f"{res.cycle_service_level():.2%}", f"{value:,.0f}",
            f"{int(res.orders.sum()):,}", f"{int(res.short_days[plat].sum()):,}",
        )  # fmt: skip
        out[key] = {
            "fill_rate": res.fill_rate(),
            "cycle_service": res.cycle_service_level(),
            "inventory_value": value,
            "orders": int(res.orders.sum()),
            "platinum_stockout_days": int(res.short_days[plat].sum()),
            "tiers": {
                t: {
                    "pairs": int((worst == t).sum()),
                    "fill_rate": res.fill_rate(worst == t),
                    "cycle_service": res.cycle_service_level(worst == t),
                    "inventory_value": res.inventory_value(cost, worst == t),
                    "orders": int(res.orders[worst == t].sum()),
                    "stockout_days": int(res.short_days[worst == t].sum()),
                }
                for t in TIERS
                if (worst == t).any()
            },
        }
    console.print(table)

    import pandas as pd

    seed = pd.read_csv(SEEDS / "sla_service_levels.csv").set_index("sla_tier")["service_level"]

    def weighted(r: Replay, w: np.ndarray) -> tuple[float, float]:
        """Fill rate and cycle service as the towers of a tier see them: each pair's
        demand and cycles weighted by the share of its units those towers consumed."""
        fill = float((w * r.served).sum() / max((w * r.demand).sum(), 1e-12))
        cyc = float((w * r.cycles).sum())
        return fill, 1 - float((w * r.cycles_short).sum()) / cyc if cyc else 1.0

    tiers = Table("SLA tier (its towers' demand)", "pairs", "target fill", "policy fill",
                  "policy cycle", "oracle fill", "thumb fill",
                  "stockout days policy/oracle/thumb", title="Per SLA tier, as its towers see it")  # fmt: skip
    tier_ok: dict[str, tuple[float, float]] = {}
    out_tiers: dict[str, dict[str, float]] = {}
    for t in TIERS[:3]:
        w = data.tier_share[t]
        m = w > 0
        target = float(seed[t])
        fill, cyc = weighted(results["policy"], w)
        tier_ok[t] = (fill, target)
        days = [int(results[k].short_days[m].sum()) for k in ("policy", "oracle", "thumb")]
        out_tiers[t] = {
            "pairs": int(m.sum()), "target": target, "policy_fill": fill, "policy_cycle": cyc,
            "oracle_fill": weighted(results["oracle"], w)[0], "thumb_fill": weighted(results["thumb"], w)[0],
            "stockout_days_policy": days[0], "stockout_days_oracle": days[1], "stockout_days_thumb": days[2],
        }  # fmt: skip
        tiers.add_row(
            t, f"{int(m.sum()):,}", f"{target:.0%}", f"{fill:.2%}", f"{cyc:.2%}",
            f"{out_tiers[t]['oracle_fill']:.2%}", f"{out_tiers[t]['thumb_fill']:.2%}",
            "/".join(f"{d:,}" for d in days),
        )  # fmt: skip
    console.print(tiers)
    out["tiers_by_towers"] = out_tiers

    worst_table = Table("most demanding tier served", "pairs", "policy fill", "policy cycle",
                        "oracle fill", "thumb fill", "policy R$", "oracle R$", "thumb R$",
                        "stockout days policy/oracle/thumb", title="Per pair group")  # fmt: skip
    for t in TIERS:
        m = worst == t
        if not m.any():
            continue
        worst_table.add_row(
            t, f"{int(m.sum()):,}", f"{results['policy'].fill_rate(m):.2%}",
            f"{results['policy'].cycle_service_level(m):.2%}",
            f"{results['oracle'].fill_rate(m):.2%}", f"{results['thumb'].fill_rate(m):.2%}",
            *(f"{results[k].inventory_value(cost, m):,.0f}" for k in ("policy", "oracle", "thumb")),
            "/".join(f"{int(results[k].short_days[m].sum()):,}" for k in ("policy", "oracle", "thumb")),
        )  # fmt: skip
    console.print(worst_table)

    bt = Table("class", "mean target", "normal coverage", "bootstrap coverage", "chosen",
               title="Backtest (year before the window): lead-time demand covered by the reorder point")  # fmt: skip
    for row in backtest_rows:
        bt.add_row(*row)
    console.print(bt)
    counts = {c: int((classes == c).sum()) for c in ("smooth", "erratic", "intermittent", "lumpy")}
    console.print(
        f"pairs by class: {counts}; empirical lead-time demand on {int(use_boot.sum()):,} pairs"
    )

    lv_all = np.concatenate(applied)
    lv_text = (
        f"policy's applied levels (all month starts): mean {lv_all.mean():.2%}, "
        f"{(lv_all <= 0.5).mean():.1%} of pair-months at the 50% floor, "
        f"{(lv_all >= 0.999).mean():.1%} at the 99.9% cap, {(lv_all < sla_level.mean()).mean():.1%} "
        f"below the mean SLA target {sla_level.mean():.2%}"
    )
    console.print(lv_text)
    out["applied_levels"] = {
        "mean": float(lv_all.mean()),
        "at_floor": float((lv_all <= 0.5).mean()),
        "at_cap": float((lv_all >= 0.999).mean()),
        "sla_target_mean": float(sla_level.mean()),
    }
    out["lead_time_model"] = args.lead_time
    ft = Table(
        "one level, all pairs" if args.frontier == "uniform" else "policy rule at",
        "fill rate",
        "avg inventory (R$)",
        "orders",
        title="Policy frontier",
    )
    for lv, fr, val, orders in frontier:
        ft.add_row(lv, f"{fr:.2%}", f"{val:,.0f}", f"{orders:,}")
    console.print(ft)

    fills = np.array([f[1] for f in frontier])
    values = np.array([f[2] for f in frontier])
    order = np.argsort(fills)

    def at_fill(f: float) -> float:
        """Frontier inventory at fill rate f. Below the frontier's lowest fill rate, the
        lowest point's inventory (the frontier rises with the fill rate, so it bounds the
        inventory at f from above); above its highest, unknown (NaN: not met)."""
        if f > fills.max():
            return float("nan")
        return float(np.interp(f, fills[order], values[order]))

    thumb_fill = results["thumb"].fill_rate()
    oracle_fill = results["oracle"].fill_rate()
    vs_thumb = at_fill(thumb_fill) / results["thumb"].inventory_value(cost) - 1
    vs_oracle = at_fill(oracle_fill) / results["oracle"].inventory_value(cost) - 1
    tiers_met = all(fill >= target for fill, target in tier_ok.values())
    thumb_met = bool(vs_thumb <= -0.25)  # NaN compares False: outside the frontier is not met
    oracle_met = bool(vs_oracle <= 0.05)
    met = tiers_met and thumb_met and oracle_met
    # the policy itself (risk x1), against each comparator directly
    p_fill, p_value = results["policy"].fill_rate(), results["policy"].inventory_value(cost)
    direct = {
        k: {
            "fill_rate_gap": p_fill - results[k].fill_rate(),
            "inventory_change": p_value / results[k].inventory_value(cost) - 1,
        }
        for k in ("thumb", "oracle")
    }
    out["policy_vs"] = direct
    out["frontier"] = [
        {"point": lv, "fill_rate": fr, "inventory_value": val, "orders": o}
        for lv, fr, val, o in frontier
    ]
    out["backtest"] = [
        dict(zip(("class", "target", "normal", "bootstrap", "chosen"), r, strict=True))
        for r in backtest_rows
    ]
    out["targets"] = {
        "tiers": {t: {"fill_rate": f, "target": g} for t, (f, g) in tier_ok.items()},
        "vs_thumb_inventory_at_its_fill": vs_thumb,
        "vs_oracle_inventory_at_its_fill": vs_oracle,
        "met": met,
    }
    console.print(
        f"estimation {t_est - loaded:.1f} s, {4 + len(points)} replays {t1 - t0:.1f} s "
        f"({n:,} series x {WINDOW_DAYS} days)"
    )
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    if args.png:
        _plot(args.png, frontier, results, cost, args.frontier)
    tier_text = ", ".join(
        f"{t} {f:.2%} >= {g:.0%}" if f >= g else f"{t} {f:.2%} < {g:.0%}"
        for t, (f, g) in tier_ok.items()
    )

    def where(f: float) -> str:
        return (
            " (frontier's lowest fill is higher: its inventory, an upper bound)"
            if f < fills.min()
            else ""
        )

    console.print(
        "the policy itself: "
        + "; ".join(
            f"vs {names[k]}: fill {direct[k]['fill_rate_gap'] * 100:+.2f} points, "
            f"inventory {direct[k]['inventory_change']:+.1%}"
            for k in ("thumb", "oracle")
        )
    )
    print(
        f"targets: {'met' if met else 'not met'} (tiers: {tier_text}; at the rule of thumb's "
        f"fill {thumb_fill:.2%}: {vs_thumb:+.1%} inventory{where(thumb_fill)}, need <= -25%; at the "
        f"oracle's fill {oracle_fill:.2%}: {vs_oracle:+.1%} inventory{where(oracle_fill)}, need <= +5%)"
    )


def _plot(
    path: Path,
    frontier: list[tuple[str, float, float, int]],
    results: dict[str, Replay],
    cost: np.ndarray,
    mode: str,
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    label = (
        "one service level for all pairs"
        if mode == "uniform"
        else "the policy's rule at other risk scales (frontier)"
    )
    ax.plot([f[1] * 100 for f in frontier], [f[2] / 1e6 for f in frontier], "o-", color="#1f77b4",
            label=label)  # fmt: skip
    last = -1e9
    for lv, fr, val, _ in frontier:
        if abs(fr * 100 - last) < 1.2:  # labels of points close together would overlap
            continue
        last = fr * 100
        ax.annotate(
            lv,
            (fr * 100, val / 1e6),
            textcoords="offset points",
            xytext=(4, -10),
            fontsize=7,
        )
    marks = {"policy": ("policy (as the marts run it)", "*", "#2ca02c"),
             "sla": ("SLA targets alone (previous rule)", "x", "#7f7f7f"),
             "oracle": ("ERP min/max (oracle)", "s", "#d62728"),
             "thumb": ("rule of thumb", "^", "#ff7f0e")}  # fmt: skip
    for key, (label, marker, color) in marks.items():
        r = results[key]
        ax.plot(
            r.fill_rate() * 100,
            r.inventory_value(cost) / 1e6,
            marker,
            color=color,
            markersize=10,
            label=label,
        )
    ax.set_xlabel("fill rate on the true demand (%)")
    ax.set_ylabel("average inventory value (R$ million)")
    ax.set_title("Inventory vs fill rate, last 365 days of the default demo")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


if __name__ == "__main__":
    main()
