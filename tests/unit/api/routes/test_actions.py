"""Sorting of /actions (backend/api/routes/actions.py): only the model's columns reach SQL."""

from __future__ import annotations

import re

import pytest

from backend.api.routes.actions import SORT_PATTERN, order_by


def test_order_by_ranks_ordinal_columns_and_ends_with_the_id() -> None:
    assert order_by("-priority") == '"priority" desc nulls last, action_id'
    sql = order_by("-severity,days_to_stockout")
    assert sql.startswith("case severity when 'critical' then 2")
    assert sql.endswith('"days_to_stockout" asc nulls last, action_id')
    assert order_by("action_id") == '"action_id" asc nulls last'


@pytest.mark.parametrize("sort", ["nope", "-priority;select 1", 'priority"', "x,-priority"])
def test_order_by_refuses_what_the_pattern_refuses(sort: str) -> None:
    assert re.fullmatch(SORT_PATTERN, sort) is None
    with pytest.raises(ValueError, match="sortable"):
        order_by(sort)
