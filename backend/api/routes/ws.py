"""WebSocket `/ws/alerts`: live stock alerts, filtered by item, depot and severity."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Query, WebSocket, status

from backend.api.auth import SESSION_COOKIE, Authenticator
from backend.api.hub import AlertFilter
from backend.api.principal import Principal
from backend.api.schemas import Severity
from backend.settings import Settings

router = APIRouter(tags=["alerts"])


def origin_allowed(websocket: WebSocket, settings: Settings) -> bool:
    """A cookie-authenticated socket must come from our own pages: browsers send the
    cookie with a socket opened by any site, so the Origin is what tells them apart."""
    origin = websocket.headers.get("origin")
    if origin is None:  # not a browser: it cannot have been tricked into connecting
        return True
    if origin in settings.cors_origins:
        return True
    return urlsplit(origin).netloc == websocket.headers.get("host")


async def socket_principal(websocket: WebSocket) -> tuple[Principal | None, str]:
    """The caller from `Authorization: Bearer <key>` or the session cookie; never the URL."""
    auth: Authenticator = websocket.app.state.auth
    header = websocket.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        principal = await auth.bearer(token.strip() if scheme.lower() == "bearer" else None)
        return principal, "invalid API key"
    if not origin_allowed(websocket, websocket.app.state.settings):
        return None, "origin not allowed"
    signed_in = await auth.sessions.check(websocket.cookies.get(SESSION_COOKIE))
    return (signed_in.principal if signed_in else None), "not signed in"


@router.websocket("/ws/alerts")
async def alerts_socket(
    websocket: WebSocket,
    item_id: Annotated[str | None, Query(max_length=64)] = None,
    depot_id: Annotated[str | None, Query(max_length=64)] = None,
    severity: Severity | None = None,
    since: Annotated[
        str | None, Query(max_length=128, description="Resume after this alert id.")
    ] = None,
) -> None:
    """Messages are JSON: `subscribed` first, then `alert` (with `data`) and `heartbeat`.

    Authenticated by `Authorization: Bearer <key>` (services) or the session cookie
    (browsers, from an allowed origin). A depot-scoped user receives only their depots'
    alerts; a revoked key or session, or a disabled user, is closed with code 1008.
    """
    principal, why = await socket_principal(websocket)
    if principal is None:
        await websocket.close(status.WS_1008_POLICY_VIOLATION, why)
        return
    if depot_id is not None and not principal.sees_depot(depot_id):
        await websocket.close(status.WS_1008_POLICY_VIOLATION, "depot outside your scope")
        return
    await websocket.accept()
    hub = websocket.app.state.hub
    flt = AlertFilter(item_id, depot_id, severity, depots=principal.depots)
    await hub.serve(websocket, flt, since, principal)
