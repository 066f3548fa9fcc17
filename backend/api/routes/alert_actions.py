"""Alert lifecycle: a planner acknowledges, snoozes or resolves an alert episode.

The alert must be in gold's fct_stock_alerts and in the caller's depot scope; otherwise
404 (not 403: an alert outside the scope is not disclosed). The state is kept in the app
database (backend.appdb.alert_states) with the alert's severity at that moment.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, status
from sqlalchemy.orm import Session

from backend.api.deps import LakeDep, PlannerPrincipal
from backend.api.planning import Planning, get_planning, unprocessable
from backend.api.principal import Principal
from backend.api.routes.common import ERRORS, STRICT
from backend.api.schemas import Message
from backend.api.schemas_orders import (
    AcknowledgeRequest,
    AlertStateFields,
    AlertStatePublic,
    ResolveRequest,
    SnoozeRequest,
)
from backend.appdb.alert_states import SetState, set_state

router = APIRouter(
    prefix="/alerts",
    tags=["alerts"],
    dependencies=STRICT,
    responses={
        **ERRORS,
        400: {"model": Message, "description": "The body is not JSON."},
        403: {"model": Message, "description": "Needs the planner role."},
        404: {"model": Message, "description": "No such alert in the caller's depots."},
    },
)
AlertIdPath = Annotated[
    str, Path(min_length=1, max_length=128, description="The alert episode's id.")
]
PlanningDep = Annotated[Planning, Depends(get_planning)]
FIND_ALERT = (
    "select alert_id, item_id, depot_id, severity from delta_scan($t_fct_stock_alerts) "
    "where alert_id = $alert_id limit 1"
)


async def _alert_in_scope(lake: LakeDep, principal: Principal, alert_id: str) -> dict[str, Any]:
    rows = await lake.run(
        lambda reader: reader.rows(
            FIND_ALERT, tables=["fct_stock_alerts"], params={"alert_id": alert_id}
        )
    )
    if not rows or not principal.sees_depot(rows[0]["depot_id"]):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no alert {alert_id!r}")
    return rows[0]


async def _set(
    lake: LakeDep, planning: Planning, principal: Principal, alert_id: str, state: SetState,
    note: str, until: Any = None,
) -> AlertStatePublic:  # fmt: skip
    alert = await _alert_in_scope(lake, principal, alert_id)
    today = planning.today()
    if until is not None and until <= today:
        raise unprocessable(
            ("body", "until"), f"a snooze must end after today ({today.isoformat()})", str(until)
        )

    def write() -> Any:
        with Session(planning.engine) as session:
            stored = set_state(
                session, alert_id=alert_id, state=state, severity=alert["severity"],
                item_id=alert["item_id"], depot_id=alert["depot_id"], actor=principal.actor,
                now=planning.now(), note=note, snoozed_until=until,
            )  # fmt: skip
            session.commit()
            return stored

    stored = await asyncio.to_thread(write)
    planning.view.apply(stored)  # this process's socket holds the alert back at once
    effective = stored.effective(severity=alert["severity"], today=today)
    return AlertStatePublic.model_validate(
        {"alert_id": alert_id, "severity": stored.severity,
         **AlertStateFields.values(stored, effective)}
    )  # fmt: skip


@router.post("/{alert_id}/ack", response_model=AlertStatePublic, operation_id="acknowledge_alert")
async def acknowledge_alert(
    alert_id: AlertIdPath,
    body: AcknowledgeRequest,
    lake: LakeDep,
    planning: PlanningDep,
    principal: PlannerPrincipal,
) -> AlertStatePublic:
    """Acknowledge an alert: it is not pushed on the socket again unless it worsens."""
    return await _set(lake, planning, principal, alert_id, "acknowledged", body.note)


@router.post("/{alert_id}/snooze", response_model=AlertStatePublic, operation_id="snooze_alert")
async def snooze_alert(
    alert_id: AlertIdPath,
    body: SnoozeRequest,
    lake: LakeDep,
    planning: PlanningDep,
    principal: PlannerPrincipal,
) -> AlertStatePublic:
    """Snooze an alert until a date (it is open again from that day, or if it worsens)."""
    return await _set(lake, planning, principal, alert_id, "snoozed", body.note, body.until)


@router.post("/{alert_id}/resolve", response_model=AlertStatePublic, operation_id="resolve_alert")
async def resolve_alert(
    alert_id: AlertIdPath,
    body: ResolveRequest,
    lake: LakeDep,
    planning: PlanningDep,
    principal: PlannerPrincipal,
) -> AlertStatePublic:
    """Mark an alert resolved (open again if it worsens)."""
    return await _set(lake, planning, principal, alert_id, "resolved", body.note)
