"""Request and response models of what planners write: alert states and purchase orders."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from backend.api.schemas import AlertPublic, PageOf
from backend.api.schemas_planner import ActionPublic
from backend.appdb.alert_states import StoredState
from backend.appdb.orders import LineView, OrderView

AlertState = Literal["open", "acknowledged", "snoozed", "resolved"]
OrderStatus = Literal["draft", "approved", "sent", "cancelled"]

Note = Annotated[
    str,
    Field(
        max_length=2000,
        description="Why, in the planner's words (kept in the alert's history).",
        examples=["PO 4471 covers it; supplier confirmed delivery on Friday"],
    ),
]
AlertId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=128,
        description="An alert episode's id.",
        examples=["5b0c7a0f3d2e4e1f9a8b7c6d5e4f3a2b"],
    ),
]
ItemId = Annotated[
    str,
    Field(min_length=1, max_length=64, description="The item (dim_items).", examples=["ITM001"]),
]
DepotId = Annotated[
    str,
    Field(min_length=1, max_length=64, description="The depot (dim_depots).", examples=["DEP-SSA"]),
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- alert lifecycle -----------------------------------------------------------------


class AcknowledgeRequest(Strict):
    note: Note = ""


class SnoozeRequest(Strict):
    until: date = Field(
        description="The day the alert comes back (open again from that day, planners' "
        "calendar, America/Bahia); must be after today.",
        examples=["2026-11-05"],
    )
    note: Note = ""


class ResolveRequest(Strict):
    note: Note = ""


class AlertStateFields(BaseModel):
    state: AlertState = Field(
        "open",
        description="What planners have done about the alert: open (nothing, or it no longer "
        "holds: a snooze reached its date, or the alert worsened since), acknowledged, "
        "snoozed or resolved.",
        examples=["acknowledged"],
    )
    state_by: str | None = Field(
        None, description="Who set the state (an email, or key:<id> for a service).",
        examples=["ana@novacorrente.com.br"],
    )  # fmt: skip
    state_at: datetime | None = Field(
        None, description="When the state was set (UTC).", examples=["2026-11-01T12:30:00Z"]
    )
    state_note: str | None = Field(
        None, description="The note given with the state.", examples=["ordered via PO-1A2B3C"]
    )
    snoozed_until: date | None = Field(
        None, description="For a snooze: the day the alert comes back.", examples=["2026-11-05"]
    )

    @staticmethod
    def values(stored: StoredState | None, state: AlertState) -> dict[str, object]:
        """The fields for an alert in ``state`` (its effective state) with this record.

        An alert open again still shows who last acted on it and when."""
        if stored is None:
            return {"state": state}
        return {
            "state": state, "state_by": stored.by, "state_at": stored.at,
            "state_note": stored.note, "snoozed_until": stored.snoozed_until,
        }  # fmt: skip


class AlertWithState(AlertStateFields, AlertPublic):
    pass


class AlertsWithState(PageOf[AlertWithState]):
    pass


class ActionWithState(AlertStateFields, ActionPublic):
    """A work-list line with the state of its alert (open when the line has no alert)."""


class ActionsWithState(PageOf[ActionWithState]):
    pass


class AlertStatePublic(AlertStateFields):
    """An alert's state right after a planner set it."""

    alert_id: AlertId
    severity: str = Field(
        description="The alert's severity when the state was set: if it worsens later, the "
        "alert is open again.",
        examples=["warning"],
    )


# --- purchase orders ------------------------------------------------------------------


class OrderLineCreate(Strict):
    item_id: ItemId
    depot_id: DepotId
    quantity: int = Field(
        gt=0, le=10_000_000,
        description="Units; a positive multiple of the item's minimum order quantity.",
        examples=[24],
    )  # fmt: skip
    action_id: str | None = Field(
        None, min_length=1, max_length=128,
        description="The work-list row (fct_actions.action_id) this line comes from.",
        examples=["9f1c2d3e4a5b6c7d8e9f0a1b2c3d4e5f"],
    )  # fmt: skip
    alert_id: str | None = Field(
        None,
        min_length=1,
        max_length=128,
        description="The alert episode this line answers.",
        examples=["5b0c7a0f3d2e4e1f9a8b7c6d5e4f3a2b"],
    )


class OrdersCreate(Strict):
    lines: list[OrderLineCreate] = Field(
        min_length=1, max_length=500,
        description="What to order: one draft per supplier is made from these lines (one "
        "line per item x depot).",
        examples=[[{"item_id": "ITM001", "depot_id": "DEP-SSA", "quantity": 24}]],
    )  # fmt: skip


class LineQuantity(Strict):
    line_id: str = Field(
        min_length=1,
        max_length=40,
        description="A line of the order.",
        examples=["PO-1A2B3C4D5E6F-001"],
    )
    quantity: int = Field(
        gt=0, le=10_000_000,
        description="The new quantity; a positive multiple of the line's minimum order quantity.",
        examples=[48],
    )  # fmt: skip


class OrderUpdate(Strict):
    lines: list[LineQuantity] = Field(
        min_length=1, max_length=500, description="The lines whose quantity changes.",
        examples=[[{"line_id": "PO-1A2B3C4D5E6F-001", "quantity": 48}]],
    )  # fmt: skip


class OrderLinePublic(BaseModel):
    line_id: str = Field(description="The line's id: the order's, then its number.",
                         examples=["PO-1A2B3C4D5E6F-001"])  # fmt: skip
    line_number: int = Field(description="1, 2, ... within the order.", examples=[1])
    item_id: str = Field(description="The item.", examples=["ITM001"])
    depot_id: str = Field(description="The depot it is delivered to.", examples=["DEP-SSA"])
    quantity: int = Field(description="Units ordered.", examples=[24])
    unit_cost: float = Field(description="R$ per unit, from dim_items when the line was made.",
                             examples=[12.5])  # fmt: skip
    min_order_qty: int = Field(description="The MOQ the quantity is a multiple of.", examples=[12])
    line_value: float = Field(
        description="quantity x unit_cost, R$ (2 decimals).", examples=[300.0]
    )
    action_id: str | None = Field(None, description="The work-list row it came from.",
                                  examples=["9f1c2d3e4a5b6c7d8e9f0a1b2c3d4e5f"])  # fmt: skip
    alert_id: str | None = Field(None, description="The alert it answers.",
                                 examples=["5b0c7a0f3d2e4e1f9a8b7c6d5e4f3a2b"])  # fmt: skip

    @classmethod
    def of(cls, line: LineView) -> OrderLinePublic:
        return cls(
            line_id=line.line_id, line_number=line.line_number, item_id=line.item_id,
            depot_id=line.depot_id, quantity=line.quantity, unit_cost=float(line.unit_cost),
            min_order_qty=line.min_order_qty, line_value=float(line.line_value),
            action_id=line.action_id, alert_id=line.alert_id,
        )  # fmt: skip


Who = Field(
    None, description="Who did it (an email, or key:<id>).", examples=["ana@novacorrente.com.br"]
)
When = Field(None, description="When (UTC).", examples=["2026-11-01T12:30:00Z"])


class OrderPublic(BaseModel):
    order_id: str = Field(description="The purchase-order number.", examples=["PO-1A2B3C4D5E6F"])
    supplier_id: str = Field(description="The supplier (dim_items.supplier_id).", examples=["SUP1"])
    supplier_name: str | None = Field(None, description="The supplier's name.", examples=["Acme"])
    status: OrderStatus = Field(
        description="draft -> approved -> sent; draft or approved -> cancelled.", examples=["draft"]
    )
    created_by: str = Field(description="Who made the draft.", examples=["ana@novacorrente.com.br"])
    created_at: datetime = Field(description="When (UTC).", examples=["2026-11-01T12:30:00Z"])
    approved_by: str | None = Who
    approved_at: datetime | None = When
    sent_by: str | None = Who
    sent_at: datetime | None = When
    cancelled_by: str | None = Who
    cancelled_at: datetime | None = When
    updated_by: str = Field(
        description="Who changed it last.", examples=["ana@novacorrente.com.br"]
    )
    updated_at: datetime = Field(description="When it last changed (UTC).",
                                 examples=["2026-11-01T12:30:00Z"])  # fmt: skip
    total_value: float = Field(description="Sum of the lines' values, R$.", examples=[300.0])
    lines: list[OrderLinePublic] = Field(description="The order's lines, by line number.")

    @classmethod
    def of(cls, order: OrderView) -> OrderPublic:
        return cls(
            order_id=order.order_id, supplier_id=order.supplier_id,
            supplier_name=order.supplier_name, status=order.status,
            created_by=order.created_by, created_at=order.created_at,
            approved_by=order.approved_by, approved_at=order.approved_at,
            sent_by=order.sent_by, sent_at=order.sent_at, cancelled_by=order.cancelled_by,
            cancelled_at=order.cancelled_at, updated_by=order.updated_by,
            updated_at=order.updated_at, total_value=float(order.total_value),
            lines=[OrderLinePublic.of(line) for line in order.lines],
        )  # fmt: skip


class OrdersPublic(PageOf[OrderPublic]):
    pass


class OrdersCreated(BaseModel):
    data: list[OrderPublic] = Field(description="The drafts, one per supplier.")
    count: int = Field(description="How many drafts.", examples=[2])
