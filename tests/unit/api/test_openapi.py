"""The committed OpenAPI schema is the one the app serves, with readable operation ids."""

from __future__ import annotations

import json
from collections import Counter

from backend.api.openapi import SCHEMA_PATH, current_schema, render


def test_committed_schema_is_current() -> None:
    committed = SCHEMA_PATH.read_text(encoding="utf-8")
    assert committed == render(current_schema()), (
        "backend/api/openapi.json is stale: run `make openapi` and commit it "
        "(then regenerate the dashboard's client)"
    )


def test_operation_ids_are_unique_and_readable() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    ids = [op["operationId"] for path in schema["paths"].values() for op in path.values()]
    assert ids and not [i for i, n in Counter(ids).items() if n > 1]
    assert all(i.isidentifier() and i.islower() for i in ids), ids
