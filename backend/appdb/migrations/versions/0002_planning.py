"""What planners write: alert states (+ history) and purchase-order drafts.

Revision ID: 0002_planning
Revises: 0001_people
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from backend.appdb.base import UtcDateTime

revision = "0002_planning"
down_revision = "0001_people"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_states",
        sa.Column("alert_id", sa.String(128), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("item_id", sa.String(64), nullable=False),
        sa.Column("depot_id", sa.String(64), nullable=False),
        sa.Column("snoozed_until", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(254), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint("state in ('acknowledged', 'snoozed', 'resolved')", name="state"),
        sa.PrimaryKeyConstraint("alert_id"),
    )
    op.create_index(op.f("ix_alert_states_updated_at"), "alert_states", ["updated_at"])
    op.create_table(
        "alert_state_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("alert_id", sa.String(128), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("item_id", sa.String(64), nullable=False),
        sa.Column("depot_id", sa.String(64), nullable=False),
        sa.Column("snoozed_until", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(254), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_alert_state_events_alert_id"), "alert_state_events", ["alert_id"])
    op.create_table(
        "planner_orders",
        sa.Column("order_id", sa.String(32), nullable=False),
        sa.Column("supplier_id", sa.String(64), nullable=False),
        sa.Column("supplier_name", sa.String(200), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(254), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("approved_by", sa.String(254), nullable=True),
        sa.Column("approved_at", UtcDateTime(), nullable=True),
        sa.Column("sent_by", sa.String(254), nullable=True),
        sa.Column("sent_at", UtcDateTime(), nullable=True),
        sa.Column("cancelled_by", sa.String(254), nullable=True),
        sa.Column("cancelled_at", UtcDateTime(), nullable=True),
        sa.Column("updated_by", sa.String(254), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint("status in ('draft', 'approved', 'sent', 'cancelled')", name="status"),
        sa.PrimaryKeyConstraint("order_id"),
    )
    op.create_index(op.f("ix_planner_orders_supplier_id"), "planner_orders", ["supplier_id"])
    op.create_index(op.f("ix_planner_orders_status"), "planner_orders", ["status"])
    op.create_index(op.f("ix_planner_orders_created_at"), "planner_orders", ["created_at"])
    op.create_index(op.f("ix_planner_orders_updated_at"), "planner_orders", ["updated_at"])
    op.create_table(
        "planner_order_lines",
        sa.Column("line_id", sa.String(40), nullable=False),
        sa.Column("order_id", sa.String(32), nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(64), nullable=False),
        sa.Column("depot_id", sa.String(64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_cost", sa.Numeric(14, 4), nullable=False),
        sa.Column("min_order_qty", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.String(128), nullable=True),
        sa.Column("alert_id", sa.String(128), nullable=True),
        sa.CheckConstraint("quantity > 0", name="quantity"),
        sa.ForeignKeyConstraint(["order_id"], ["planner_orders.order_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("line_id"),
        sa.UniqueConstraint("order_id", "item_id", "depot_id", name="uq_planner_order_lines_pair"),
    )
    op.create_index(op.f("ix_planner_order_lines_order_id"), "planner_order_lines", ["order_id"])
    op.create_index(op.f("ix_planner_order_lines_depot_id"), "planner_order_lines", ["depot_id"])
    op.create_table(
        "planner_order_requests",
        sa.Column("actor", sa.String(254), nullable=False),
        sa.Column("idempotency_key", sa.String(128), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("order_ids", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("actor", "idempotency_key"),
    )


def downgrade() -> None:
    op.drop_table("planner_order_requests")
    op.drop_index(op.f("ix_planner_order_lines_depot_id"), table_name="planner_order_lines")
    op.drop_index(op.f("ix_planner_order_lines_order_id"), table_name="planner_order_lines")
    op.drop_table("planner_order_lines")
    for column in ("updated_at", "created_at", "status", "supplier_id"):
        op.drop_index(op.f(f"ix_planner_orders_{column}"), table_name="planner_orders")
    op.drop_table("planner_orders")
    op.drop_index(op.f("ix_alert_state_events_alert_id"), table_name="alert_state_events")
    op.drop_table("alert_state_events")
    op.drop_index(op.f("ix_alert_states_updated_at"), table_name="alert_states")
    op.drop_table("alert_states")
