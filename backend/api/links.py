"""OpenAPI links: how one operation's answer feeds the next (for clients and stateful tests).

A link names the operation to call next and where its parameters come from in the answer
(``$response.body#/data/0/order_id``): generated clients can follow them, and schemathesis's
stateful run (tests/integration/api/test_schema_fuzz.py) chains real ids through them
instead of guessing ids that do not exist.
"""

from __future__ import annotations

from typing import Any

FIRST = "$response.body#/data/0/"
_ORDER_STEPS = ("get_order", "update_order", "approve_order", "send_order", "cancel_order",
                "export_order_csv")  # fmt: skip
_ALERT_STEPS = ("acknowledge_alert", "snooze_alert", "resolve_alert")


def _to(operations: tuple[str, ...], parameter: str, source: str) -> dict[str, Any]:
    return {
        f"{op.title().replace('_', '')}": {"operationId": op, "parameters": {parameter: source}}
        for op in operations
    }


# (operationId, status) -> links of that response
LINKS: dict[tuple[str, str], dict[str, Any]] = {
    ("list_items", "200"): _to(("get_item",), "item_id", FIRST + "item_id"),
    ("list_towers", "200"): _to(("get_tower",), "tower_id", FIRST + "tower_id"),
    ("list_depots", "200"): _to(("get_depot",), "depot_id", FIRST + "depot_id"),
    ("list_runs", "200"): _to(("get_run",), "run_id", FIRST + "run_id"),
    ("list_alerts", "200"): _to(_ALERT_STEPS, "alert_id", FIRST + "alert_id"),
    ("list_actions", "200"): _to(_ALERT_STEPS, "alert_id", FIRST + "alert_id"),
    ("create_orders", "201"): _to(_ORDER_STEPS, "order_id", FIRST + "order_id"),
    ("create_orders", "200"): _to(_ORDER_STEPS, "order_id", FIRST + "order_id"),
    ("list_orders", "200"): _to(_ORDER_STEPS, "order_id", FIRST + "order_id"),
    ("get_order", "200"): _to(_ORDER_STEPS[1:], "order_id", "$response.body#/order_id"),
    ("approve_order", "200"): _to(_ORDER_STEPS[3:], "order_id", "$response.body#/order_id"),
}


def add_links(schema: dict[str, Any]) -> dict[str, Any]:
    """Put :data:`LINKS` on the operations of ``schema`` that exist (in place)."""
    known = {op["operationId"] for ops in schema.get("paths", {}).values() for op in ops.values()}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            for (op_id, status), links in LINKS.items():
                response = operation["responses"].get(status)
                if operation["operationId"] != op_id or response is None:
                    continue
                usable = {k: v for k, v in links.items() if v["operationId"] in known}
                if usable:
                    response["links"] = usable
    return schema
