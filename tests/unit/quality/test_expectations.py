"""The external sources' contracts as Great Expectations suites: declared over the
bronze columns, one rule name per expectation, row-level failures with reasons."""

from __future__ import annotations

import pyarrow as pa
import pytest

from backend.ingest.base import get_source
from backend.quality.expectations import SUITES, failing_positions, suite


@pytest.mark.parametrize(
    ("source", "entity"), [(s, e) for s, entities in SUITES.items() for e in entities]
)
def test_each_contract_is_a_ge_suite_over_the_bronze_columns(source: str, entity: str):
    contract = SUITES[source][entity]
    rules = [e.rule for e in contract.expectations]
    assert len(rules) == len(set(rules))  # results map back to rules by name
    columns = set(get_source(source).schemas[entity].names)
    typed = {f"{c}__num" for c in contract.numbers} | {f"{c}__date" for c in contract.dates}
    typed |= {f"{c}__ok" for c in [*contract.numbers, *contract.dates]}
    for expectation in contract.expectations:
        named = [expectation.kwargs.get(k) for k in ("column", "column_A", "column_B")] + list(
            expectation.kwargs.get("column_list", [])
        )
        assert {n for n in named if n} <= columns | typed, expectation.rule
    assert len(suite(source, entity).expectations) == len(rules)


def test_failing_rows_are_reported_per_rule_and_row():
    fields = get_source("inmet").schemas["observations"].names
    good = dict.fromkeys(fields, "1")
    good.update(
        CD_ESTACAO="A401", DT_MEDICAO="2026-10-20", HR_MEDICAO="0000", TEM_MIN="20", TEM_MAX="25"
    )
    rows = [
        good,
        {**good, "HR_MEDICAO": "0100", "CHUVA": "-3"},
        {**good, "HR_MEDICAO": "0200", "TEM_MIN": "30"},
        {**good, "HR_MEDICAO": "2400", "UMD_INS": "abc"},
        {**good, "HR_MEDICAO": "0300", "CHUVA": None},  # missing is allowed
    ]
    table = pa.Table.from_pylist(rows, schema=get_source("inmet").schemas["observations"])

    failures = sorted((p, e.rule) for p, e in failing_positions(table, "inmet", "observations"))

    assert failures == [
        (1, "expect_column_values_to_be_between:CHUVA__num"),
        (2, "expect_column_pair_values_a_to_be_greater_than_b:TEM_MAX__num+TEM_MIN__num"),
        (3, "expect_column_values_to_be_in_set:HR_MEDICAO"),
        (3, "parses_as_number:UMD_INS"),
    ]
