"""Purchase-order drafts that planners make from the work list, one per supplier.

Status machine: draft -> approved -> sent; draft or approved -> cancelled. Who and when is
recorded at each step. The pipeline's extractor reads the lines of approved and sent
orders from ``planner_orders`` / ``planner_order_lines`` (their names and columns are a
contract): an approved line counts as on order until the ERP shows it.

Creation is idempotent per (caller, ``Idempotency-Key``): the same key with the same
request returns the orders it made the first time; with another request it is refused.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, selectinload

from backend.appdb.base import Base, UtcDateTime

OrderStatus = Literal["draft", "approved", "sent", "cancelled"]
STATUSES: tuple[OrderStatus, ...] = ("draft", "approved", "sent", "cancelled")
Transition = Literal["approve", "send", "cancel"]
# action -> (the statuses it starts from, the status it leads to)
TRANSITIONS: dict[Transition, tuple[tuple[OrderStatus, ...], OrderStatus]] = {
    "approve": (("draft",), "approved"),
    "send": (("approved",), "sent"),
    "cancel": (("draft", "approved"), "cancelled"),
}
# Orders an ERP may import: approved (not yet sent) or sent.
EXPORTABLE: tuple[OrderStatus, ...] = ("approved", "sent")
CENT = Decimal("0.01")


class PlannerOrder(Base):
    __tablename__ = "planner_orders"
    __table_args__ = (
        sa.CheckConstraint("status in ('draft', 'approved', 'sent', 'cancelled')", name="status"),
    )

    order_id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    supplier_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    supplier_name: Mapped[str | None] = mapped_column(sa.String(200))
    status: Mapped[str] = mapped_column(sa.String(16), index=True)
    created_by: Mapped[str] = mapped_column(sa.String(254))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    approved_by: Mapped[str | None] = mapped_column(sa.String(254))
    approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    sent_by: Mapped[str | None] = mapped_column(sa.String(254))
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    cancelled_by: Mapped[str | None] = mapped_column(sa.String(254))
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    updated_by: Mapped[str] = mapped_column(sa.String(254))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    lines: Mapped[list[PlannerOrderLine]] = relationship(
        cascade="all, delete-orphan", order_by="PlannerOrderLine.line_number"
    )


class PlannerOrderLine(Base):
    __tablename__ = "planner_order_lines"
    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="quantity"),
        sa.UniqueConstraint("order_id", "item_id", "depot_id", name="uq_planner_order_lines_pair"),
    )

    line_id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    order_id: Mapped[str] = mapped_column(
        sa.ForeignKey("planner_orders.order_id", ondelete="CASCADE"), index=True
    )
    line_number: Mapped[int] = mapped_column(sa.Integer)
    item_id: Mapped[str] = mapped_column(sa.String(64))
    depot_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    quantity: Mapped[int] = mapped_column(sa.Integer)
    unit_cost: Mapped[Decimal] = mapped_column(sa.Numeric(14, 4))
    min_order_qty: Mapped[int] = mapped_column(sa.Integer)
    action_id: Mapped[str | None] = mapped_column(sa.String(128))
    alert_id: Mapped[str | None] = mapped_column(sa.String(128))


class OrderRequest(Base):
    """One idempotent creation request: the key, a digest of its body, what it made."""

    __tablename__ = "planner_order_requests"

    actor: Mapped[str] = mapped_column(sa.String(254), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    order_ids: Mapped[str] = mapped_column(sa.Text)  # a JSON list, in creation order
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


# --- what callers get ----------------------------------------------------------------


@dataclass(frozen=True)
class LineView:
    line_id: str
    line_number: int
    item_id: str
    depot_id: str
    quantity: int
    unit_cost: Decimal
    min_order_qty: int
    action_id: str | None
    alert_id: str | None

    @property
    def line_value(self) -> Decimal:
        return (self.unit_cost * self.quantity).quantize(CENT, ROUND_HALF_UP)


@dataclass(frozen=True)
class OrderView:
    order_id: str
    supplier_id: str
    supplier_name: str | None
    status: OrderStatus
    created_by: str
    created_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    sent_by: str | None
    sent_at: datetime | None
    cancelled_by: str | None
    cancelled_at: datetime | None
    updated_by: str
    updated_at: datetime
    lines: tuple[LineView, ...]

    @property
    def total_value(self) -> Decimal:
        return sum((line.line_value for line in self.lines), Decimal("0.00"))

    @property
    def depots(self) -> frozenset[str]:
        return frozenset(line.depot_id for line in self.lines)

    @classmethod
    def of(cls, row: PlannerOrder) -> OrderView:
        status: OrderStatus = row.status  # type: ignore[assignment]  # checked by the table
        lines = tuple(
            LineView(ln.line_id, ln.line_number, ln.item_id, ln.depot_id, ln.quantity,
                     Decimal(ln.unit_cost), ln.min_order_qty, ln.action_id, ln.alert_id)
            for ln in row.lines
        )  # fmt: skip
        return cls(
            row.order_id, row.supplier_id, row.supplier_name, status, row.created_by,
            row.created_at, row.approved_by, row.approved_at, row.sent_by, row.sent_at,
            row.cancelled_by, row.cancelled_at, row.updated_by, row.updated_at, lines,
        )  # fmt: skip


# --- errors the API turns into statuses ------------------------------------------------


class OrderError(Exception):
    pass


class InvalidLines(OrderError):
    """A request's lines cannot be ordered (422)."""


class KeyReused(OrderError):
    """An idempotency key already used for a different request (422)."""


class WrongStatus(OrderError):
    """The order's status does not allow this (409)."""


class NoSuchOrder(OrderError):
    """(404)"""


# --- creating --------------------------------------------------------------------------


@dataclass(frozen=True)
class NewLine:
    item_id: str
    depot_id: str
    quantity: int
    action_id: str | None = None
    alert_id: str | None = None


@dataclass(frozen=True)
class CatalogItem:
    """What gold's dim_items says about an item when the order is made."""

    item_id: str
    supplier_id: str
    supplier_name: str | None
    unit_cost: Decimal
    min_order_qty: int


def request_hash(lines: Sequence[NewLine]) -> str:
    """A digest of the request's content (order of keys fixed), to recognise a replay."""
    canonical = json.dumps([vars(line) for line in lines], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def moq_of(value: object) -> int:
    """The MOQ to enforce: gold's, or 1 when gold has none (null or not positive)."""
    try:
        moq = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return 1
    return moq if moq > 0 else 1


def check_quantity(quantity: int, moq: int, where: str) -> None:
    if quantity <= 0 or quantity % moq:
        raise InvalidLines(
            f"{where}: quantity {quantity} is not a positive multiple of the MOQ {moq}"
        )


def new_order_id() -> str:
    return f"PO-{secrets.token_hex(6).upper()}"


def _replay(session: Session, request: OrderRequest, digest: str) -> list[OrderView]:
    if request.request_hash != digest:
        raise KeyReused("this Idempotency-Key was already used with a different request")
    order_ids: list[str] = json.loads(request.order_ids)
    orders = {o.order_id: o for o in _load(session, order_ids)}
    return [orders[order_id] for order_id in order_ids]


def find_request(
    session: Session, *, actor: str, idempotency_key: str, lines: Sequence[NewLine]
) -> list[OrderView] | None:
    """The orders an earlier request with this key made (None: the key is new)."""
    request = session.get(OrderRequest, (actor, idempotency_key))
    return None if request is None else _replay(session, request, request_hash(lines))


def create_orders(
    session: Session,
    *,
    actor: str,
    idempotency_key: str,
    lines: Sequence[NewLine],
    catalog: Mapping[str, CatalogItem],
    now: datetime,
) -> tuple[list[OrderView], bool]:
    """Drafts for ``lines``, one per supplier; returns them and whether they are new.

    Commits. A request whose key was used before returns that request's orders (or
    raises :class:`KeyReused` when its body differs), even when two arrive at once.
    """
    digest = request_hash(lines)
    earlier = session.get(OrderRequest, (actor, idempotency_key))
    if earlier is not None:
        return _replay(session, earlier, digest), False
    by_supplier = _group(lines, catalog)
    orders: list[PlannerOrder] = []
    for (supplier_id, supplier_name), items in by_supplier.items():
        order = PlannerOrder(
            order_id=new_order_id(), supplier_id=supplier_id, supplier_name=supplier_name,
            status="draft", created_by=actor, created_at=now, updated_by=actor, updated_at=now,
        )  # fmt: skip
        for number, (line, item) in enumerate(items, start=1):
            order.lines.append(
                PlannerOrderLine(
                    line_id=f"{order.order_id}-{number:03d}", line_number=number,
                    item_id=line.item_id, depot_id=line.depot_id, quantity=line.quantity,
                    unit_cost=item.unit_cost, min_order_qty=item.min_order_qty,
                    action_id=line.action_id, alert_id=line.alert_id,
                )
            )  # fmt: skip
        orders.append(order)
    session.add_all(orders)
    session.add(
        OrderRequest(actor=actor, idempotency_key=idempotency_key, request_hash=digest,
                     order_ids=json.dumps([o.order_id for o in orders]), created_at=now)
    )  # fmt: skip
    try:
        session.commit()
    except IntegrityError:
        # The same key committed by a concurrent request first: answer as a replay.
        session.rollback()
        earlier = session.get(OrderRequest, (actor, idempotency_key))
        if earlier is None:
            raise
        return _replay(session, earlier, digest), False
    return _load(session, [o.order_id for o in orders]), True


def _group(
    lines: Sequence[NewLine], catalog: Mapping[str, CatalogItem]
) -> dict[tuple[str, str | None], list[tuple[NewLine, CatalogItem]]]:
    if not lines:
        raise InvalidLines("an order needs at least one line")
    seen: set[tuple[str, str]] = set()
    groups: dict[tuple[str, str | None], list[tuple[NewLine, CatalogItem]]] = {}
    for n, line in enumerate(lines):
        where = f"lines[{n}]"
        item = catalog.get(line.item_id)
        if item is None:
            raise InvalidLines(f"{where}: unknown item {line.item_id!r}")
        if (line.item_id, line.depot_id) in seen:
            raise InvalidLines(f"{where}: item {line.item_id} at {line.depot_id} given twice")
        seen.add((line.item_id, line.depot_id))
        check_quantity(line.quantity, item.min_order_qty, where)
        groups.setdefault((item.supplier_id, item.supplier_name), []).append((line, item))
    return groups


# --- reading ---------------------------------------------------------------------------


def _load(session: Session, order_ids: Sequence[str]) -> list[OrderView]:
    if not order_ids:
        return []
    rows = session.scalars(
        sa.select(PlannerOrder)
        .where(PlannerOrder.order_id.in_(list(order_ids)))
        .options(selectinload(PlannerOrder.lines))
        .execution_options(populate_existing=True)
    )
    found = {row.order_id: OrderView.of(row) for row in rows}
    return [found[order_id] for order_id in order_ids if order_id in found]


def get_order(session: Session, order_id: str) -> OrderView | None:
    found = _load(session, [order_id])
    return found[0] if found else None


def _outside(depots: Sequence[str]) -> sa.ColumnElement[bool]:
    """Orders having a line outside ``depots``."""
    return sa.exists().where(
        PlannerOrderLine.order_id == PlannerOrder.order_id,
        PlannerOrderLine.depot_id.not_in(list(depots)),
    )


def list_orders(
    session: Session,
    *,
    status: OrderStatus | None = None,
    supplier_id: str | None = None,
    depot_id: str | None = None,
    depots: Sequence[str] | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[OrderView], int]:
    """A page of orders, newest first, and how many match.

    ``depot_id``: orders with a line in that depot. ``depots``: the caller's scope, which
    sees only orders whose lines are all in it (None: every order).
    """
    query = sa.select(PlannerOrder.order_id)
    if status is not None:
        query = query.where(PlannerOrder.status == status)
    if supplier_id is not None:
        query = query.where(PlannerOrder.supplier_id == supplier_id)
    if depot_id is not None:
        query = query.where(
            sa.exists().where(
                PlannerOrderLine.order_id == PlannerOrder.order_id,
                PlannerOrderLine.depot_id == depot_id,
            )
        )
    if depots is not None:
        query = query.where(~_outside(depots))
    count = session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    ids = session.scalars(
        query.order_by(PlannerOrder.created_at.desc(), PlannerOrder.order_id)
        .limit(limit)
        .offset(offset)
    ).all()
    return _load(session, ids), count


# --- changing --------------------------------------------------------------------------


def _locked(session: Session, order_id: str) -> PlannerOrder:
    row = session.scalars(
        sa.select(PlannerOrder)
        .where(PlannerOrder.order_id == order_id)
        .options(selectinload(PlannerOrder.lines))
        .with_for_update()
    ).one_or_none()
    if row is None:
        raise NoSuchOrder(order_id)
    return row


def update_quantities(
    session: Session, *, order_id: str, quantities: Mapping[str, int], actor: str, now: datetime
) -> OrderView:
    """Set line quantities (line id -> quantity, each a positive multiple of the line's
    MOQ) of a draft; commits."""
    row = _locked(session, order_id)
    if row.status != "draft":
        raise WrongStatus(f"order {order_id} is {row.status}: only a draft can be edited")
    lines = {line.line_id: line for line in row.lines}
    for line_id, quantity in quantities.items():
        line = lines.get(line_id)
        if line is None:
            raise InvalidLines(f"order {order_id} has no line {line_id!r}")
        check_quantity(quantity, line.min_order_qty, line_id)
        line.quantity = quantity
    row.updated_by, row.updated_at = actor, now
    session.commit()
    return _load(session, [order_id])[0]


def transition(
    session: Session, *, order_id: str, action: Transition, actor: str, now: datetime
) -> OrderView:
    """Move the order through the status machine, recording who and when; commits."""
    sources, target = TRANSITIONS[action]
    stamp = {"approved": ("approved_by", "approved_at"), "sent": ("sent_by", "sent_at"),
             "cancelled": ("cancelled_by", "cancelled_at")}[target]  # fmt: skip
    # One conditional UPDATE: of two concurrent requests only one moves the order.
    done = session.execute(
        sa.update(PlannerOrder)
        .where(PlannerOrder.order_id == order_id, PlannerOrder.status.in_(sources))
        .values(
            {
                "status": target,
                stamp[0]: actor,
                stamp[1]: now,
                "updated_by": actor,
                "updated_at": now,
            }
        )
    )
    if not done.rowcount:  # type: ignore[attr-defined]
        session.rollback()
        current = get_order(session, order_id)
        if current is None:
            raise NoSuchOrder(order_id)
        raise WrongStatus(f"order {order_id} is {current.status}: cannot {action} it")
    session.commit()
    return _load(session, [order_id])[0]


# --- export ----------------------------------------------------------------------------

CSV_HEADER = (
    "po_number", "line_number", "supplier_id", "supplier_name", "item_id", "depot_id",
    "quantity", "unit_cost", "line_value", "approved_by", "approved_at",
)  # fmt: skip
# A cell starting with one of these is a formula to Excel/LibreOffice (OWASP CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def safe_cell(value: str | None) -> str:
    """Text as a CSV cell that no spreadsheet evaluates: a leading quote defuses formulas."""
    text = value or ""
    return f"'{text}" if text.startswith(FORMULA_START) else text


def money(value: Decimal) -> str:
    """Two decimals, or four when the value has sub-cent precision; '.' as the separator."""
    cents = value.quantize(CENT, ROUND_HALF_UP)
    return f"{cents:.2f}" if cents == value else f"{value:.4f}"


def export_csv(order: OrderView) -> str:
    """The order as CSV for ERP import: ``;``-separated, '.' decimals, CRLF rows."""
    if order.status not in EXPORTABLE:
        raise WrongStatus(f"order {order.order_id} is {order.status}: approve it before export")
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(CSV_HEADER)
    approved_at = order.approved_at.strftime("%Y-%m-%dT%H:%M:%SZ") if order.approved_at else ""
    for line in order.lines:
        writer.writerow(
            [safe_cell(order.order_id), line.line_number, safe_cell(order.supplier_id),
             safe_cell(order.supplier_name), safe_cell(line.item_id), safe_cell(line.depot_id),
             line.quantity, money(line.unit_cost), money(line.line_value),
             safe_cell(order.approved_by), approved_at]
        )  # fmt: skip
    return buffer.getvalue()
