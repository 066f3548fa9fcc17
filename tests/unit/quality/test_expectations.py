"""The external sources' contracts as Great Expectations suites: declared over the
bronze columns, one rule name per expectation, row-level failures with reasons."""

from __future__ import annotations

import random
from dataclasses import replace

import pyarrow as pa
import pytest

from backend.ingest.base import get_source
from backend.quality.expectations import SUITES, Expect, failing_positions, suite


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


@pytest.mark.parametrize("engine", ["arrow", "ge"])
def test_failing_rows_are_reported_per_rule_and_row(engine: str):
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

    failures = sorted(
        (p, e.rule) for p, e in failing_positions(table, "inmet", "observations", engine=engine)
    )

    assert failures == [
        (1, "expect_column_values_to_be_between:CHUVA__num"),
        (2, "expect_column_pair_values_a_to_be_greater_than_b:TEM_MAX__num+TEM_MIN__num"),
        (3, "expect_column_values_to_be_in_set:HR_MEDICAO"),
        (3, "parses_as_number:UMD_INS"),
    ]


# Values that sit on the edges of the rules: nulls, empty text, Unicode digits and a
# final newline (Python's regex accepts them where RE2 does not), both number styles,
# both date styles, out-of-range numbers and values drawn often enough to repeat.
_EDGE_VALUES = (
    None,
    "",
    "0",
    "1",
    "-3",
    "25",
    "30",
    "365",
    "366",
    "1.842,5",
    "1842.5",
    " 7 ",
    "abc",
    "nan",
    "1e999",
    "\u0661\u0662\u0663",
    "12\n",
    "2026-10-20",
    "2026-02-30",
    "20/10/2026",
    "2026-10-20T08:15:00Z",
    "2026-10-20T08:15:00.5+03:00",
    "0000",
    "2300",
    "2400",
    "A401",
    "a401",
    "LTE",
    "NR",
    "BRL",
    "XYZ",
    "433",
    "1234567",
    "-12,9",
    "-38,5",
)


@pytest.mark.parametrize(
    ("source", "entity"), [(s, e) for s, entities in SUITES.items() for e in entities]
)
def test_the_arrow_engine_fails_the_rows_great_expectations_fails(source: str, entity: str):
    schema = get_source(source).schemas[entity]
    rng = random.Random(f"{source}.{entity}")
    rows = [{name: rng.choice(_EDGE_VALUES) for name in schema.names} for _ in range(600)]
    rows += rows[:40]  # whole rows repeated: compound keys repeat, nulls included
    table = pa.Table.from_pylist(rows, schema=schema)

    arrow = sorted((p, e.rule) for p, e in failing_positions(table, source, entity))
    ge = sorted((p, e.rule) for p, e in failing_positions(table, source, entity, engine="ge"))

    assert arrow == ge
    # every rule is broken by some row and kept by another, so each comparison counts
    broken = {rule for _, rule in arrow}
    assert broken == {e.rule for e in SUITES[source][entity].expectations}
    assert len(arrow) < len(SUITES[source][entity].expectations) * table.num_rows


def test_an_expectation_the_arrow_engine_does_not_know_fails_loudly(monkeypatch):
    contract = SUITES["bacen"]["series"]
    odd = Expect("ExpectColumnValuesToBeIncreasing", "not increasing", {"column": "data"})
    monkeypatch.setitem(SUITES["bacen"], "series", replace(contract, expectations=(odd,)))
    table = pa.table({n: ["1"] for n in get_source("bacen").schemas["series"].names})

    with pytest.raises(NotImplementedError, match="ExpectColumnValuesToBeIncreasing"):
        failing_positions(table, "bacen", "series")
