"""The committed OpenAPI schema is the one the app serves, with readable operation ids."""

from __future__ import annotations

import json
from collections import Counter

from backend.api.glossary import undocumented
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


def test_every_response_field_has_a_description_and_an_example() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert undocumented(schema) == [], "add them to the model's Field() or backend/api/glossary.py"


def test_every_error_is_a_problem_document() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status[0] in "45":
                    assert list(response["content"]) == ["application/problem+json"], (
                        method,
                        path,
                        status,
                    )
