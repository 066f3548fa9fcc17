"""Reorder-policy formulas against cases computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ml import inventory


def test_z_scores_of_common_service_levels():
    assert inventory.z_score(0.95) == pytest.approx(1.644854, abs=1e-6)
    assert inventory.z_score(0.98) == pytest.approx(2.053749, abs=1e-6)
    with pytest.raises(ValueError):
        inventory.z_score(1.0)


def test_safety_stock_with_demand_and_lead_time_variability():
    # d = 2/day, sigma_d = 1.5/day, L = 9 days, sigma_L = 2 days, z = 1.645
    # L sigma_d^2 = 9 * 2.25 = 20.25; d^2 sigma_L^2 = 4 * 4 = 16; sqrt(36.25) = 6.0208
    std = inventory.demand_std_lead_time(2.0, 1.5, 9.0, 2.0)
    assert std == pytest.approx(math.sqrt(36.25))
    assert std == pytest.approx(6.020797, abs=1e-6)
    ss = inventory.safety_stock(1.645, 2.0, 1.5, 9.0, 2.0)
    assert ss == pytest.approx(9.904211, abs=1e-6)  # 1.645 * 6.020797
    rop = inventory.reorder_point(2.0, 9.0, ss)
    assert rop == pytest.approx(27.904211, abs=1e-6)  # 18 + 9.904211
    assert inventory.order_up_to(rop, 2.0, 30) == pytest.approx(87.904211, abs=1e-6)


def test_without_lead_time_variability_it_is_the_classic_formula():
    # z sigma_d sqrt(L): 2 * 3 * sqrt(16) = 24
    assert inventory.safety_stock(2.0, 5.0, 3.0, 16.0, 0.0) == pytest.approx(24.0)


def test_daily_error_std_from_the_80_band():
    assert inventory.daily_error_std(1.0, 1.0 + 1.2816 * 0.5) == pytest.approx(0.5)
    assert inventory.daily_error_std(1.0, 0.5) == 0.0


def test_suggested_order_rounds_up_to_the_minimum_order_quantity():
    # position 10 <= rop 27.9: order 87.9 - 10 = 77.9 -> 80 in multiples of 20
    assert inventory.suggested_order(10.0, 27.9, 87.9, 20.0) == 80.0
    # exactly at the reorder point still orders
    assert inventory.suggested_order(27.9, 27.9, 87.9, 1.0) == 60.0
    # above the reorder point: nothing
    assert inventory.suggested_order(28.0, 27.9, 87.9, 20.0) == 0.0
    # a MOQ of 0 in the ERP means 1
    assert inventory.suggested_order(0.0, 5.0, 7.5, 0.0) == 8.0


def test_service_level_from_sla_exposure_with_the_category_as_floor():
    tiers = {
        "platinum": inventory.TierLevel(0.98, 5, 0.99),
        "gold": inventory.TierLevel(0.95, 10, 0.97),
        "silver": inventory.TierLevel(0.90, 20, 0.93),
    }
    rule = inventory.service_level_from_exposure
    assert rule(0.90, {"platinum": 2, "silver": 7}, tiers) == (0.98, "platinum:2")
    assert rule(0.90, {"platinum": 5}, tiers) == (0.99, "platinum:5")
    # one silver tower does not lift a part above its category's level
    assert rule(0.95, {"silver": 3}, tiers) == (0.95, "category")
    assert rule(0.90, {"gold": 10, "silver": 1}, tiers) == (0.97, "gold:10")
    assert rule(0.85, {}, tiers) == (0.85, "category")


def test_economic_cycle_days_by_hand():
    # sqrt(2 x 150 / (0.25 / 365 x 100)) = sqrt(4380) = 66.18 days; R$ 10,000 a day: 7 (floor)
    days = inventory.economic_cycle_days(
        np.array([1.0, 100.0]), np.array([100.0, 100.0]), 150, 0.25
    )
    assert days[0] == pytest.approx(4380**0.5)
    assert days[1] == 7.0


def test_order_up_to_covers_at_least_one_moq():
    out = inventory.order_up_to_moq(
        np.array([4.0, 4.0]), np.array([0.1, 2.0]), 30.0, np.array([5.0, 5.0])
    )
    assert out.tolist() == [9.0, 64.0]


def test_normal_loss_and_the_fill_rate_safety_factor():
    # G(0) = phi(0) = 0.398942; G(0.9) = phi(0.9) - 0.9 (1 - Phi(0.9)) = 0.266085 - 0.9 x 0.184060
    assert inventory.normal_loss(np.array([0.0, 0.9])) == pytest.approx(
        [0.398942, 0.100431], abs=1e-5
    )
    # sigma_LT 10, order 100 units, 99% fill: 1 unit short per cycle allowed, G(z) = 0.1
    z = inventory.fill_rate_safety_factor(np.array([10.0]), np.array([100.0]), np.array([0.99]))
    assert z[0] == pytest.approx(0.9023, abs=1e-3)  # 0.9 + 0.000431 / 0.184
    assert 10 * inventory.normal_loss(z)[0] == pytest.approx(1.0, abs=1e-6)


def test_value_aware_levels_on_the_mart_unit_test_pairs():
    # the three pairs of dbt's test_fct_reorder_points_matches_hand_computed_policy:
    # unit cost x cycle days = 900, 270, 140000; median 900; weights 1, 0.3, 155.56
    levels = inventory.value_aware_service_levels(
        np.array([0.99, 0.95, 0.98]), np.array([10.0, 3.0, 20000.0]), np.array([90.0, 90.0, 7.0])
    )
    # 1 - 0.01 x 1 = 0.99; 1 - 0.05 x 0.3 = 0.985; 1 - 0.02 x 155.6 < 0.5: held at 0.5
    assert levels.tolist() == [0.99, 0.985, 0.5]
    assert inventory.level_key(levels).tolist() == [1980, 1970, 1000]


def test_value_aware_levels_round_to_the_grid_and_stay_within_bounds():
    # median of 1, 2, 4 is 2: weights 0.5, 1, 2; risk 0.1 -> 0.95, 0.9, 0.8
    levels = inventory.value_aware_service_levels(
        np.full(3, 0.9), np.array([1.0, 2.0, 4.0]), np.ones(3)
    )
    assert levels == pytest.approx([0.95, 0.9, 0.8])
    # 1 - 0.0001 x 0.5 = 0.99995 -> capped at 0.999
    top = inventory.value_aware_service_levels(
        np.full(3, 0.9999), np.array([1.0, 2.0, 4.0]), np.ones(3)
    )
    assert top[0] == 0.999
    # 0.91234 lies between grid points 0.912 and 0.9125: rounds to the nearer, 0.9125
    assert inventory.level_key(np.array([0.91234])).tolist() == [1825]
    # risk_scale traces the frontier: twice the risk of the median pair
    half = inventory.value_aware_service_levels(
        np.full(3, 0.9), np.array([1.0, 2.0, 4.0]), np.ones(3), risk_scale=2.0
    )
    assert half == pytest.approx([0.9, 0.8, 0.6])
    # an unknown unit cost: weight 1, and the median is of the others (2 and 4: 3)
    unknown = inventory.value_aware_service_levels(
        np.full(3, 0.9), np.array([np.nan, 2.0, 4.0]), np.ones(3)
    )
    assert unknown == pytest.approx([0.9, 1 - 0.1 * 2 / 3, 1 - 0.1 * 4 / 3], abs=0.0005)
    # no value anywhere: every weight is 1
    flat = inventory.value_aware_service_levels(np.full(2, 0.95), np.zeros(2), np.ones(2))
    assert flat == pytest.approx([0.95, 0.95])


def test_z_scores_match_the_normal_quantiles_seed():
    import csv
    from pathlib import Path

    seed = Path(__file__).resolve().parents[3] / "dbt" / "seeds" / "normal_quantiles.csv"
    rows = {int(r["level_key"]): float(r["z_score"]) for r in csv.DictReader(seed.open())}
    assert len(rows) == 1999 and min(rows) == 1 and max(rows) == 1999
    for key in (1, 1000, 1700, 1960, 1998):
        assert inventory.z_scores(np.array([key / 2000]))[0] == pytest.approx(rows[key], abs=1e-6)
    assert rows[1000] == 0.0 and rows[1960] == pytest.approx(2.053749, abs=1e-6)


def test_value_level_bounds_match_the_dbt_vars():
    from pathlib import Path

    import yaml

    project = Path(__file__).resolve().parents[3] / "dbt" / "dbt_project.yml"
    dbt_vars = yaml.safe_load(project.read_text())["vars"]
    assert dbt_vars["service_level_min"] == inventory.SERVICE_LEVEL_MIN
    assert dbt_vars["service_level_max"] == inventory.SERVICE_LEVEL_MAX
    # the benchmark's policy row replays risk_scale 1: the marts must run the same
    assert dbt_vars["service_risk_scale"] == 1
