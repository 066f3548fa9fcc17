"""The REST API against a real uvicorn server, Redis and a gold lake."""

from __future__ import annotations

import time
from urllib.parse import quote

import pytest

from backend.lake.reader import write_gold_version
from tests.integration.api.conftest import Api
from tests.services.gold import SCHEMAS, forecast_rows, write_gold

pytestmark = pytest.mark.integration

LISTS = {
    "/api/v1/items": 3,
    "/api/v1/towers": 4,
    "/api/v1/depots": 2,
    "/api/v1/inventory": 6,  # the latest snapshot only
    "/api/v1/forecasts": 6 * 14,  # the latest run's horizon
    "/api/v1/reorder-points": 6,
    "/api/v1/alerts": 2,
}


@pytest.mark.parametrize(("path", "count"), LISTS.items())
def test_lists_return_typed_pages_with_totals(api: Api, path: str, count: int) -> None:
    with api.client() as client:
        body = client.get(path, params={"limit": 2, "offset": 1}).json()
    assert body["count"] == count
    assert body["limit"] == 2 and body["offset"] == 1
    assert len(body["data"]) == min(2, count - 1)


def test_filters(api: Api) -> None:
    with api.client() as client:
        radio = client.get("/api/v1/items", params={"category": "radio"}).json()
        assert {i["item_id"] for i in radio["data"]} == {"ITM002", "ITM003"}
        named = client.get("/api/v1/items", params={"q": "part itm003"}).json()
        assert [i["item_id"] for i in named["data"]] == ["ITM003"]
        points = client.get(
            "/api/v1/forecasts",
            params={"item_id": "ITM001", "depot_id": "DEP02", "start": "2026-11-02",
                    "end": "2026-11-05"},
        ).json()  # fmt: skip
        assert [p["target_date"] for p in points["data"]] == [
            "2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05",
        ]  # fmt: skip
        by_category = client.get("/api/v1/forecasts", params={"category": "antenna"}).json()
        assert {p["item_id"] for p in by_category["data"]} == {"ITM001"}
        critical = client.get("/api/v1/alerts", params={"severity": "critical"}).json()
        assert [a["item_id"] for a in critical["data"]] == ["ITM001"]
        older = client.get("/api/v1/inventory", params={"snapshot_date": "2026-09-30"}).json()
        assert older["count"] == 6
        assert client.get("/api/v1/items/ITM002").json()["category"] == "radio"
        missing = client.get("/api/v1/items/NOPE")
        assert missing.status_code == 404 and "NOPE" in missing.json()["detail"]


def test_forecast_summary_accuracy_windows(api: Api) -> None:
    with api.client() as client:
        summary = client.get("/api/v1/forecasts/summary", params={"item_id": "ITM001"}).json()
    assert summary["forecast_date"] == "2026-10-31"
    assert summary["horizon_days"] == 14
    assert summary["forecast_qty"] == pytest.approx(5.0 * 14 * 2)
    windows = {w["window"]: w for w in summary["accuracy"]}
    assert list(windows) == ["7d", "30d", "90d", "1y"]
    # One-day-ahead points for 60 past runs, 2 depots: 7, 30, then all 60 days.
    assert [windows[w]["points"] for w in windows] == [14, 60, 120, 120]
    # Actuals cycle yhat-1, yhat, yhat+1: absolute error 2/3 on average.
    assert windows["30d"]["mae"] == pytest.approx(2 / 3)
    assert windows["7d"]["end_date"] == "2026-10-31"


def test_forecast_accuracy_by_group(api: Api) -> None:
    with api.client() as client:
        body = client.get("/api/v1/forecast-accuracy", params={"group_by": "demand_class"}).json()
    groups = {g["group"]: g for g in body["data"]}
    assert set(groups) == {"smooth", "lumpy"}
    assert groups["smooth"]["points"] == 2 * 2 * 60


def test_auth(api: Api) -> None:
    with api.client(token=None) as anonymous:
        missing = anonymous.get("/api/v1/items")
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"] == "Bearer"
        assert "API key" in missing.json()["detail"]
        assert anonymous.get("/health").status_code == 200  # probes need no key
    with api.client(token="nova_0000_not-a-key") as wrong:
        assert wrong.get("/api/v1/items").status_code == 401
    with api.client("viewer") as viewer:
        denied = viewer.get("/api/v1/keys")
        assert denied.status_code == 403 and "admin" in denied.json()["detail"]
    with api.client("admin") as admin:
        keys = admin.get("/api/v1/keys").json()
        assert {k["role"] for k in keys["data"]} == {"viewer", "admin"}
        assert all("hash" not in k for k in keys["data"])


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/items", {"limit": 0}),
        ("/api/v1/items", {"limit": 5000}),
        ("/api/v1/items", {"offset": -1}),
        ("/api/v1/items", {"limit": "ten"}),
        ("/api/v1/items", {"category": "x" * 65}),
        ("/api/v1/forecasts", {"start": "2026-13-01"}),
        ("/api/v1/forecasts", {"start": "0"}),
        ("/api/v1/items", {"colour": "red"}),
        ("/api/v1/forecasts", {"demand_class": "weird"}),
        ("/api/v1/alerts", {"severity": "panic"}),
        ("/api/v1/forecast-accuracy", {"group_by": "item_name; drop table x"}),
        ("/api/v1/towers", {"sla_tier": "bronze"}),
        ("/api/v1/reorder-points", {"needs_order": "maybe"}),
    ],
)
def test_invalid_input_is_a_clear_4xx(api: Api, path: str, params: dict[str, object]) -> None:
    with api.client() as client:
        response = client.get(path, params=params)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422 and problem["detail"].startswith("invalid query.")
    assert problem["errors"] and problem["errors"][0]["loc"][0] == "query"


def test_an_empty_date_range_is_an_empty_page(api: Api) -> None:
    with api.client() as client:
        response = client.get("/api/v1/alerts", params={"start": "2026-10-02", "end": "2026-10-01"})
    assert response.status_code == 200
    assert response.json()["count"] == 0


INJECTIONS = [
    "' or '1'='1",
    "ITM001' --",
    "x'; drop table dim_items; --",
    '" or ""="',
    "1) or (1=1",
    "%' or 1=1 or '%",
    "ITM001\x00",
    "$item_id",
    "?",
]
TEXT_PARAMS = {
    "/api/v1/items": ["category", "family", "supplier_id", "q"],
    "/api/v1/towers": ["depot_id", "municipality"],
    "/api/v1/depots": ["state"],
    "/api/v1/inventory": ["item_id", "depot_id", "category"],
    "/api/v1/forecasts": ["item_id", "depot_id", "category"],
    "/api/v1/forecasts/summary": ["item_id", "depot_id", "category"],
    "/api/v1/forecast-accuracy": ["item_id", "depot_id", "category"],
    "/api/v1/reorder-points": ["item_id", "depot_id", "category"],
    "/api/v1/alerts": ["item_id", "depot_id", "category"],
}


def test_sql_injection_strings_give_4xx_or_nothing(api: Api) -> None:
    checked = 0
    with api.client() as client:
        for path, names in TEXT_PARAMS.items():
            for name in names:
                for value in INJECTIONS:
                    response = client.get(path, params={name: value})
                    assert response.status_code < 500, (path, name, value, response.text)
                    if response.status_code == 200:
                        body = response.json()
                        rows = body.get("data", [])
                        if path.endswith("summary"):
                            rows = [w for w in body["accuracy"] if w["points"]]
                        assert rows == [], (path, name, value)
                    checked += 1
        for value in INJECTIONS:
            for detail in ("items", "towers", "depots"):
                response = client.get(f"/api/v1/{detail}/{quote(value, safe='')}")
                assert response.status_code in (404, 422), (detail, value)
    # and the tables are all still there
    with api.client() as client:
        assert client.get("/api/v1/items").json()["count"] == 3
    assert checked == sum(len(v) for v in TEXT_PARAMS.values()) * len(INJECTIONS)


def _metric(api: Api, name: str, labels: str) -> float:
    with api.client(None) as client:
        text = client.get("/metrics").text
    for line in text.splitlines():
        if line.startswith(f"{name}{{{labels}}}"):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_cache_hits_and_metrics(api: Api) -> None:
    params = {"depot_id": "DEP01", "limit": 7}
    hits = _metric(api, "nova_api_cache_total", 'result="local_hit"')
    with api.client() as client:
        first = client.get("/api/v1/towers", params=params)
        second = client.get("/api/v1/towers", params=params)
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert _metric(api, "nova_api_cache_total", 'result="local_hit"') == hits + 1
    requests = _metric(
        api, "nova_api_requests_total", 'method="GET",route="/api/v1/towers",status="200"'
    )
    assert requests >= 2


def test_new_gold_version_serves_fresh_data_without_restart(api: Api) -> None:
    params = {"item_id": "ITM002", "depot_id": "DEP01", "limit": 1}
    with api.client() as client:
        before = client.get("/api/v1/forecasts", params=params).json()["data"][0]["yhat"]
        assert before == 6.0
        # New table content, same version: the cached answer still stands.
        write_gold(api.settings, "fct_forecasts", forecast_rows(level=50.0),
                   SCHEMAS["fct_forecasts"])  # fmt: skip
        assert client.get("/api/v1/forecasts", params=params).json()["data"][0]["yhat"] == 6.0
        # The publish step bumps the version: the next requests read the new gold.
        write_gold_version(api.settings, "v-fresh")
        deadline = time.monotonic() + 10
        after = before
        while after == before and time.monotonic() < deadline:
            time.sleep(0.1)
            after = client.get("/api/v1/forecasts", params=params).json()["data"][0]["yhat"]
        assert after == 51.0
        assert client.get("/health").json()["gold_version"] == "v-fresh"


def test_redis_stopped_mid_test_serves_from_gold_and_reports_degraded(api: Api, redis) -> None:  # type: ignore[no-untyped-def]
    with api.client() as client:
        assert client.get("/health").json()["dependencies"]["redis"]["status"] == "ok"
        redis.stop()
        try:
            for path in LISTS:
                assert client.get(path, params={"limit": 3, "offset": 2}).status_code == 200
            assert client.get("/api/v1/forecasts/summary").status_code == 200
            health = client.get("/health").json()
            assert health["status"] == "degraded"
            assert health["dependencies"]["redis"]["status"] == "down"
        finally:
            redis.start()
        assert client.get("/health").json()["dependencies"]["redis"]["status"] == "ok"
        assert client.get("/api/v1/items").status_code == 200


def test_cors_allows_the_dashboard_origin(api: Api) -> None:
    with api.client(None) as client:
        response = client.options(
            "/api/v1/items",
            headers={"Origin": "https://dashboard.example", "Access-Control-Request-Method": "GET",
                     "Access-Control-Request-Headers": "authorization"},
        )  # fmt: skip
        assert response.headers["access-control-allow-origin"] == "https://dashboard.example"
        other = client.options(
            "/api/v1/items",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )
        assert "access-control-allow-origin" not in other.headers


def test_cached_answers_served_before_the_router_still_check_key_input_and_cors(api: Api) -> None:
    path, query = "/api/v1/items", "?category=radio&limit=2"
    origin = {"Origin": "https://dashboard.example"}
    with api.client() as client:
        first = client.get(path + query)
        hits = _metric(api, "nova_api_cache_total", 'result="local_hit"')
        again = client.get(path + query, headers=origin)  # answered from the known query
        assert again.status_code == first.status_code == 200
        assert again.content == first.content
        assert again.headers["content-type"] == "application/json"
        assert again.headers["access-control-allow-origin"] == "https://dashboard.example"
        assert _metric(api, "nova_api_cache_total", 'result="local_hit"') == hits + 1
        assert client.get(path + query + "&colour=red").status_code == 422
    for token in (None, "nova_0000_not-a-key", api.viewer + "x"):
        with api.client(token) as other:
            assert other.get(path + query).status_code == 401
    with api.client(None) as bare:
        lowercase = bare.get(path + query, headers={"Authorization": f"bearer {api.viewer}"})
        assert lowercase.content == first.content
