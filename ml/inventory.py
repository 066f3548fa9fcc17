"""Reorder policy from forecasts: safety stock, reorder point, order-up-to level, order.

The same formulas as the dbt mart ``fct_reorder_points`` (which computes them in SQL for
every item x depot); here they serve the policy benchmark and are tested against
hand-computed cases.

    demand_std_lead_time = sqrt(L * sigma_d^2 + d^2 * sigma_L^2)
    safety_stock         = z * demand_std_lead_time
    reorder_point        = d * L + safety_stock
    order_up_to          = reorder_point + d * order_cycle_days
    order                = order_up_to - position, rounded up to a multiple of the MOQ,
                           when position <= reorder_point; else 0

d: mean daily demand forecast over the lead time; sigma_d: daily forecast error std;
L and sigma_L: lead time mean and std in days; z: normal quantile of the service level.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import TypeVar

import numpy as np

# The formulas take floats or numpy arrays (one value per series) alike.
Num = TypeVar("Num", float, np.ndarray)

# The 80% band's upper half-width over this is the daily error std (normal quantile 0.9).
Z80 = 1.2816


def z_score(service_level: float) -> float:
    if not 0.5 <= service_level < 1.0:
        raise ValueError(f"service level {service_level} must be in [0.5, 1)")
    return NormalDist().inv_cdf(service_level)


def daily_error_std(yhat: float, yhat_hi_80: float) -> float:
    return max(yhat_hi_80 - yhat, 0.0) / Z80


def demand_std_lead_time(
    avg_daily_demand: Num, daily_std: Num, lead_time_days: Num, lead_time_std_days: Num
) -> Num:
    # ** 0.5 rather than math.sqrt: the replay benchmark passes numpy arrays
    return (lead_time_days * daily_std**2 + avg_daily_demand**2 * lead_time_std_days**2) ** 0.5


def safety_stock(
    z: Num,
    avg_daily_demand: Num,
    daily_std: Num,
    lead_time_days: Num,
    lead_time_std_days: Num,
) -> Num:
    return z * demand_std_lead_time(avg_daily_demand, daily_std, lead_time_days, lead_time_std_days)


def reorder_point(avg_daily_demand: Num, lead_time_days: Num, safety: Num) -> Num:
    return avg_daily_demand * lead_time_days + safety


def order_up_to(rop: Num, avg_daily_demand: Num, order_cycle_days: Num) -> Num:
    return rop + avg_daily_demand * order_cycle_days


def suggested_order(position: float, rop: float, out: float, min_order_qty: float) -> float:
    """Units to order now: up to ``out``, in whole multiples of the minimum order quantity,
    only when the position (on hand + on order) is at or below the reorder point."""
    if position > rop:
        return 0.0
    moq = max(min_order_qty, 1.0)
    # rounded first, so float noise (60.000000001) does not add a whole order unit
    return math.ceil(round(max(out - position, 0.0) / moq, 9)) * moq


def suggested_orders(
    position: np.ndarray, rop: np.ndarray, out: np.ndarray, min_order_qty: np.ndarray
) -> np.ndarray:
    """``suggested_order`` over arrays (one value per series)."""
    moq = np.maximum(min_order_qty, 1.0)
    qty = np.ceil(np.round(np.maximum(out - position, 0.0) / moq, 9)) * moq
    return np.where(position <= rop, qty, 0.0)
