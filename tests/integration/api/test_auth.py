"""People signing in: sessions, CSRF, failed sign-in limits, depot scope on every route and
on the socket, and sockets closed when a user is disabled or a key revoked (issue 12, 15)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from backend.appdb.keys import create_key, revoke_key
from backend.appdb.users import Role, create_user, set_disabled
from tests.integration.api.conftest import Api
from tests.integration.api.test_alerts_ws import alert, next_alert, produce, wait_feed_ready

pytestmark = pytest.mark.integration
PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def forget_failed_sign_ins(api: Api) -> Iterator[None]:
    """Every test signs in from 127.0.0.1: one test's failures must not hold the next."""
    yield
    with api.app_db.begin() as conn:
        conn.execute(sa.text("delete from login_attempts"))


def person(api: Api, role: Role = "planner", depots: list[str] | None = None) -> str:
    email = f"{uuid.uuid4().hex[:8]}@novacorrente.example"
    create_user(api.app_db, email=email, password=PASSWORD, role=role, depots=depots)
    return email


def sign_in(api: Api, email: str, password: str = PASSWORD) -> tuple[httpx.Client, dict[str, Any]]:
    client = api.client(token=None)
    answer = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert answer.status_code == 200, answer.text
    return client, answer.json()


def test_sign_in_me_and_sign_out(api: Api) -> None:
    email = person(api, depots=["DEP01"])
    client, body = sign_in(api, email.upper())  # emails are not case-sensitive
    assert (body["email"], body["role"], body["depots"]) == (email, "planner", ["DEP01"])
    cookies = client.cookies
    assert cookies["nova_csrf"] == body["csrf_token"]
    session_cookie = next(c for c in client.cookies.jar if c.name == "nova_session")
    assert session_cookie.has_nonstandard_attr("HttpOnly") and session_cookie.path == "/"
    assert not session_cookie.secure  # env=test; Secure elsewhere
    raw = client.post(
        "/api/v1/auth/login", json={"email": email, "password": PASSWORD}
    ).headers.get_list("set-cookie")
    session_header = next(h for h in raw if h.startswith("nova_session="))
    assert "HttpOnly" in session_header and "SameSite=lax" in session_header
    assert "HttpOnly" not in next(h for h in raw if h.startswith("nova_csrf="))

    me = client.get("/api/v1/auth/me").json()
    assert me["email"] == email and me["kind"] == "session"
    assert me["csrf_token"] == client.cookies["nova_csrf"] and me["expires_at"]
    assert client.get("/api/v1/items").status_code == 200
    stolen = dict(client.cookies)
    out = client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": me["csrf_token"]})
    assert out.status_code == 204
    assert "nova_session" not in client.cookies
    # Revoked server-side: a copy of the cookie kept by someone is dead too.
    with api.client(token=None) as replay:
        replay.cookies.update(stolen)
        assert replay.get("/api/v1/auth/me").status_code == 401
    client.close()


def test_a_write_with_the_cookie_needs_the_csrf_token(api: Api) -> None:
    client, body = sign_in(api, person(api))
    assert client.post("/api/v1/auth/logout").status_code == 403
    wrong = client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": "x" * 43})
    assert wrong.status_code == 403
    assert client.get("/api/v1/auth/me").status_code == 200  # still signed in
    ok = client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": body["csrf_token"]})
    assert ok.status_code == 204
    # A service's bearer key is not a cookie a browser sends by itself: no CSRF token.
    with api.client("viewer") as service:
        assert service.post("/api/v1/auth/logout").status_code == 204
    client.close()


def test_wrong_passwords_lock_the_account_out_with_retry_after(api: Api) -> None:
    email = person(api)
    limit = api.settings.login_max_failures_per_account
    with api.client(token=None) as client:
        unknown = client.post("/api/v1/auth/login",
                              json={"email": "nobody@novacorrente.example", "password": "guess"})  # fmt: skip
        for _ in range(limit):
            wrong = client.post("/api/v1/auth/login", json={"email": email, "password": "guess"})
            # The same answer for a wrong password and an unknown account.
            assert (wrong.status_code, wrong.json()) == (unknown.status_code, unknown.json())
            assert wrong.status_code == 401
        held = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert held.status_code == 429  # even the right password, until the window passes
        assert 0 < int(held.headers["retry-after"]) <= api.settings.login_window_seconds
        # Another account from the same address is not held by this one's failures.
        assert client.post("/api/v1/auth/login",
                           json={"email": person(api), "password": PASSWORD}).status_code == 200  # fmt: skip


def test_failures_across_accounts_hold_the_address(api: Api) -> None:
    with api.client(token=None) as client:
        for n in range(api.settings.login_max_failures_per_address):
            answer = client.post("/api/v1/auth/login",
                                 json={"email": f"spray{n}@x.example", "password": "guess"})  # fmt: skip
            assert answer.status_code == 401
        held = client.post("/api/v1/auth/login", json={"email": person(api), "password": PASSWORD})
        assert held.status_code == 429 and int(held.headers["retry-after"]) > 0


def test_a_disabled_user_is_refused_within_seconds(api: Api) -> None:
    email = person(api)
    client, _ = sign_in(api, email)
    assert client.get("/api/v1/items").status_code == 200
    set_disabled(api.app_db, email, True)
    deadline = time.monotonic() + 10
    while client.get("/api/v1/items").status_code != 401:
        assert time.monotonic() < deadline, "a disabled user still reads after 10 s"
        time.sleep(0.2)
    assert client.get("/api/v1/auth/me").status_code == 401
    with api.client(token=None) as again:
        refused = again.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert refused.status_code == 401
    client.close()


SCOPED_LISTS = [
    "/api/v1/towers",
    "/api/v1/depots",
    "/api/v1/inventory",
    "/api/v1/forecasts?limit=1000",
    "/api/v1/reorder-points",
    "/api/v1/alerts",
    "/api/v1/actions",
]


@pytest.mark.parametrize("path", SCOPED_LISTS)
def test_depot_scope_holds_on_every_list(api: Api, path: str) -> None:
    scoped, _ = sign_in(api, person(api, role="viewer", depots=["DEP01"]))
    # The same query by an unscoped key just before and just after: neither order may let
    # one scope's cached body answer the other.
    with api.client("viewer") as service:
        before = service.get(path).json()
        mine = scoped.get(path).json()
        after = service.get(path).json()
    assert before == after
    assert {row["depot_id"] for row in before["data"]} == {"DEP01", "DEP02"}
    assert mine["data"] and {row["depot_id"] for row in mine["data"]} == {"DEP01"}
    assert mine["count"] == sum(row["depot_id"] == "DEP01" for row in before["data"])
    # Asking for another depot explicitly gives nothing, not that depot's rows.
    separator = "&" if "?" in path else "?"
    other = scoped.get(f"{path}{separator}depot_id=DEP02")
    if path != "/api/v1/depots":  # depots has no depot_id filter (422 on an unknown one)
        assert other.status_code == 200 and other.json()["count"] == 0
    scoped.close()


def test_depot_scope_holds_on_single_rows_summaries_and_accuracy(api: Api) -> None:
    scoped, _ = sign_in(api, person(api, role="viewer", depots=["DEP01"]))
    with api.client("viewer") as service:
        assert scoped.get("/api/v1/depots/DEP02").status_code == 404
        assert scoped.get("/api/v1/depots/DEP01").status_code == 200
        towers = service.get("/api/v1/towers").json()["data"]
        theirs = next(t["tower_id"] for t in towers if t["depot_id"] == "DEP02")
        mine = next(t["tower_id"] for t in towers if t["depot_id"] == "DEP01")
        assert scoped.get(f"/api/v1/towers/{theirs}").status_code == 404
        assert scoped.get(f"/api/v1/towers/{mine}").status_code == 200
        summary = scoped.get("/api/v1/forecasts/summary").json()
        expected = service.get("/api/v1/forecasts/summary?depot_id=DEP01").json()
        assert summary["forecast_qty"] == expected["forecast_qty"]
        assert summary["accuracy"] == expected["accuracy"]
        assert (
            summary["forecast_qty"]
            < service.get("/api/v1/forecasts/summary").json()["forecast_qty"]
        )
        groups = scoped.get("/api/v1/forecast-accuracy?group_by=depot_id").json()["data"]
        assert [g["group"] for g in groups] == ["DEP01"]
        # Items have no depot: the same catalogue for everyone.
        assert scoped.get("/api/v1/items").json() == service.get("/api/v1/items").json()
    scoped.close()


def test_depot_scope_holds_on_series_and_kpis(api: Api) -> None:
    scoped, _ = sign_in(api, person(api, role="viewer", depots=["DEP01"]))
    with api.client("viewer") as service:
        # A scoped person's aggregate is their depots' aggregate, never the whole company's.
        mine = scoped.get("/api/v1/series").json()
        dep01 = service.get("/api/v1/series", params={"depot_id": "DEP01"}).json()
        everything = service.get("/api/v1/series").json()
        assert mine["history"] == dep01["history"] and mine["forecast"] == dep01["forecast"]
        assert mine["history"] != everything["history"]
        other = scoped.get("/api/v1/series", params={"item_id": "ITM001", "depot_id": "DEP02"})
        assert other.status_code == 404
        kpis = scoped.get("/api/v1/kpis").json()
        dep01_kpis = service.get("/api/v1/kpis", params={"depot_id": "DEP01"}).json()
        kpis.pop("depot_id"), dep01_kpis.pop("depot_id")  # the filter asked, not the scope
        assert kpis == dep01_kpis
        assert kpis["stock_value"] != service.get("/api/v1/kpis").json()["stock_value"]
    scoped.close()


def session_headers(client: httpx.Client, origin: str | None = None) -> dict[str, str]:
    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    return {"Cookie": cookie, **({"Origin": origin} if origin else {})}


@asynccontextmanager
async def socket(
    api: Api, headers: dict[str, str], query: str = ""
) -> AsyncIterator[ClientConnection]:
    url = f"{api.server.ws_url}/ws/alerts{query}"
    async with connect(url, additional_headers=headers, max_queue=None) as ws:
        hello = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert hello["type"] == "subscribed"
        yield ws


async def closed_code(ws: ClientConnection, within: float = 10) -> int:
    """Read until the server closes the socket; its close code."""
    deadline = time.monotonic() + within
    try:
        while True:
            await asyncio.wait_for(ws.recv(), max(0.01, deadline - time.monotonic()))
    except ConnectionClosed as closed:
        assert closed.rcvd is not None
        return closed.rcvd.code


def test_the_socket_takes_the_session_cookie_from_our_origin_only(api: Api) -> None:
    client, _ = sign_in(api, person(api))

    async def scenario() -> None:
        for origin in (None, "https://dashboard.example", api.server.url):
            async with socket(api, session_headers(client, origin)):
                pass
        with pytest.raises(InvalidStatus, match="403"):
            async with socket(api, session_headers(client, "https://evil.example")):
                pass
        with pytest.raises(InvalidStatus, match="403"):
            async with socket(api, {"Cookie": "nova_session=forged.value"}):
                pass

    asyncio.run(scenario())
    client.close()


def test_a_scoped_user_hears_only_their_depots_on_the_socket(api: Api) -> None:
    wait_feed_ready(api.server.app)
    client, _ = sign_in(api, person(api, role="viewer", depots=["DEP01"]))
    headers = session_headers(client)

    async def scenario() -> None:
        with pytest.raises(InvalidStatus, match="403"):  # a filter outside the scope
            async with socket(api, headers, "?depot_id=DEP02"):
                pass
        async with socket(api, headers) as scoped, socket(api, headers, "?depot_id=DEP01") as one:
            outside, inside = alert("ITM001", "DEP02", "critical"), alert("ITM002", "DEP01")
            await produce(api, outside, inside)
            # The first alert each hears is the DEP01 one: the DEP02 alert came first.
            assert (await next_alert(scoped))["alert_id"] == inside["alert_id"]
            assert (await next_alert(one))["alert_id"] == inside["alert_id"]

    asyncio.run(scenario())
    client.close()


def test_disabling_a_user_closes_their_socket(api: Api) -> None:
    email = person(api)
    client, _ = sign_in(api, email)

    async def scenario() -> None:
        async with socket(api, session_headers(client)) as ws:
            await asyncio.sleep(2 * api.settings.ws_auth_recheck_seconds)
            set_disabled(api.app_db, email, True)
            assert await closed_code(ws) == 1008

    asyncio.run(scenario())
    client.close()


@pytest.mark.reliability
def test_a_revoked_key_closes_its_socket(api: Api) -> None:
    record, token = create_key(api.app_db, role="viewer", name="socket service")

    async def scenario() -> None:
        async with socket(api, {"Authorization": f"Bearer {token}"}) as ws:
            await asyncio.sleep(2 * api.settings.ws_auth_recheck_seconds)
            revoke_key(api.app_db, record.key_id)
            assert await closed_code(ws) == 1008

    asyncio.run(scenario())
    with api.client(token) as revoked:  # and HTTP refuses it too, at once in this process
        assert revoked.get("/api/v1/items").status_code == 401


def test_an_admin_signed_in_disables_a_user_with_the_csrf_token(api: Api) -> None:
    admin, body = sign_in(api, person(api, role="admin"))
    target = person(api, role="viewer", depots=["DEP02"])
    listed = {u["email"]: u for u in admin.get("/api/v1/users").json()["data"]}
    assert listed[target]["depots"] == ["DEP02"] and "password_hash" not in listed[target]
    assert admin.post(f"/api/v1/users/{target}/disable").status_code == 403  # no CSRF token
    csrf = {"X-CSRF-Token": body["csrf_token"]}
    assert admin.post(f"/api/v1/users/{target}/disable", headers=csrf).status_code == 204
    assert admin.post("/api/v1/users/nobody@x.example/disable", headers=csrf).status_code == 404
    with api.client(token=None) as client:
        answer = client.post("/api/v1/auth/login", json={"email": target, "password": PASSWORD})
        assert answer.status_code == 401
    assert admin.post(f"/api/v1/users/{target}/enable", headers=csrf).status_code == 204
    sign_in(api, target)[0].close()
    planner, _ = sign_in(api, person(api, role="planner"))
    assert planner.get("/api/v1/users").status_code == 403
    planner.close()
    admin.close()
