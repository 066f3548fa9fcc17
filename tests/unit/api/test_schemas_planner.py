"""Every field of the planner routes' response models says what it is, with an example
(the workbench's typed client and the OpenAPI page are generated from them)."""

from __future__ import annotations

from typing import get_args

import pytest
from pydantic import BaseModel

from backend.api import schemas_planner

MODELS = [
    value
    for value in vars(schemas_planner).values()
    if isinstance(value, type)
    and issubclass(value, BaseModel)
    and value.__module__ == schemas_planner.__name__
]


def test_the_module_has_models() -> None:
    assert {"ActionPublic", "SeriesPublic", "KpisPublic", "RunReportPublic"} <= {
        m.__name__ for m in MODELS
    }


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_field_has_a_description(model: type[BaseModel]) -> None:
    for name, field in model.model_fields.items():
        if name in {"data", "count", "limit", "offset"}:  # PageOf's, shared with every list
            continue
        assert field.description, f"{model.__name__}.{name} has no description"
        is_list = "list[" in str(field.annotation)
        kinds = (field.annotation, *get_args(field.annotation))
        nested = any(isinstance(k, type) and issubclass(k, BaseModel) for k in kinds)
        if not (is_list or nested):  # a list or a nested model shows its items' examples
            assert field.examples, f"{model.__name__}.{name} has no example"
