"""The app database's workbench orders: lines of approved orders, to bronze ``appdb/order_lines``.

Planners approve purchase-order drafts in the workbench (``planner_orders`` and
``planner_order_lines`` in the app database, ``Settings.app_db_uri``). Until the ERP shows a
purchase order for them, the next day's work list must count those lines as on order, so
the daily run takes a snapshot of them: every line of an order approved before the end of
the run date D and now in status ``approved``, ``sent`` or ``cancelled`` (cancelled ones
too, so that a cancellation replaces the line's earlier approved version in staging).
Drafts are not read. The snapshot lands in D's partition; re-running D overwrites it.

The app database belongs to the API (its migrations create the tables). A run before it
exists, or before its migrations ran, extracts zero rows and says so in a note.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from backend.ingest.base import EntityExtract, ExtractWindow, Source, register
from backend.ingest.sql_readers import conform

log = logging.getLogger(__name__)

TS = pa.timestamp("us")

ORDER_STATUSES_READ = ("approved", "sent", "cancelled")

APPDB_SCHEMAS: dict[str, pa.Schema] = {
    "order_lines": pa.schema(
        [
            ("line_id", pa.string()),
            ("order_id", pa.string()),
            ("supplier_id", pa.string()),
            ("order_status", pa.string()),
            ("item_id", pa.string()),
            ("depot_id", pa.string()),
            ("quantity", pa.int64()),
            ("approved_at", TS),
            ("updated_at", TS),
        ]
    ),
}

# Only the columns read; the app database's own models (backend/appdb) own the tables.
_ORDERS = sa.table(
    "planner_orders",
    sa.column("order_id", sa.String),
    sa.column("supplier_id", sa.String),
    sa.column("status", sa.String),
    sa.column("approved_at", sa.DateTime),
    sa.column("updated_at", sa.DateTime),
)
_LINES = sa.table(
    "planner_order_lines",
    sa.column("line_id", sa.String),
    sa.column("order_id", sa.String),
    sa.column("item_id", sa.String),
    sa.column("depot_id", sa.String),
    sa.column("quantity", sa.Integer),
)


def order_lines_query(upper: datetime) -> sa.Select[Any]:
    """Lines of orders approved before ``upper`` and not drafts (``upper`` is bound)."""
    return (
        sa.select(
            _LINES.c.line_id,
            _LINES.c.order_id,
            _ORDERS.c.supplier_id,
            _ORDERS.c.status.label("order_status"),
            _LINES.c.item_id,
            _LINES.c.depot_id,
            _LINES.c.quantity,
            _ORDERS.c.approved_at,
            _ORDERS.c.updated_at,
        )
        .select_from(_LINES.join(_ORDERS, _LINES.c.order_id == _ORDERS.c.order_id))
        .where(
            _ORDERS.c.status.in_(ORDER_STATUSES_READ),
            _ORDERS.c.approved_at.is_not(None),
            _ORDERS.c.approved_at < upper,
        )
        .order_by(_LINES.c.line_id)
    )


def _missing_sqlite_file(url: str) -> bool:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return False
    database = str(parsed.database or "")
    in_memory = database in ("", ":memory:") or database.startswith("file:")
    # connecting would create an empty file where the API's database should be
    return not in_memory and not Path(database).expanduser().exists()


def read_order_lines(url: str, upper: datetime) -> tuple[pa.Table, str | None]:
    """The approved lines as Arrow (the contract's schema) and a note when there are none
    because the database or its tables do not exist yet."""
    schema = APPDB_SCHEMAS["order_lines"]
    if _missing_sqlite_file(url):
        return schema.empty_table(), "appdb: no app database yet: 0 approved order lines"
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            inspector = sa.inspect(conn)
            missing = [
                name
                for name in ("planner_orders", "planner_order_lines")
                if not inspector.has_table(name)
            ]
            if missing:
                note = f"appdb: the app database has no table(s) {missing}: 0 approved order lines"
                return schema.empty_table(), note
            rows = conn.execute(order_lines_query(upper)).mappings().all()
    finally:
        engine.dispose()
    columns = {name: [row[name] for row in rows] for name in schema.names}
    table = pa.table(
        {
            name: pa.array(values, type=_read_type(schema.field(name).type))
            for name, values in columns.items()
        }
    )
    return conform(table, schema, source="appdb", entity="order_lines"), None


def _read_type(declared: pa.DataType) -> pa.DataType | None:
    # SQLite hands back timestamps as datetime objects through SQLAlchemy's DateTime type;
    # let Arrow infer everything else and conform() cast it to the contract.
    return declared if pa.types.is_timestamp(declared) else None


class AppDbOrdersSource(Source):
    name = "appdb"
    schemas = APPDB_SCHEMAS

    def extract(self, window: ExtractWindow) -> list[EntityExtract]:
        upper = datetime.combine(window.end + timedelta(days=1), time.min)
        rows, note = read_order_lines(window.settings.app_db_uri, upper)
        if note:
            log.info(note)
        partition = pa.repeat(pa.scalar(window.end, pa.date32()), rows.num_rows)
        details: dict[str, object] = {"note": note} if note else {}
        return [EntityExtract("order_lines", rows, partition, details)]


@register("appdb")
def _make_appdb() -> Source:
    return AppDbOrdersSource()
