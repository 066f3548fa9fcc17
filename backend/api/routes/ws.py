"""WebSocket `/ws/alerts`: live stock alerts, filtered by item, depot and severity."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, WebSocket, status

from backend.api.deps import check_token
from backend.api.hub import AlertFilter

router = APIRouter(tags=["alerts"])


@router.websocket("/ws/alerts")
async def alerts_socket(
    websocket: WebSocket,
    item_id: Annotated[str | None, Query(max_length=64)] = None,
    depot_id: Annotated[str | None, Query(max_length=64)] = None,
    severity: Literal["warning", "critical"] | None = None,
    since: Annotated[
        str | None, Query(max_length=128, description="Resume after this alert id.")
    ] = None,
    token: Annotated[str | None, Query(max_length=256)] = None,
) -> None:
    """Messages are JSON: `subscribed` first, then `alert` (with `data`) and `heartbeat`.

    The key comes as `Authorization: Bearer <key>` or, from browsers, `?token=<key>`.
    """
    header = websocket.headers.get("authorization", "")
    bearer = header[7:].strip() if header.lower().startswith("bearer ") else None
    key = await check_token(websocket.app.state.verifier, bearer or token)
    if key is None:
        await websocket.close(status.WS_1008_POLICY_VIOLATION, "missing or invalid API key")
        return
    await websocket.accept()
    hub = websocket.app.state.hub
    await hub.serve(websocket, AlertFilter(item_id, depot_id, severity), since)
