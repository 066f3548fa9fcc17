"""The planner read routes (/actions, /series, /kpis, /runs) through a real uvicorn server,
Redis and the test gold lake (tests/services/gold.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest
from deltalake import write_deltalake

from backend.api.routes.series import aggregate_band
from backend.lake import delta
from tests.integration.api.conftest import Api
from tests.services.gold import (
    DEMAND_START,
    RUN_DATE,
    action_rows,
    demand_rows,
    forecast_rows,
)

pytestmark = pytest.mark.integration

LATEST_ACTIONS = [r for r in action_rows() if r["as_of_date"] == RUN_DATE]


# --- /actions -----------------------------------------------------------------------


def test_actions_latest_list_by_priority(api: Api) -> None:
    with api.client() as client:
        body = client.get("/api/v1/actions").json()
    assert body["count"] == 5  # the day before's line is not in the latest list
    ids = [r["action_id"] for r in body["data"]]
    # priority desc, nulls last
    assert ids == ["ACT-ITM001-DEP01", "ACT-ITM003-DEP01", "ACT-ITM002-DEP02",
                   "ACT-ITM001-DEP02", "ACT-ITM002-DEP01"]  # fmt: skip
    first = body["data"][0]
    assert first["action"] == "order" and first["quantity"] == 30.0
    assert first["worst_sla_tier"] == "gold" and first["sla_tiers"] == "gold,silver"
    assert first["stockout_date"] == "2026-11-02" and first["alert_id"] == "AL-1"
    expedite = next(r for r in body["data"] if r["action"] == "expedite")
    assert expedite["expedite_po_id"] == "PO-7"
    assert expedite["expedite_expected_date"] == "2026-11-09"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"depot_id": "DEP01"}, {"ACT-ITM001-DEP01", "ACT-ITM003-DEP01", "ACT-ITM002-DEP01"}),
        ({"category": "antenna"}, {"ACT-ITM001-DEP01", "ACT-ITM001-DEP02"}),
        ({"severity": "critical"}, {"ACT-ITM001-DEP01", "ACT-ITM003-DEP01"}),
        ({"action": "watch"}, {"ACT-ITM001-DEP02", "ACT-ITM002-DEP01"}),
        ({"item_id": "ITM002"}, {"ACT-ITM002-DEP02", "ACT-ITM002-DEP01"}),
        ({"item_id": "ITM002", "severity": "warning", "depot_id": "DEP02"}, {"ACT-ITM002-DEP02"}),
        ({"action": "transfer", "depot_id": "DEP02"}, set()),
    ],
)
def test_actions_filters(api: Api, params: dict[str, str], expected: set[str]) -> None:
    with api.client() as client:
        body = client.get("/api/v1/actions", params=params).json()
    assert {r["action_id"] for r in body["data"]} == expected
    assert body["count"] == len(expected)


def test_actions_sort_and_paging(api: Api) -> None:
    with api.client() as client:
        by_days = client.get("/api/v1/actions", params={"sort": "days_to_stockout"}).json()
        ranked = client.get("/api/v1/actions", params={"sort": "-severity,-value_at_risk"}).json()
        page = client.get(
            "/api/v1/actions", params={"sort": "item_id,depot_id", "limit": 2, "offset": 2}
        ).json()
    assert [r["days_to_stockout"] for r in by_days["data"]] == [2, 5, 6, 12, None]
    # critical before warning before none, then value at risk
    assert [r["action_id"] for r in ranked["data"]] == [
        "ACT-ITM001-DEP01", "ACT-ITM003-DEP01", "ACT-ITM002-DEP02", "ACT-ITM002-DEP01",
        "ACT-ITM001-DEP02",
    ]  # fmt: skip
    assert page["count"] == 5 and page["limit"] == 2 and page["offset"] == 2
    assert [(r["item_id"], r["depot_id"]) for r in page["data"]] == [
        ("ITM002", "DEP01"), ("ITM002", "DEP02"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    "params",
    [
        {"sort": "nope"},
        {"sort": "priority;drop table x"},
        {"sort": "a,b,c,d"},
        {"sort": "-priority,-priority,-priority,-priority"},
        {"severity": "urgent"},
        {"action": "buy"},
        {"limit": 0},
        {"offset": -1},
        {"colour": "red"},
    ],
)
def test_actions_bad_input_is_422(api: Api, params: dict[str, Any]) -> None:
    with api.client() as client:
        response = client.get("/api/v1/actions", params=params)
    assert response.status_code == 422, response.text


def test_planner_routes_need_a_key(api: Api) -> None:
    with api.client(token=None) as client:
        for path in ("/api/v1/actions", "/api/v1/kpis", "/api/v1/runs",
             "/api/v1/series?item_id=ITM001&depot_id=DEP01"):  # fmt: skip
            assert client.get(path).status_code == 401, path


# --- /series ------------------------------------------------------------------------


def _rolled_on_hand(item: str, depot: str) -> dict[date, float]:
    """End-of-day on-hand from the fixture, computed the plain way: forward from the Sep 30
    snapshot (20 units), backward from it before."""
    rows = sorted(
        (r for r in demand_rows() if r["item_id"] == item and r["depot_id"] == depot),
        key=lambda r: r["demand_date"],
    )
    net = {
        r["demand_date"]: r["receipts_qty"] + r["adjustments_qty"] - r["demand_qty"] for r in rows
    }
    anchor = date(2026, 9, 30)
    level, out = 20.0, {anchor: 20.0}
    day = anchor
    while day < RUN_DATE:
        day += timedelta(days=1)
        level += net[day]
        out[day] = level
    level, day = 20.0, anchor
    while day > DEMAND_START:
        level -= net[day]
        day -= timedelta(days=1)
        out[day] = level
    return out


def test_series_pair_daily(api: Api) -> None:
    with api.client() as client:
        body = client.get(
            "/api/v1/series", params={"item_id": "ITM003", "depot_id": "DEP02"}
        ).json()
    assert body["group"] == "pair" and body["series_count"] == 1
    assert body["start_date"] == "2026-08-03"  # 90 days up to the latest demand date
    assert body["end_date"] == "2026-11-14"  # the forecast's last day
    history = {p["period_start"]: p for p in body["history"]}
    assert len(history) == 90 and all(p["days"] == 1 for p in body["history"])
    expected = _rolled_on_hand("ITM003", "DEP02")
    for day in (date(2026, 8, 3), date(2026, 9, 30), date(2026, 10, 7), date(2026, 10, 9),
                date(2026, 10, 10), RUN_DATE):  # fmt: skip
        assert history[day.isoformat()]["on_hand"] == expected[day], day
    assert history["2026-10-08"]["on_hand"] == 0 and history["2026-10-31"]["on_hand"] == 20
    assert history["2026-10-01"]["demand_qty"] == 3
    # the latest run's 14 days with the model's own bands; the reorder point
    assert body["forecast_date"] == "2026-10-31" and body["band_method"] == "model"
    assert [p["period_start"] for p in body["forecast"]][:2] == ["2026-11-01", "2026-11-02"]
    assert len(body["forecast"]) == 14
    point = body["forecast"][0]
    assert (point["yhat"], point["yhat_lo_80"], point["yhat_hi_95"]) == pytest.approx((7, 5.6, 9.8))
    assert body["reorder_point"] == 10.0 and body["safety_stock"] == 5.0
    assert body["reorder_as_of_date"] == "2026-10-31"


def test_series_weekly_and_date_range(api: Api) -> None:
    params = {"item_id": "ITM001", "depot_id": "DEP01", "grain": "week",
              "start": "2026-10-01", "end": "2026-11-08"}  # fmt: skip
    with api.client() as client:
        body = client.get("/api/v1/series", params=params).json()
    weeks = [(p["period_start"], p["days"]) for p in body["history"]]
    # Thu Oct 1 starts a partial ISO week; Oct 31 is a Saturday
    assert weeks[0] == ("2026-09-28", 4) and weeks[-1] == ("2026-10-26", 6)
    assert len(weeks) == 5
    oct_demand = sum(r["demand_qty"] for r in demand_rows()
                     if r["item_id"] == "ITM001" and r["depot_id"] == "DEP01"
                     and date(2026, 10, 1) <= r["demand_date"] <= RUN_DATE)  # fmt: skip
    assert sum(p["demand_qty"] for p in body["history"]) == oct_demand
    assert body["history"][-1]["on_hand"] == 20  # the week's last day: the Oct 31 snapshot
    # forecast weeks up to Nov 8: Sun Nov 1 alone, then Nov 2..8; bands from moments
    assert body["band_method"] == "normal_moments"
    assert [(p["period_start"], p["days"]) for p in body["forecast"]] == [
        ("2026-10-26", 1), ("2026-11-02", 7),
    ]  # fmt: skip
    week = body["forecast"][1]
    band = aggregate_band([5.0] * 7, [4.0] * 7, [6.0] * 7, [3.0] * 7, [7.0] * 7)
    assert week["yhat"] == pytest.approx(35.0)
    assert (week["yhat_lo_80"], week["yhat_hi_95"]) == pytest.approx((band.lo80, band.hi95))
    # narrower than adding the days' quantiles, which treats every day as its worst case
    assert week["yhat_hi_95"] < 7 * 7.0


def test_series_aggregate_by_depot_and_category(api: Api) -> None:
    with api.client() as client:
        depot = client.get("/api/v1/series", params={"depot_id": "DEP01"}).json()
        radio = client.get("/api/v1/series", params={"category": "radio"}).json()
        radio_dep2 = client.get(
            "/api/v1/series",
            params={"category": "radio", "depot_id": "DEP02"},
        ).json()
    assert depot["series_count"] == 3 and radio["series_count"] == 4
    assert radio_dep2["series_count"] == 2
    assert depot["group"] == "aggregate" and depot["reorder_point"] is None
    assert depot["band_method"] == "normal_moments"
    assert depot["history"][-1]["on_hand"] == 60  # 3 items x 20 on the last snapshot
    day_one = [r for r in forecast_rows() if r["forecast_date"] == RUN_DATE
               and r["depot_id"] == "DEP01" and r["horizon_day"] == 1]  # fmt: skip
    expected = aggregate_band(*([r[k] for r in day_one] for k in (
        "yhat", "yhat_lo_80", "yhat_hi_80", "yhat_lo_95", "yhat_hi_95")))  # fmt: skip
    got = depot["forecast"][0]
    assert got["series"] == 3 and got["yhat"] == pytest.approx(5 + 6 + 7)
    assert (got["yhat_lo_80"], got["yhat_hi_80"], got["yhat_lo_95"], got["yhat_hi_95"]) == (
        pytest.approx((expected.lo80, expected.hi80, expected.lo95, expected.hi95))
    )
    assert got["yhat_hi_95"] - got["yhat"] < sum(r["yhat_hi_95"] - r["yhat"] for r in day_one)


def test_series_of_an_item_across_depots_and_of_everything(api: Api) -> None:
    with api.client() as client:
        item = client.get("/api/v1/series", params={"item_id": "ITM002"}).json()
        everything = client.get("/api/v1/series", params={"grain": "week"}).json()
        backwards = client.get(
            "/api/v1/series", params={"depot_id": "DEP01", "start": "2026-10-10",
                                      "end": "2026-10-01"},
        )  # fmt: skip
    assert item["group"] == "aggregate" and item["series_count"] == 2
    assert item["forecast"][0]["yhat"] == pytest.approx(2 * 6.0)
    assert everything["series_count"] == 6 and everything["history"][-1]["on_hand"] == 120
    # an empty range is an empty answer, as the list routes give an empty page
    assert backwards.status_code == 200
    assert backwards.json()["history"] == [] and backwards.json()["forecast"] == []


@pytest.mark.parametrize(
    "params",
    [
        {"group": "depot", "depot_id": "DEP01"},
        {"item_id": "ITM001", "depot_id": "DEP01", "grain": "month"},
        {"item_id": "ITM001", "depot_id": "DEP01", "start": "0"},
        {"item_id": "ITM001", "depot_id": "DEP01", "end": "2026-13-01"},
        {"item_id": "", "depot_id": "DEP01"},
        {"item_id": "ITM001", "depot_id": "DEP01", "limit": "10"},
    ],
)
def test_series_bad_input_is_422(api: Api, params: dict[str, str]) -> None:
    with api.client() as client:
        response = client.get("/api/v1/series", params=params)
    assert response.status_code == 422, response.text


def test_series_unknown_is_404(api: Api) -> None:
    with api.client() as client:
        pair = client.get("/api/v1/series", params={"item_id": "NOPE", "depot_id": "DEP01"})
        depot = client.get("/api/v1/series", params={"depot_id": "DEP99"})
        none = client.get("/api/v1/series", params={"item_id": "ITM001", "category": "radio"})
    assert pair.status_code == 404 and "NOPE" in pair.json()["detail"]
    assert depot.status_code == 404 and none.status_code == 404


# --- /kpis --------------------------------------------------------------------------


def _bronze(api: Api, source: str, entity: str, days: dict[date, datetime]) -> None:
    uri = delta.table_uri("bronze", source, entity, settings=api.settings)
    table = pa.table({
        "value": pa.array(list(range(len(days))), pa.int64()),
        "_ingested_at": pa.array(list(days.values()), pa.timestamp("us", tz="UTC")),
        "_ingest_date": pa.array(list(days), pa.date32()),
    })  # fmt: skip
    write_deltalake(uri, table, mode="overwrite", partition_by=["_ingest_date"])


def _report(api: Api, run_id: str, status: str, **extra: Any) -> None:
    end = datetime.strptime(run_id.split("-")[1], "%Y%m%d").date()
    payload = {
        "run_id": run_id, "kind": "run", "start": end.isoformat(), "end": end.isoformat(),
        "status": status, "seconds": 12.5, "errors": [], "notes": [], "layers": {"silver": 2.0},
        "dbt_tests": {"pass": 10, "warn": 0, "fail": 0, "error": 0},
        "tables": {"bronze.erp.items": {"rows_read": 3, "rows_written": 3, "rows_quarantined": 1},
                   "bronze.erp.stock_movements": {"rows_read": 9, "rows_written": 9,
                                                  "rows_quarantined": 2}},
        "steps": [{"name": "extract", "seconds": 1.5, "status": "success", "detail": {"erp": 2},
                   "rows": 12, "rows_per_second": 8.0}],
        **extra,
    }  # fmt: skip
    uri = delta.table_uri("reports", f"run_date={end.isoformat()}", f"{run_id}.json",
                          settings=api.settings)  # fmt: skip
    delta.write_json(uri, payload, api.settings)


RUNS = [  # oldest first
    ("20261029-20261029-20261030T050000Z-aaaaaa", "success"),
    ("20261030-20261030-20261031T050000Z-bbbbbb", "degraded"),
    ("20261031-20261031-20261101T050000Z-cccccc", "failed"),
]


# the latest run's freshness (backend/pipeline/freshness.py), which the KPIs add per source
JUDGED = {
    "erp": {"source": "erp", "status": "fresh", "newest": "2026-10-31", "age_days": 0,
            "max_age_days": 2, "reason": ""},
    "inmet": {"source": "inmet", "status": "stale", "newest": "2026-10-27", "age_days": 4,
              "max_age_days": 3, "reason": "inmet is stale"},
}  # fmt: skip


@pytest.fixture(scope="module")
def runs_and_bronze(api: Api) -> None:
    for run_id, status in RUNS:
        errors = ["forecast: boom"] if status == "failed" else []
        _report(api, run_id, status, errors=errors, freshness=JUDGED if run_id == RUNS[-1][0]
                else {})  # fmt: skip
    late = datetime(2026, 11, 1, 5, 3, tzinfo=UTC)
    _bronze(api, "erp", "items", {date(2026, 10, 30): datetime(2026, 10, 31, 5, tzinfo=UTC),
                                  RUN_DATE: late})  # fmt: skip
    # a backfill wrote an old partition later: freshness follows the newest partition
    _bronze(api, "erp", "stock_movements", {date(2026, 10, 1): datetime(2026, 11, 2, tzinfo=UTC),
                                            RUN_DATE: late - timedelta(minutes=1)})  # fmt: skip
    _bronze(api, "inmet", "weather", {date(2026, 10, 29): datetime(2026, 10, 30, tzinfo=UTC)})


def test_kpis(api: Api, runs_and_bronze: None) -> None:
    with api.client() as client:
        body = client.get("/api/v1/kpis").json()
    assert body["as_of_date"] == "2026-10-31"
    assert body["stock_value"] == 6 * 250.0
    assert [(m["month"], m["snapshot_date"], m["stock_value"]) for m in
            body["stock_value_by_month"]] == [("2026-09-01", "2026-09-30", 1500.0),
                                              ("2026-10-01", "2026-10-31", 1500.0)]  # fmt: skip
    assert body["open_alerts"] == {"critical": 2, "warning": 2, "total": 4}
    tiers = {t["sla_tier"]: (t["critical"], t["warning"]) for t in body["open_alerts_by_sla_tier"]}
    assert tiers == {"platinum": (0, 1), "gold": (1, 0), "silver": (1, 0), None: (0, 1)}
    # stockout in 2, 5 and 6 days against a 7-day lead time; 12 days is not at risk
    assert body["at_risk"] == {"pairs": 3, "value_at_risk": 250.0 + 100.0 + 62.5}

    fill = body["fill_rate"]
    assert (fill["start_date"], fill["end_date"]) == ("2026-10-02", "2026-10-31")
    issued = sum(r["demand_qty"] for r in demand_rows() if r["demand_date"] >= date(2026, 10, 2))
    # ITM003 opens Oct 8 and Oct 9 empty at both depots; each loses its 2.0 a day
    assert fill["stockout_days"] == 4 and fill["lost_qty"] == 8.0
    assert fill["issued_qty"] == issued
    assert fill["fill_rate"] == pytest.approx(issued / (issued + 8.0))

    weeks = body["accuracy_by_week"]
    # one-day-ahead targets Sep 2..Oct 31: nine ISO weeks, all inside the 12 asked for
    assert len(weeks) == 9 and weeks[0]["week_start"] == "2026-08-31"
    assert weeks[-1]["week_start"] == "2026-10-26"
    assert sum(w["points"] for w in weeks) == sum(
        1 for r in forecast_rows() if r["actual_qty"] is not None
        and r["target_date"] >= date(2026, 8, 10)
    )  # fmt: skip
    assert all(w["bias"] == pytest.approx(0.0, abs=0.1) for w in weeks)

    fresh = {f["source"]: f for f in body["freshness"]}
    assert fresh["erp"] == {"source": "erp", "tables": 2, "latest_ingest_date": "2026-10-31",
                            "latest_ingested_at": "2026-11-01T05:03:00+00:00",
                            "status": "fresh", "age_days": 0, "max_age_days": 2}  # fmt: skip
    assert fresh["inmet"]["latest_ingest_date"] == "2026-10-29"
    assert (fresh["inmet"]["status"], fresh["inmet"]["age_days"]) == ("stale", 4)
    assert body["last_run"]["run_id"] == RUNS[-1][0]
    assert body["last_run"]["status"] == "failed" and body["last_run"]["errors"] == 1


def test_kpis_for_one_depot(api: Api, runs_and_bronze: None) -> None:
    with api.client() as client:
        body = client.get("/api/v1/kpis", params={"depot_id": "DEP02", "weeks": 2}).json()
    assert body["depot_id"] == "DEP02" and body["stock_value"] == 3 * 250.0
    assert body["open_alerts"] == {"critical": 0, "warning": 1, "total": 1}
    assert body["at_risk"]["pairs"] == 1
    assert body["fill_rate"]["stockout_days"] == 2
    assert len(body["accuracy_by_week"]) == 2


@pytest.mark.parametrize("params", [{"months": 0}, {"weeks": 500}, {"depot": "DEP01"},
                                    {"depot_id": ""}])  # fmt: skip
def test_kpis_bad_input_is_422(api: Api, params: dict[str, Any]) -> None:
    with api.client() as client:
        assert client.get("/api/v1/kpis", params=params).status_code == 422


# --- /runs --------------------------------------------------------------------------


def test_runs_newest_first_and_paged(api: Api, runs_and_bronze: None) -> None:
    with api.client() as client:
        body = client.get("/api/v1/runs").json()
        page = client.get("/api/v1/runs", params={"limit": 1, "offset": 1}).json()
    assert body["count"] == 3
    assert [(r["run_id"], r["status"]) for r in body["data"]] == list(reversed(RUNS))
    assert body["data"][0]["started_at"] == "2026-11-01T05:00:00+00:00"
    assert page["count"] == 3 and [r["run_id"] for r in page["data"]] == [RUNS[1][0]]


def test_run_report(api: Api, runs_and_bronze: None) -> None:
    with api.client() as client:
        response = client.get(f"/api/v1/runs/{RUNS[-1][0]}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "failed" and body["error_messages"] == ["forecast: boom"]
    assert body["quarantined"] == 3
    assert body["steps"][0]["name"] == "extract" and body["steps"][0]["rows"] == 12
    assert body["tables"]["bronze.erp.items"]["rows_quarantined"] == 1
    assert body["dbt_tests"]["pass"] == 10 and body["layers"] == {"silver": 2.0}


def test_run_unknown_is_404_and_bad_id_is_422(api: Api, runs_and_bronze: None) -> None:
    with api.client() as client:
        unknown = client.get("/api/v1/runs/20261031-20261031-20261101T050000Z-dddddd")
        no_day = client.get("/api/v1/runs/20261031-20261399-20261101T050000Z-dddddd")
        assert unknown.status_code == 404 and no_day.status_code == 404
        for bad in ("..%2F..%2Fapi_keys", "20261031-20261031-x", "%2E%2E",
                    "20261031-20261031-20261101T050000Z-cccccc.json"):  # fmt: skip
            response = client.get(f"/api/v1/runs/{bad}")
            assert response.status_code in (404, 422), bad
            assert response.status_code != 200
        assert client.get(f"/api/v1/runs/{'1' * 8}-{'2' * 8}-bad").status_code == 422
