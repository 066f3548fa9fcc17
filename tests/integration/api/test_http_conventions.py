"""HTTP conventions on the real server: problem details, ETags, probes, client limits."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from backend.api.main import create_app
from backend.settings import Settings
from tests.integration.api.conftest import Api
from tests.services.gold import build_gold

pytestmark = pytest.mark.integration

PROBLEM_KEYS = {"type", "title", "status", "detail"}


@pytest.mark.parametrize(
    ("path", "status"),
    [("/api/v1/items/NOPE", 404), ("/api/v1/items?limit=0", 422), ("/api/v1/keys", 403)],
)
def test_client_errors_are_problem_details(api: Api, path: str, status: int) -> None:
    with api.client() as client:
        response = client.get(path)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body.keys() >= PROBLEM_KEYS and body["status"] == status
    assert body["instance"] == path.split("?")[0]


def test_unauthenticated_is_a_problem_with_a_challenge(api: Api) -> None:
    with api.client(None) as client:
        response = client.get("/api/v1/items")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("path", ["/api/v1/items", "/api/v1/alerts?severity=critical", "/health"])
def test_etag_then_304(api: Api, path: str) -> None:
    with api.client() as client:
        first = client.get(path)
        etag = first.headers["etag"]
        assert first.status_code == 200 and etag.startswith('W/"')
        assert "no-cache" in first.headers["cache-control"]
        again = client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == etag
        other = client.get(path, headers={"If-None-Match": 'W/"something-else"'})
        assert other.status_code == 200 and other.content == first.content


def test_etag_changes_with_the_answer(api: Api) -> None:
    with api.client() as client:
        one = client.get("/api/v1/items", params={"limit": 1}).headers["etag"]
        two = client.get("/api/v1/items", params={"limit": 2}).headers["etag"]
    assert one != two


@pytest.mark.reliability
def test_probes(api: Api, tmp_path: Path) -> None:
    with api.client(None) as client:
        assert client.get("/livez").json() == {"status": "ok"}
        assert client.get("/readyz").status_code == 200
        health = client.get("/health").json()
    # Anonymous callers never see paths or exception text.
    assert str(api.settings.lake_root) not in str(health)

    empty = Settings(env="test", lake_root=str(tmp_path / "lake"), warehouse_dir=tmp_path / "wh")
    app = create_app(empty)

    async def probe() -> tuple[int, int, dict[str, object]]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            live = await client.get("/livez")
            ready = await client.get("/readyz")
            health = (await client.get("/health")).json()
            return live.status_code, ready.status_code, health

    live, ready, health = asyncio.run(probe())
    assert (live, ready) == (200, 503)
    assert health["dependencies"]["lake"]["status"] == "down"  # type: ignore[index]
    assert str(tmp_path) not in str(health)


@pytest.mark.reliability
def test_deep_offsets_are_refused(api: Api) -> None:
    with api.client() as client:
        assert client.get("/api/v1/forecasts", params={"offset": 100_000}).status_code == 200
        deep = client.get("/api/v1/forecasts", params={"offset": 100_001})
    assert deep.status_code == 422 and "offset" in deep.json()["detail"]


@pytest.mark.reliability
def test_a_client_over_its_rate_gets_429_with_retry_after(tmp_path: Path) -> None:
    settings = Settings(
        env="test",
        lake_root=str(tmp_path / "lake"),
        warehouse_dir=tmp_path / "wh",
        api_rate_per_minute=60,
        api_rate_burst=3,
    )
    build_gold(settings)
    app = create_app(settings)

    async def hammer() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app, client=("10.0.0.7", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return [await client.get("/api/v1/items") for _ in range(5)]

    statuses = [r.status_code for r in asyncio.run(hammer())]
    # Anonymous: 401 until the bucket is empty, then 429; probes stay exempt.
    assert statuses[:3] == [401, 401, 401] and statuses[3:] == [429, 429]
    limited = asyncio.run(hammer())[-1]
    assert limited.headers["content-type"] == "application/problem+json"
    assert int(limited.headers["retry-after"]) >= 1


def test_a_wrong_method_is_a_problem_naming_every_allowed_one(api: Api) -> None:
    with api.client() as client:
        response = client.put("/api/v1/orders")
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["allow"] == "GET, POST"  # both routes on the path, not the first
