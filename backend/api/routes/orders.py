"""Purchase orders: drafts per supplier from work-list lines, approval, ERP export.

Reading needs any role; writing needs the planner role. A depot-scoped caller sees only
orders whose lines are all in their depots (others are 404), and may order only for them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Response, status
from sqlalchemy.orm import Session

from backend.api.deps import CurrentPrincipal, LakeDep, PlannerPrincipal
from backend.api.planning import Planning, get_planning, unprocessable
from backend.api.principal import Principal
from backend.api.routes.common import ERRORS, STRICT, Limit, Offset, Text
from backend.api.schemas import Message
from backend.api.schemas_orders import (
    OrderPublic,
    OrdersCreate,
    OrdersCreated,
    OrdersPublic,
    OrderStatus,
    OrderUpdate,
)
from backend.appdb import orders as svc
from backend.lake.reader import GoldReader

router = APIRouter(prefix="/orders", tags=["orders"], dependencies=STRICT, responses=ERRORS)
PlanningDep = Annotated[Planning, Depends(get_planning)]
OrderIdPath = Annotated[str, Path(min_length=1, max_length=32, description="The order number.")]
IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=128,
        description="Any unique string per intended creation (a UUID): a retry with the same "
        "key and body returns the orders made the first time and creates nothing.",
    ),
]
BAD_BODY: dict[int | str, dict[str, Any]] = {
    400: {"model": Message, "description": "The body is not JSON."}
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": Message, "description": "No such order in the caller's depots."}
}
FORBIDDEN: dict[int | str, dict[str, Any]] = {
    403: {"model": Message, "description": "Needs the planner role, or a depot in scope."}
}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": Message, "description": "The order's status does not allow it."}
}
CATALOG = (
    "select item_id, supplier_id, supplier_name, unit_cost, min_order_qty "
    "from delta_scan($t_dim_items) where item_id in (select unnest($item_ids))"
)
KNOWN_DEPOTS = (
    "select depot_id from delta_scan($t_dim_depots) where depot_id in (select unnest($depot_ids))"
)
T = TypeVar("T")


async def _db(planning: Planning, work: Callable[[Session], T]) -> T:
    """Run ``work`` with a session of the app database, off the event loop."""

    def run() -> T:
        with Session(planning.engine, expire_on_commit=False) as session:
            return work(session)

    try:
        return await asyncio.to_thread(run)
    except svc.NoSuchOrder as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no order {exc}") from exc
    except svc.WrongStatus as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    except svc.InvalidLines as exc:
        raise unprocessable(("body", "lines"), str(exc)) from exc
    except svc.KeyReused as exc:
        raise unprocessable(("header", "Idempotency-Key"), str(exc)) from exc


def _visible(order: svc.OrderView | None, principal: Principal, order_id: str) -> svc.OrderView:
    if order is None or not all(principal.sees_depot(d) for d in order.depots):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no order {order_id!r}")
    return order


async def _get_visible(planning: Planning, principal: Principal, order_id: str) -> svc.OrderView:
    order = await _db(planning, lambda s: svc.get_order(s, order_id))
    return _visible(order, principal, order_id)


def _catalog(reader: GoldReader, item_ids: list[str], depot_ids: list[str]) -> tuple[
    dict[str, svc.CatalogItem], set[str]
]:  # fmt: skip
    items = reader.rows(CATALOG, tables=["dim_items"], params={"item_ids": item_ids})
    depots = reader.rows(KNOWN_DEPOTS, tables=["dim_depots"], params={"depot_ids": depot_ids})
    catalog = {
        row["item_id"]: svc.CatalogItem(
            item_id=row["item_id"], supplier_id=row["supplier_id"] or "UNKNOWN",
            supplier_name=row["supplier_name"],
            unit_cost=Decimal(str(row["unit_cost"] or 0)),
            min_order_qty=svc.moq_of(row["min_order_qty"]),
        )
        for row in items
    }  # fmt: skip
    return catalog, {row["depot_id"] for row in depots}


@router.post(
    "",
    response_model=OrdersCreated,
    status_code=status.HTTP_201_CREATED,
    operation_id="create_orders",
    responses={
        200: {
            "model": OrdersCreated,
            "description": "A replay of an earlier request (same "
            "Idempotency-Key and body): the orders it made; nothing new.",
        },
        **BAD_BODY,
        **FORBIDDEN,
    },
)
async def create_orders(
    body: OrdersCreate,
    response: Response,
    idempotency_key: IdempotencyKey,
    lake: LakeDep,
    planning: PlanningDep,
    principal: PlannerPrincipal,
) -> OrdersCreated:
    """Purchase-order drafts from work-list lines, one per supplier (supplier, unit cost and
    MOQ from dim_items). 201 with the drafts; a replay of the same key and body answers 200
    with the same drafts."""
    lines = [svc.NewLine(**line.model_dump()) for line in body.lines]
    outside = sorted({line.depot_id for line in lines if not principal.sees_depot(line.depot_id)})
    if outside:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"depots outside your scope: {outside}")
    actor = principal.actor
    earlier = await _db(
        planning,
        lambda s: svc.find_request(s, actor=actor, idempotency_key=idempotency_key, lines=lines),
    )
    if earlier is None:
        item_ids = sorted({line.item_id for line in lines})
        depot_ids = sorted({line.depot_id for line in lines})
        catalog, depots = await lake.run(lambda reader: _catalog(reader, item_ids, depot_ids))
        unknown = [d for d in depot_ids if d not in depots]
        if unknown:
            raise unprocessable(("body", "lines"), f"unknown depots {unknown}")
        now = planning.now()
        made, created = await _db(
            planning,
            lambda s: svc.create_orders(s, actor=actor, idempotency_key=idempotency_key,
                                        lines=lines, catalog=catalog, now=now),
        )  # fmt: skip
    else:
        made, created = earlier, False
    if not created:
        response.status_code = status.HTTP_200_OK
    data = [OrderPublic.of(order) for order in made]
    return OrdersCreated(data=data, count=len(data))


@router.get("", response_model=OrdersPublic, operation_id="list_orders")
async def list_orders(
    planning: PlanningDep,
    principal: CurrentPrincipal,
    status_: Annotated[OrderStatus | None, Query(alias="status")] = None,
    supplier_id: Text = None,
    depot_id: Text = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> OrdersPublic:
    """Orders, newest first; `depot_id`: orders with a line in that depot."""
    page, count = await _db(
        planning,
        lambda s: svc.list_orders(
            s, status=status_, supplier_id=supplier_id, depot_id=depot_id,
            depots=principal.depots, limit=limit, offset=offset,
        ),
    )  # fmt: skip
    data = [OrderPublic.of(order) for order in page]
    return OrdersPublic(data=data, count=count, limit=limit, offset=offset)


@router.get("/{order_id}", response_model=OrderPublic, operation_id="get_order",
            responses=NOT_FOUND)  # fmt: skip
async def get_order(
    order_id: OrderIdPath, planning: PlanningDep, principal: CurrentPrincipal
) -> OrderPublic:
    """One order with its lines."""
    return OrderPublic.of(await _get_visible(planning, principal, order_id))


@router.patch(
    "/{order_id}",
    response_model=OrderPublic,
    operation_id="update_order",
    responses={**BAD_BODY, **NOT_FOUND, **FORBIDDEN, **CONFLICT},
)
async def update_order(
    order_id: OrderIdPath, body: OrderUpdate, planning: PlanningDep, principal: PlannerPrincipal
) -> OrderPublic:
    """Change line quantities of a draft (positive multiples of each line's MOQ)."""
    await _get_visible(planning, principal, order_id)
    quantities = {line.line_id: line.quantity for line in body.lines}
    now = planning.now()
    order = await _db(
        planning,
        lambda s: svc.update_quantities(
            s, order_id=order_id, quantities=quantities, actor=principal.actor, now=now
        ),
    )
    return OrderPublic.of(order)


async def _transition(
    planning: Planning, principal: Principal, order_id: str, action: svc.Transition
) -> OrderPublic:
    await _get_visible(planning, principal, order_id)
    now = planning.now()
    order = await _db(
        planning,
        lambda s: svc.transition(s, order_id=order_id, action=action, actor=principal.actor,
                                 now=now),
    )  # fmt: skip
    return OrderPublic.of(order)


TRANSITION_RESPONSES: dict[int | str, dict[str, Any]] = {**NOT_FOUND, **FORBIDDEN, **CONFLICT}


@router.post("/{order_id}/approve", response_model=OrderPublic, operation_id="approve_order",
             responses=TRANSITION_RESPONSES)  # fmt: skip
async def approve_order(
    order_id: OrderIdPath, planning: PlanningDep, principal: PlannerPrincipal
) -> OrderPublic:
    """draft -> approved (409 from any other status)."""
    return await _transition(planning, principal, order_id, "approve")


@router.post("/{order_id}/send", response_model=OrderPublic, operation_id="send_order",
             responses=TRANSITION_RESPONSES)  # fmt: skip
async def send_order(
    order_id: OrderIdPath, planning: PlanningDep, principal: PlannerPrincipal
) -> OrderPublic:
    """approved -> sent, once the order went to the supplier (409 from any other status)."""
    return await _transition(planning, principal, order_id, "send")


@router.post("/{order_id}/cancel", response_model=OrderPublic, operation_id="cancel_order",
             responses=TRANSITION_RESPONSES)  # fmt: skip
async def cancel_order(
    order_id: OrderIdPath, planning: PlanningDep, principal: PlannerPrincipal
) -> OrderPublic:
    """draft or approved -> cancelled (409 once sent or cancelled)."""
    return await _transition(planning, principal, order_id, "cancel")


@router.get(
    "/{order_id}/csv",
    operation_id="export_order_csv",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {}}, "description": "The order's lines for ERP import."},
        **NOT_FOUND,
        **CONFLICT,
    },
)
async def export_order_csv(
    order_id: OrderIdPath, planning: PlanningDep, principal: CurrentPrincipal
) -> Response:
    """An approved or sent order as CSV for ERP import: UTF-8, `;`-separated, `.` decimals,
    CRLF rows, a header row; one row per line: po_number, line_number, supplier_id,
    supplier_name, item_id, depot_id, quantity, unit_cost, line_value, approved_by,
    approved_at (UTC, ISO 8601). Text cells that a spreadsheet would read as a formula start
    with a `'`."""
    order = await _get_visible(planning, principal, order_id)
    try:
        text = svc.export_csv(order)
    except svc.WrongStatus as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    return Response(
        content=text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{order.order_id}.csv"'},
    )
