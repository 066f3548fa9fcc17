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

The service level of a pair comes from the towers it serves (``service_level_from_exposure``,
the rule of ``fct_reorder_points`` and the seed ``dbt/seeds/sla_service_levels.csv``);
intermittent and lumpy pairs take the reorder point as a quantile of an empirical
lead-time demand (``ml.lead_time_demand``) instead of the normal one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
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


def order_up_to_moq(
    rop: Num, avg_daily_demand: Num, order_cycle_days: Num, min_order_qty: Num
) -> Num:
    """Order-up-to level that an order of at least the MOQ can reach: the reorder point
    plus the cycle's demand, or plus one MOQ when that is more (else every order would
    overshoot the level and the policy's stock would sit above what it plans for)."""
    return rop + np.maximum(avg_daily_demand * order_cycle_days, min_order_qty)


def economic_cycle_days(
    avg_daily_demand: np.ndarray,
    unit_cost: np.ndarray,
    order_cost: float,
    holding_rate: float,
    *,
    min_days: float = 7.0,
    max_days: float = 90.0,
) -> np.ndarray:
    """Days of demand one order should cover: the economic order quantity in days,
    sqrt(2 K / (h c d)) with K the cost of an order line, h the yearly holding rate (per
    day: h / 365), c the unit cost and d the daily demand, within [min_days, max_days].
    Parts worth a lot per day are ordered often in small lots, cheap ones rarely."""
    value_per_day = np.maximum(np.asarray(avg_daily_demand, dtype=float) * unit_cost, 1e-9)
    days = np.sqrt(2.0 * order_cost / (holding_rate / 365.0 * value_per_day))
    return np.clip(days, min_days, max_days)


def normal_loss(z: np.ndarray) -> np.ndarray:
    """Standard normal loss function G(z) = E[(Z - z)+] = phi(z) - z (1 - Phi(z))."""
    z = np.asarray(z, dtype=float)
    pdf = np.exp(-(z**2) / 2) / math.sqrt(2 * math.pi)
    return np.asarray(pdf - z * _normal_sf(z))


def _normal_sf(z: np.ndarray) -> np.ndarray:
    """1 - Phi(z), vectorised (Abramowitz-Stegun 7.1.26 erfc, error below 1.5e-7)."""
    x = np.abs(z) / math.sqrt(2)
    t = 1.0 / (1.0 + 0.3275911 * x)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    erfc = poly * np.exp(-(x**2))
    return np.where(z >= 0, erfc / 2, 1 - erfc / 2)


def fill_rate_safety_factor(
    demand_std_lead_time: np.ndarray, order_qty: np.ndarray, fill_rate: np.ndarray
) -> np.ndarray:
    """Smallest z with expected units short per cycle sigma_LT x G(z) <= (1 - fill rate) x Q
    (the normal fill-rate rule), by bisection on [-4, 6]."""
    sigma = np.maximum(np.asarray(demand_std_lead_time, dtype=float), 1e-9)
    target = (1.0 - np.asarray(fill_rate, dtype=float)) * np.asarray(order_qty, dtype=float) / sigma
    lo = np.full(sigma.shape, -4.0)
    hi = np.full(sigma.shape, 6.0)
    for _ in range(50):  # G falls as z rises
        mid = (lo + hi) / 2
        meets = normal_loss(mid) <= target
        hi = np.where(meets, mid, hi)
        lo = np.where(meets, lo, mid)
    return hi


# Tiers from the most to the least demanding.
SLA_TIERS = ("platinum", "gold", "silver")


@dataclass(frozen=True)
class TierLevel:
    """One row of ``dbt/seeds/sla_service_levels.csv``."""

    service_level: float  # target when at least one tower of the tier uses the part
    many_towers: int  # from this many towers of the tier ...
    service_level_many: float  # ... this target


def service_level_from_exposure(
    category_level: float, tier_towers: Mapping[str, int], tiers: Mapping[str, TierLevel]
) -> tuple[float, str]:
    """Target service level of an item x depot and its reason.

    ``tier_towers``: towers of each SLA tier that used the item from that depot (last 365
    days). Each tier present gives its level (the higher one from ``many_towers`` towers);
    the target is the highest of them and of the item's category level (the floor).
    The reason names what set it: ``platinum:4`` (4 platinum towers), or ``category``.
    """
    best, reason = category_level, "category"
    for tier in SLA_TIERS:
        count = int(tier_towers.get(tier, 0))
        if count <= 0 or tier not in tiers:
            continue
        row = tiers[tier]
        level = row.service_level_many if count >= row.many_towers else row.service_level
        if level > best:
            best, reason = level, f"{tier}:{count}"
    return best, reason


# --- value-aware service levels (the rule fct_reorder_points runs) ---------------------

# Levels are applied on a grid of this step: the mart reads z from the seed
# dbt/seeds/normal_quantiles.csv (dbt/scripts/make_normal_quantiles_seed.py), keyed by level x 2000.
LEVEL_GRID = 2000
# The value adjustment never sets a level below MIN (no negative safety stock) or above MAX
# (dbt vars service_level_min / service_level_max).
SERVICE_LEVEL_MIN = 0.5
SERVICE_LEVEL_MAX = 0.999


def level_key(level: np.ndarray) -> np.ndarray:
    """Grid key of a level: floor(level x 2000 + 0.5), as the mart computes it."""
    return np.floor(np.asarray(level, dtype=float) * LEVEL_GRID + 0.5).astype(np.int64)


def value_aware_service_levels(
    target: np.ndarray,
    unit_cost: np.ndarray,
    cycle_days: np.ndarray,
    *,
    risk_scale: float = 1.0,
    lowest: float = SERVICE_LEVEL_MIN,
    highest: float = SERVICE_LEVEL_MAX,
) -> np.ndarray:
    """The cycle service level each pair's safety stock is set at, on the 1/2000 grid.

    ``target`` is the pair's SLA/category level (``service_level_from_exposure``). Its
    stockout risk per cycle, 1 - target, is scaled by the value a unit of safety stock
    ties up relative to the median pair, w = unit cost x cycle days / median of it over the
    pairs planned together: expensive parts ordered rarely carry less safety stock, cheap
    ones more, for the same units short overall (the allocation that minimises inventory
    value for a fill rate); a pair without a unit cost takes w = 1 and is left out of the
    median, as SQL's median skips nulls. level = clip(1 - risk_scale x (1 - target) x w,
    lowest, highest). ``risk_scale`` = 1 is the policy; other values trace its frontier.
    """
    target = np.asarray(target, dtype=float)
    value = np.asarray(unit_cost, dtype=float) * np.asarray(cycle_days, dtype=float)
    known = np.isfinite(value)  # a pair without a unit cost keeps its target (weight 1)
    reference = float(np.median(value[known])) if known.any() else 0.0
    weight = np.where(known, value, reference) / reference if reference > 0 else np.ones_like(value)
    level = np.clip(1.0 - risk_scale * (1.0 - target) * weight, lowest, highest)
    return level_key(level) / LEVEL_GRID


def z_scores(levels: np.ndarray) -> np.ndarray:
    """Normal quantile of each level (any level in (0, 1), e.g. from the grid)."""
    dist = NormalDist()
    return np.array([dist.inv_cdf(float(v)) for v in np.ravel(levels)]).reshape(np.shape(levels))
