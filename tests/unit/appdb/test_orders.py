"""Purchase-order services on SQLite: drafts per supplier, idempotency, status machine, CSV."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from backend.appdb import orders as svc
from backend.appdb import upgrade
from backend.settings import Settings

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
CATALOG = {
    "ITM1": svc.CatalogItem("ITM1", "SUP1", "Acme", Decimal("12.5"), 6),
    "ITM2": svc.CatalogItem("ITM2", "SUP1", "Acme", Decimal("3.3333"), 1),
    "ITM3": svc.CatalogItem("ITM3", "SUP2", "=cmd|' /C calc'!A0", Decimal("100"), 10),
}
LINES = [
    svc.NewLine("ITM1", "DEP1", 12, action_id="ACT1", alert_id="AL1"),
    svc.NewLine("ITM3", "DEP2", 20),
    svc.NewLine("ITM2", "DEP1", 3),
]


@pytest.fixture
def engine(settings: Settings) -> Engine:
    return upgrade(settings)


def create(engine: Engine, lines=LINES, *, key: str = "k1", actor: str = "ana@example.com",
           at: datetime = T0) -> tuple[list[svc.OrderView], bool]:  # fmt: skip
    with Session(engine) as session:
        return svc.create_orders(session, actor=actor, idempotency_key=key, lines=lines,
                                 catalog=CATALOG, now=at)  # fmt: skip


def count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(f"select count(*) from {table}")).scalar_one()


def move(engine: Engine, order_id: str, action: svc.Transition, *, actor: str = "bia@example.com",
         at: datetime = T0) -> svc.OrderView:  # fmt: skip
    with Session(engine) as session:
        return svc.transition(session, order_id=order_id, action=action, actor=actor, now=at)


def test_one_draft_per_supplier_with_gold_costs_and_moqs(engine: Engine) -> None:
    made, created = create(engine)
    assert created
    assert [(o.supplier_id, o.status, o.created_by) for o in made] == [
        ("SUP1", "draft", "ana@example.com"), ("SUP2", "draft", "ana@example.com"),
    ]  # fmt: skip
    sup1 = made[0]
    assert [(ln.line_id, ln.item_id, ln.depot_id, ln.quantity, ln.min_order_qty)
            for ln in sup1.lines] == [
        (f"{sup1.order_id}-001", "ITM1", "DEP1", 12, 6),
        (f"{sup1.order_id}-002", "ITM2", "DEP1", 3, 1),
    ]  # fmt: skip
    assert sup1.lines[0].action_id == "ACT1" and sup1.lines[0].alert_id == "AL1"
    assert sup1.lines[1].line_value == Decimal("10.00")  # 3 x 3.3333, rounded to cents
    assert sup1.total_value == Decimal("160.00")
    assert count(engine, "planner_orders") == 2 and count(engine, "planner_order_lines") == 3


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([svc.NewLine("ITM1", "DEP1", 7)], "not a positive multiple of the MOQ 6"),
        ([svc.NewLine("ITM1", "DEP1", 0)], "not a positive multiple"),
        ([svc.NewLine("NOPE", "DEP1", 1)], "unknown item 'NOPE'"),
        ([svc.NewLine("ITM2", "DEP1", 1), svc.NewLine("ITM2", "DEP1", 2)], "given twice"),
        ([], "at least one line"),
    ],
)
def test_invalid_lines_create_nothing(
    engine: Engine, lines: list[svc.NewLine], message: str
) -> None:
    with pytest.raises(svc.InvalidLines, match=message):
        create(engine, lines)
    assert count(engine, "planner_orders") == 0 and count(engine, "planner_order_requests") == 0


def test_the_same_key_and_body_returns_the_same_orders(engine: Engine) -> None:
    first, _ = create(engine)
    again, created = create(engine, at=T0 + timedelta(minutes=1))
    assert not created
    assert [o.order_id for o in again] == [o.order_id for o in first]
    assert count(engine, "planner_orders") == 2
    with Session(engine) as session:
        found = svc.find_request(session, actor="ana@example.com", idempotency_key="k1",
                                 lines=LINES)  # fmt: skip
        assert [o.order_id for o in found or []] == [o.order_id for o in first]
        assert svc.find_request(session, actor="ana@example.com", idempotency_key="k2",
                                lines=LINES) is None  # fmt: skip
    with pytest.raises(svc.KeyReused):
        create(engine, LINES[:1])
    # Keys belong to their caller: another caller's k1 is a new request.
    _, created = create(engine, actor="key:abcd1234")
    assert created and count(engine, "planner_orders") == 4


def test_status_machine_records_who_and_when(engine: Engine) -> None:
    (order, other), _ = create(engine)
    approved = move(engine, order.order_id, "approve", at=T0 + timedelta(hours=1))
    assert (approved.status, approved.approved_by, approved.approved_at) == (
        "approved", "bia@example.com", T0 + timedelta(hours=1))  # fmt: skip
    with pytest.raises(svc.WrongStatus, match="is approved: cannot approve"):
        move(engine, order.order_id, "approve")
    sent = move(engine, order.order_id, "send", actor="cid@example.com", at=T0 + timedelta(hours=2))
    assert (sent.status, sent.sent_by, sent.updated_by) == ("sent", "cid@example.com",
                                                            "cid@example.com")  # fmt: skip
    for action in ("cancel", "approve", "send"):
        with pytest.raises(svc.WrongStatus):
            move(engine, order.order_id, action)  # type: ignore[arg-type]
    with pytest.raises(svc.WrongStatus):
        move(engine, other.order_id, "send")  # a draft is approved first
    cancelled = move(engine, other.order_id, "cancel")
    assert (cancelled.status, cancelled.cancelled_by) == ("cancelled", "bia@example.com")
    with pytest.raises(svc.NoSuchOrder):
        move(engine, "PO-NOPE", "approve")


def test_quantities_change_on_drafts_only_in_moq_multiples(engine: Engine) -> None:
    (order, _), _ = create(engine)
    line_id = order.lines[0].line_id

    def edit(quantities: dict[str, int]) -> svc.OrderView:
        with Session(engine) as session:
            return svc.update_quantities(session, order_id=order.order_id, quantities=quantities,
                                         actor="bia@example.com", now=T0 + timedelta(1))  # fmt: skip

    edited = edit({line_id: 18})
    assert edited.lines[0].quantity == 18 and edited.updated_by == "bia@example.com"
    with pytest.raises(svc.InvalidLines, match="MOQ 6"):
        edit({line_id: 20})
    with pytest.raises(svc.InvalidLines, match="no line"):
        edit({"PO-X-001": 6})
    move(engine, order.order_id, "approve")
    with pytest.raises(svc.WrongStatus, match="only a draft"):
        edit({line_id: 6})
    with Session(engine) as session:
        assert svc.get_order(session, order.order_id).lines[0].quantity == 18  # type: ignore[union-attr]


def test_list_filters_and_depot_scope(engine: Engine) -> None:
    (sup1, sup2), _ = create(engine)  # SUP1: DEP1 only; SUP2: DEP2
    (mixed,), _ = create(engine, [svc.NewLine("ITM2", "DEP1", 1), svc.NewLine("ITM2", "DEP2", 1)],
                         key="k2", at=T0 + timedelta(minutes=1))  # fmt: skip
    move(engine, sup2.order_id, "approve")

    def ids(**filters: object) -> tuple[list[str], int]:
        with Session(engine) as session:
            page, total = svc.list_orders(session, **filters)  # type: ignore[arg-type]
        return [o.order_id for o in page], total

    # Newest first; sup1 and sup2 were made together (then by order id).
    same_time = sorted([sup1.order_id, sup2.order_id])
    assert ids() == ([mixed.order_id, *same_time], 3)
    assert ids(status="approved") == ([sup2.order_id], 1)
    assert ids(supplier_id="SUP1") == ([mixed.order_id, sup1.order_id], 2)
    assert ids(depot_id="DEP2") == ([mixed.order_id, sup2.order_id], 2)
    # A caller scoped to DEP1 sees no order with a line elsewhere.
    assert ids(depots=("DEP1",)) == ([sup1.order_id], 1)
    assert ids(limit=1, offset=1) == ([same_time[0]], 3)


def test_csv_for_erp_import(engine: Engine) -> None:
    (sup1, sup2), _ = create(engine)
    with pytest.raises(svc.WrongStatus, match="approve it before export"):
        svc.export_csv(sup1)
    approved = move(engine, sup2.order_id, "approve", actor="@bia", at=T0 + timedelta(hours=3))
    assert svc.export_csv(approved) == (
        "po_number;line_number;supplier_id;supplier_name;item_id;depot_id;quantity;unit_cost;"
        "line_value;approved_by;approved_at\r\n"
        f"{sup2.order_id};1;SUP2;'=cmd|' /C calc'!A0;ITM3;DEP2;20;100.00;2000.00;'@bia;"
        "2026-11-01T15:00:00Z\r\n"
    )
    approved1 = move(engine, sup1.order_id, "approve")
    rows = svc.export_csv(approved1).splitlines()
    assert rows[2].split(";")[6:9] == ["3", "3.3333", "10.00"]


def test_safe_cell_and_money() -> None:
    assert [svc.safe_cell(v) for v in ("=1+1", "+1", "-1", "@x", "\tx", "ok", None)] == [
        "'=1+1", "'+1", "'-1", "'@x", "'\tx", "ok", "",
    ]  # fmt: skip
    assert svc.money(Decimal("12.5")) == "12.50"
    assert svc.money(Decimal("12.345")) == "12.3450"
    assert svc.moq_of(None) == 1 and svc.moq_of(0) == 1 and svc.moq_of(12) == 12
