"""/series through the real API on simulated count series with known distributions: the
depot aggregate's 80% and 95% bands cover the independently drawn totals at their nominal
rates (within 5 points)."""

from __future__ import annotations

import numpy as np
import pytest

from backend.lake.reader import write_gold_version
from tests.integration.api.conftest import Api
from tests.services.gold import SCHEMAS, demand_rows, simulated_forecasts, write_gold

pytestmark = pytest.mark.integration

SERIES, HORIZON = 150, 365


def test_depot_aggregate_bands_cover_at_nominal_rates(api: Api) -> None:
    forecasts, demand, totals = simulated_forecasts("DEPSIM", SERIES, HORIZON, seed=11)
    write_gold(api.settings, "fct_forecasts", forecasts, SCHEMAS["fct_forecasts"])
    write_gold(api.settings, "fct_daily_demand", demand_rows() + demand,
               SCHEMAS["fct_daily_demand"])  # fmt: skip
    write_gold_version(api.settings, "v-simulated")
    with api.client() as client:
        response = client.get("/api/v1/series", params={"depot_id": "DEPSIM"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["series_count"] == SERIES and body["band_method"] == "normal_moments"
    points = body["forecast"]
    assert len(points) == HORIZON and all(p["series"] == SERIES for p in points)
    lo80, hi80, lo95, hi95 = (
        np.array([p[k] for p in points]) for k in ("yhat_lo_80", "yhat_hi_80", "yhat_lo_95",
                                                   "yhat_hi_95")
    )  # fmt: skip
    covered_80 = float(np.mean((totals >= lo80) & (totals <= hi80)))
    covered_95 = float(np.mean((totals >= lo95) & (totals <= hi95)))
    print(f"coverage through /series: 80% band {covered_80:.3f}, 95% band {covered_95:.3f}")
    assert covered_80 == pytest.approx(0.80, abs=0.05)
    assert covered_95 == pytest.approx(0.95, abs=0.05)
