"""Reorder policy vs the ERP's own min/max levels, replayed over the last 365 days of demo demand.

Builds the demo ERP in memory (`build_demo_frames`: the same tables `generate_demo` writes
to a database; not timed), takes the daily consumption per item x depot from
`stock_movements` (double postings and invalid rows dropped) and replays the last 365
days twice, day by day, with `ml.policy_replay`:

* min/max: the item master's `min_stock` / `max_stock` at every depot, ordering at least
  the MOQ (the ERP's own rule);
* policy: reorder point and order-up-to from `ml.inventory` (the formulas of
  `fct_reorder_points`), MOQ multiples. d and sigma_d are the mean and std of the pair's
  daily consumption over the trailing `--history-days` (182) days, re-estimated at the
  start of every month of the replay from data before that month only (no look-ahead); L
  = item lead time, sigma_L = supplier lead-time std, z from the service level of the
  item's category (dbt/seeds/service_levels.csv), order cycle 30 days (dbt var).

Both start from the same stock (on hand + on order in the ERP's snapshot the day before
the window; nothing on order), face the same demand and the same lead time per order day
(drawn from the supplier's mean/std, seeded). Unmet demand is lost. Fill rate = demand
served from stock / demand; average inventory value = mean end-of-day on hand x unit cost,
summed over pairs. Consumption is demand censored by the ERP's own stockouts (a day
without stock records no consumption), for both policies alike.

    uv run --no-sync python benchmarks/inventory_policy.py [--items 300 --depots 4]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

WINDOW_DAYS = 365
SEED_FILE = Path(__file__).resolve().parents[1] / "dbt" / "seeds" / "service_levels.csv"


@dataclass(frozen=True)
class Data:
    """Arrays have one row per stocked item x depot pair."""

    demand: np.ndarray  # daily consumption over the whole history (pairs x days)
    first_day: np.ndarray  # day index of the pair's first movement
    window_start: int  # day index of the replay's first day
    month_starts: list[int]  # day indices where the policy is re-estimated
    start_stock: np.ndarray
    unit_cost: np.ndarray
    lead_time: np.ndarray
    min_order_qty: np.ndarray
    min_stock: np.ndarray
    max_stock: np.ndarray
    lt_mean: np.ndarray
    lt_std: np.ndarray
    service: np.ndarray
    n_items: int
    n_depots: int


def _load(args: argparse.Namespace) -> Data:
    import pandas as pd

    from backend.demo.erp import DemoConfig, build_demo_frames

    defaults = DemoConfig()
    cfg = DemoConfig(
        items=args.items or defaults.items,
        depots=args.depots or defaults.depots,
        towers=args.towers or defaults.towers,
    )
    frames = build_demo_frames(cfg)
    items = frames["items"].set_index("item_id")
    suppliers = frames["suppliers"].set_index("supplier_id")
    mv = frames["stock_movements"].drop_duplicates()  # double postings are exact copies
    mv = mv[mv["item_id"].isin(items.index)]
    end = pd.Timestamp(cfg.end_date)
    start = end - pd.Timedelta(days=WINDOW_DAYS - 1)
    day0 = end - pd.Timedelta(days=cfg.years * 365 - 1)

    # Pairs stocked the day before the window, with their stock then.
    snaps = frames["inventory_snapshots"]
    snap = snaps[snaps["snapshot_date"] == start - pd.Timedelta(days=1)]
    pairs = snap[["item_id", "depot_id"]].reset_index(drop=True)
    key = pd.MultiIndex.from_frame(pairs)
    n, days = len(pairs), cfg.years * 365

    cons = mv[(mv["movement_type"] == "consumption") & (mv["quantity"] > 0)]
    daily = cons.groupby(["item_id", "depot_id", "movement_date"])["quantity"].sum().reset_index()
    row = key.get_indexer(pd.MultiIndex.from_frame(daily[["item_id", "depot_id"]]))
    col = (daily["movement_date"] - day0).dt.days.to_numpy()
    keep = row >= 0
    demand = np.zeros((n, days))
    demand[row[keep], col[keep]] = daily["quantity"].to_numpy(float)[keep]
    # A pair's history starts at its first movement (receipt or consumption).
    first = mv.groupby(["item_id", "depot_id"])["movement_date"].min()
    first_day = ((first.reindex(key) - day0).dt.days).fillna(0).to_numpy(np.int64)

    it = items.loc[pairs["item_id"]]
    sup = suppliers.loc[it["supplier_id"]]
    levels = pd.read_csv(SEED_FILE).set_index("category")["service_level"]
    service = it["category"].map(levels).fillna(levels["default"]).to_numpy(float)
    return Data(
        demand=demand,
        first_day=first_day,
        window_start=int((start - day0).days),
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
        service=service,
        n_items=cfg.items,
        n_depots=cfg.depots,
    )


def _trailing_stats(
    demand: np.ndarray, first_day: np.ndarray, at: int, history: int
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std of each pair's daily demand over [at - history, at), from its first day."""
    lo = np.maximum(at - history, np.minimum(first_day, at))
    csum = np.concatenate([np.zeros((demand.shape[0], 1)), np.cumsum(demand, axis=1)], axis=1)
    csq = np.concatenate([np.zeros((demand.shape[0], 1)), np.cumsum(demand**2, axis=1)], axis=1)
    rows = np.arange(demand.shape[0])
    k = np.maximum(at - lo, 1)
    mean = (csum[:, at] - csum[rows, lo]) / k
    var = (csq[:, at] - csq[rows, lo]) / k - mean**2
    return mean, np.sqrt(np.maximum(var, 0.0))


def _policy_levels(
    data: Data, service: np.ndarray, history: int, cycle_days: float
) -> tuple[np.ndarray, np.ndarray]:
    """Reorder point and order-up-to per pair and replay day, re-estimated monthly."""
    from ml import inventory

    demand, w0, starts = data.demand, data.window_start, data.month_starts
    n = demand.shape[0]
    rop = np.zeros((n, WINDOW_DAYS))
    out = np.zeros((n, WINDOW_DAYS))
    z = np.array([inventory.z_score(float(s)) for s in service])
    lead, lead_std = data.lead_time, data.lt_std
    for i, at in enumerate(starts):
        stop = starts[i + 1] if i + 1 < len(starts) else w0 + WINDOW_DAYS
        d, sd = _trailing_stats(demand, data.first_day, at, history)
        ss = inventory.safety_stock(z, d, sd, lead, lead_std)
        r = inventory.reorder_point(d, lead, ss)
        rop[:, at - w0 : stop - w0] = r[:, None]
        out[:, at - w0 : stop - w0] = inventory.order_up_to(r, d, np.full(n, cycle_days))[:, None]
    return rop, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, help="demo items (default: the demo's 2000)")
    parser.add_argument("--depots", type=int, help="demo depots (default 8)")
    parser.add_argument("--towers", type=int, help="demo towers (default 600)")
    parser.add_argument(
        "--history-days", type=int, default=182, help="trailing days for d, sigma_d"
    )
    parser.add_argument("--order-cycle-days", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=7, help="seed of the lead-time draws")
    args = parser.parse_args()

    from rich.console import Console
    from rich.table import Table

    from ml.policy_replay import Replay, replay

    console = Console(width=150)
    began = time.perf_counter()
    data = _load(args)
    loaded = time.perf_counter()
    w0 = data.window_start
    demand = data.demand[:, w0 : w0 + WINDOW_DAYS]
    n = demand.shape[0]
    cost, service = data.unit_cost, data.service
    rng = np.random.default_rng(args.seed)
    lead = np.maximum(
        1,
        np.round(rng.normal(data.lt_mean[:, None], data.lt_std[:, None], (n, WINDOW_DAYS))),
    ).astype(np.int64)
    common = {
        "lead_time": lead,
        "start_on_hand": data.start_stock,
        "min_order_qty": data.min_order_qty,
    }
    t0 = time.perf_counter()
    minmax = replay(demand, data.min_stock, data.max_stock, moq_rule="minimum", **common)
    t1 = time.perf_counter()
    rop, out = _policy_levels(data, service, args.history_days, args.order_cycle_days)
    policy = replay(demand, rop, out, moq_rule="multiple", **common)
    t2 = time.perf_counter()

    console.print(
        f"demo ERP: {data.n_items} items x {data.n_depots} depots, {n:,} stocked pairs, "
        f"{WINDOW_DAYS} days replayed, {demand.sum():,.0f} units demanded "
        f"(ERP built in {loaded - began:.0f} s, not timed)"
    )
    base_value = minmax.inventory_value(cost)
    target = float((service * demand.sum(axis=1)).sum() / demand.sum())

    def row(name: str, r: Replay, tgt: str) -> tuple[str, ...]:
        value = r.inventory_value(cost)
        change = f"{value / base_value - 1:+.1%}" if r is not minmax else "-"
        return (
            name,
            f"{r.fill_rate():.2%}",
            f"{r.cycle_service_level():.2%}",
            tgt,
            f"{value:,.0f}",
            change,
            f"{int(r.orders.sum()):,}",
        )

    cols = (
        "policy",
        "fill rate",
        "cycle service",
        "target",
        "avg inventory (R$)",
        "vs min/max",
        "orders",
    )
    table = Table(*cols, title="Last 365 days replayed (lost sales)")
    table.add_row(*row("ERP min/max", minmax, "-"))
    table.add_row(*row("reorder policy", policy, f"{target:.2%} (demand-weighted)"))
    console.print(table)

    tiers = Table(
        "service level",
        "pairs",
        "min/max fill",
        "policy fill",
        "policy cycle service",
        "min/max R$",
        "policy R$",
        title="Per service-level tier (category seed)",
    )
    met_all = True
    for level in sorted(set(service.tolist())):
        m = service == level
        fill = policy.fill_rate(m)
        met_all &= fill >= level
        tiers.add_row(
            f"{level:.0%}",
            f"{int(m.sum()):,}",
            f"{minmax.fill_rate(m):.2%}",
            f"{fill:.2%}" + ("" if fill >= level else " (below)"),
            f"{policy.cycle_service_level(m):.2%}",
            f"{minmax.inventory_value(cost, m):,.0f}",
            f"{policy.inventory_value(cost, m):,.0f}",
        )
    console.print(tiers)

    # What the data allows: the same policy with one service level for every pair.
    curve = Table(
        "service level (all pairs)",
        "fill rate",
        "cycle service",
        "avg inventory (R$)",
        "vs min/max",
        title="Trade-off curve",
    )
    for level in (0.80, 0.90, 0.95, 0.98, 0.99):
        r_lv, o_lv = _policy_levels(
            data, np.full(n, level), args.history_days, args.order_cycle_days
        )
        r = replay(demand, r_lv, o_lv, moq_rule="multiple", **common)
        value = r.inventory_value(cost)
        curve.add_row(
            f"{level:.0%}",
            f"{r.fill_rate():.2%}",
            f"{r.cycle_service_level():.2%}",
            f"{value:,.0f}",
            f"{value / base_value - 1:+.1%}",
        )
    console.print(curve)

    saving = 1 - policy.inventory_value(cost) / base_value
    console.print(
        f"target (every tier's fill rate >= its service level, and >= 20% less inventory "
        f"than min/max): service {'met' if met_all else 'NOT met'}, inventory "
        f"{abs(saving):.1%} {'less' if saving >= 0 else 'more'} -> {'MET' if met_all and saving >= 0.2 else 'NOT MET'}"
    )
    console.print(
        f"replay time: min/max {t1 - t0:.1f} s, policy (levels + replay) {t2 - t1:.1f} s, "
        f"{n:,} series x {WINDOW_DAYS} days"
    )


if __name__ == "__main__":
    main()
