"""Replay a periodic-review (s, S) replenishment policy over a daily demand history.

Vectorised over series (rows) with numpy; one loop over days. The rules of a day t:

1. receipts due on t arrive (an order placed on day t with lead time L arrives on t + L);
2. demand is served from stock on hand; what stock cannot serve is lost (lost sales, as
   in the demo ERP, where no stock means no issue);
3. the inventory position (on hand + on order) is reviewed at the end of the day: at or
   below the reorder point ``s``, an order brings it up to ``S``, with the minimum order
   quantity applied by ``moq_rule``:
   ``multiple`` rounds the order up to whole multiples of the MOQ (``ml.inventory``'s rule,
   the rule of ``fct_reorder_points``), ``minimum`` orders at least the MOQ (the demo
   ERP's rule for its min/max levels).

On hand is counted at the end of each day (after demand); the average inventory value is
the mean over days of end-of-day on hand x unit cost. A replenishment cycle is the time
up to a receipt (from the previous one, or the start); a cycle is served when it saw no lost sales (cycle service level).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from ml.inventory import suggested_orders

MoqRule = Literal["multiple", "minimum"]


@dataclass(frozen=True)
class Replay:
    """Per-series outcome of a replay (arrays of one value per series)."""

    demand: np.ndarray  # total demand
    served: np.ndarray  # demand met from stock
    avg_on_hand: np.ndarray  # mean end-of-day on hand, units
    cycles: np.ndarray  # replenishment cycles completed (= receipts)
    cycles_short: np.ndarray  # of which with lost sales
    orders: np.ndarray  # orders placed
    on_hand: np.ndarray  # on hand at the end, units
    short_days: np.ndarray  # days with demand not met from stock (stockout days)

    def fill_rate(self, mask: np.ndarray | None = None) -> float:
        m = slice(None) if mask is None else mask
        total = float(self.demand[m].sum())
        return float(self.served[m].sum()) / total if total else 1.0

    def cycle_service_level(self, mask: np.ndarray | None = None) -> float:
        m = slice(None) if mask is None else mask
        total = float(self.cycles[m].sum())
        return 1.0 - float(self.cycles_short[m].sum()) / total if total else 1.0

    def inventory_value(self, unit_cost: np.ndarray, mask: np.ndarray | None = None) -> float:
        m = slice(None) if mask is None else mask
        return float((self.avg_on_hand[m] * unit_cost[m]).sum())


def _per_day(a: np.ndarray, n: int, days: int) -> np.ndarray:
    """Broadcast a per-series (n,) or per-series-and-day (n, days) parameter to (n, days)."""
    a = np.asarray(a, dtype=float)
    return np.broadcast_to(a[:, None] if a.ndim == 1 else a, (n, days))


def order_quantities(
    position: np.ndarray, out: np.ndarray, moq: np.ndarray, rule: MoqRule
) -> np.ndarray:
    """Order size for series under review: up to ``out``, with the MOQ rule applied."""
    if rule == "multiple":
        return suggested_orders(position, np.full_like(position, np.inf), out, moq)
    gap = np.maximum(out - position, 0.0)
    return np.maximum(np.ceil(np.round(gap, 9)), np.maximum(moq, 1.0))


def replay(
    demand: np.ndarray,
    reorder_point: np.ndarray,
    order_up_to: np.ndarray,
    lead_time: np.ndarray,
    start_on_hand: np.ndarray,
    min_order_qty: np.ndarray,
    *,
    moq_rule: MoqRule = "multiple",
) -> Replay:
    """Simulate ``demand`` (series x days) under the (s, S) policy given per series (or per
    series and day for parameters that are re-estimated over time).

    ``lead_time[i, t]`` is the lead time in whole days (>= 1) of an order placed by series
    i on day t: drawing it up front lets two policies face the same lead times.
    """
    demand = np.asarray(demand, dtype=float)
    n, days = demand.shape
    s = _per_day(reorder_point, n, days)
    big_s = _per_day(order_up_to, n, days)
    lead = np.asarray(lead_time, dtype=np.int64)
    if lead.shape != (n, days) or (lead < 1).any():
        raise ValueError("lead_time must be (series, days) whole days >= 1")
    moq = np.asarray(min_order_qty, dtype=float)
    rows = np.arange(n)
    # Scheduled receipts by day; orders landing after the horizon just stay on order.
    pipeline = np.zeros((n, days + int(lead.max()) + 1))
    on_hand = np.asarray(start_on_hand, dtype=float).copy()
    on_order = np.zeros(n)
    served = np.zeros(n)
    stock_days = np.zeros(n)
    cycles = np.zeros(n, dtype=np.int64)
    cycles_short = np.zeros(n, dtype=np.int64)
    orders = np.zeros(n, dtype=np.int64)
    short = np.zeros(n, dtype=bool)
    short_days = np.zeros(n, dtype=np.int64)
    for t in range(days):
        arriving = pipeline[:, t]
        got = arriving > 0
        on_hand += arriving
        on_order -= arriving
        # a receipt closes the cycle since the previous receipt (or the start)
        cycles += got
        cycles_short += got & short
        short[got] = False

        met = np.minimum(demand[:, t], on_hand)
        on_hand -= met
        served += met
        short_today = met < demand[:, t]
        short |= short_today
        short_days += short_today
        stock_days += on_hand

        position = on_hand + on_order
        need = np.flatnonzero(position <= s[:, t])
        if need.size:
            qty = order_quantities(position[need], big_s[need, t], moq[need], moq_rule)
            need, qty = need[qty > 0], qty[qty > 0]
            on_order[need] += qty
            np.add.at(pipeline, (rows[need], t + lead[need, t]), qty)
            orders[need] += 1
    return Replay(
        demand=demand.sum(axis=1),
        served=served,
        avg_on_hand=stock_days / days,
        cycles=cycles,
        cycles_short=cycles_short,
        orders=orders,
        on_hand=on_hand,
        short_days=short_days,
    )
