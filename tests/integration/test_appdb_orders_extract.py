"""The appdb source reads approved workbench order lines from a real database (SQLite,
the embedded default, and PostgreSQL, the stack's), or says why there are none."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from backend.ingest.appdb_orders import AppDbOrdersSource
from backend.ingest.base import ExtractWindow
from backend.settings import Settings

RUN_DATE = date(2026, 10, 31)


def _create_app_tables(url: str) -> None:
    """The two tables as the API's migrations create them (plus columns we do not read)."""
    md = sa.MetaData()
    orders = sa.Table(
        "planner_orders",
        md,
        sa.Column("order_id", sa.String(40), primary_key=True),
        sa.Column("supplier_id", sa.String(24), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(80)),
        sa.Column("approved_at", sa.DateTime),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    lines = sa.Table(
        "planner_order_lines",
        md,
        sa.Column("line_id", sa.String(40), primary_key=True),
        sa.Column("order_id", sa.String(40), nullable=False),
        sa.Column("item_id", sa.String(24), nullable=False),
        sa.Column("depot_id", sa.String(24), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("unit_cost", sa.Float),
    )
    day = datetime(2026, 10, 31, 9, 30)
    late = datetime(2026, 11, 1, 8, 0)  # approved after the run date's end
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        md.create_all(conn)
        conn.execute(
            orders.insert(),
            [
                {"order_id": "A", "supplier_id": "SUP-1", "status": "approved", "approved_at": day,
                 "updated_at": day},
                {"order_id": "S", "supplier_id": "SUP-1", "status": "sent", "approved_at": day,
                 "updated_at": day},
                {"order_id": "C", "supplier_id": "SUP-2", "status": "cancelled",
                 "approved_at": day, "updated_at": late},
                {"order_id": "D", "supplier_id": "SUP-2", "status": "draft", "approved_at": None,
                 "updated_at": day},
                {"order_id": "L", "supplier_id": "SUP-2", "status": "approved",
                 "approved_at": late, "updated_at": late},
            ],
        )  # fmt: skip
        conn.execute(
            lines.insert(),
            [
                {"line_id": f"{order}-{n}", "order_id": order, "item_id": f"ITM-{n}",
                 "depot_id": "DEP-SSA", "quantity": 10 * n}
                for order in "ASCDL"
                for n in (1, 2)
            ],
        )  # fmt: skip
    engine.dispose()


def _extract(url: str, tmp_path: Path) -> tuple[list[dict[str, object]], dict[str, object]]:
    settings = Settings(
        env="test",
        lake_root=str(tmp_path / "lake"),
        warehouse_dir=tmp_path / "wh",
        app_db_url=SecretStr(url),
    )
    (extract,) = AppDbOrdersSource().extract(ExtractWindow(RUN_DATE, RUN_DATE, "b1", settings))
    assert extract.entity == "order_lines"
    assert extract.partition.to_pylist() == [RUN_DATE] * extract.rows.num_rows
    return extract.rows.to_pylist(), extract.details


def _check_lines(rows: list[dict[str, object]]) -> None:
    # drafts are never read, nor orders approved after D; cancelled ones are, so that
    # staging sees the cancellation
    assert [(r["line_id"], r["order_status"], r["quantity"]) for r in rows] == [
        ("A-1", "approved", 10),
        ("A-2", "approved", 20),
        ("C-1", "cancelled", 10),
        ("C-2", "cancelled", 20),
        ("S-1", "sent", 10),
        ("S-2", "sent", 20),
    ]
    assert rows[0]["approved_at"] == datetime(2026, 10, 31, 9, 30)
    assert rows[0]["supplier_id"] == "SUP-1" and rows[0]["depot_id"] == "DEP-SSA"


def test_sqlite_app_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.sqlite'}"
    _create_app_tables(url)
    rows, details = _extract(url, tmp_path)
    _check_lines(rows)
    assert details == {}


@pytest.mark.integration
def test_postgresql_app_database(pg_url: str, tmp_path: Path) -> None:
    _create_app_tables(pg_url)
    rows, _ = _extract(pg_url, tmp_path)
    _check_lines(rows)


def test_no_app_database_yet_is_zero_rows_and_a_note(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "app.sqlite"
    rows, details = _extract(f"sqlite:///{missing}", tmp_path)
    assert rows == [] and "no app database yet" in str(details["note"])
    assert not missing.exists()  # looking did not create it


def test_an_app_database_before_its_migrations_is_zero_rows_and_a_note(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.sqlite'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("create table users (id integer primary key)"))
    engine.dispose()
    rows, details = _extract(url, tmp_path)
    assert rows == []
    assert "planner_orders" in str(details["note"]) and "planner_order_lines" in str(
        details["note"]
    )


def test_the_extractor_reads_what_the_api_writes(tmp_path: Path) -> None:
    """Against the app database as its migrations make it (not a hand-made schema): an
    approved order written through the models is read; a draft is not."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from sqlalchemy.orm import Session

    from backend.appdb import upgrade
    from backend.appdb.orders import PlannerOrder, PlannerOrderLine
    from backend.ingest.appdb_orders import read_order_lines

    settings = Settings(env="test", lake_root=str(tmp_path / "lake"), warehouse_dir=tmp_path / "wh")
    engine = upgrade(settings)
    at = datetime(2026, 10, 30, 15, 0, tzinfo=UTC)
    with Session(engine) as session, session.begin():
        for order_id, status in (("PO-APPROVED", "approved"), ("PO-DRAFT", "draft")):
            session.add(PlannerOrder(
                order_id=order_id, supplier_id="SUP1", status=status, created_by="ana",
                created_at=at, approved_by="ana" if status == "approved" else None,
                approved_at=at if status == "approved" else None, updated_by="ana",
                updated_at=at,
            ))  # fmt: skip
            session.add(PlannerOrderLine(
                line_id=f"{order_id}-001", order_id=order_id, line_number=1, item_id="ITM1",
                depot_id="DEP1", quantity=6, unit_cost=Decimal("12.5"), min_order_qty=6,
            ))  # fmt: skip
    engine.dispose()
    rows, note = read_order_lines(settings.app_db_uri, datetime(2026, 10, 31, 3, 0, tzinfo=UTC))
    assert note is None
    assert rows.column("order_id").to_pylist() == ["PO-APPROVED"]
    assert rows.column("quantity").to_pylist() == [6]
    early, _ = read_order_lines(settings.app_db_uri, datetime(2026, 10, 30, 12, 0, tzinfo=UTC))
    assert early.num_rows == 0  # approved after that moment: not yet on order
