"""Contracts of the external sources' bronze tables as Great Expectations 1.x suites.

Bronze holds the APIs' values as text. Each contract declares, per entity, which text
columns are numbers (and in which format) or dates; the validated frame carries each such
column with typed copies: ``<col>__num`` / ``<col>__date`` (checked for its range) and
``<col>__ok`` (the text is null or parses), so a value that does not parse fails the
parse rule only. Every expectation is row-level, so GE returns the failing rows' indexes, and
each failing (row, expectation) becomes a quarantine row with the rule and a reason.

Why GE suites here and DuckDB predicates for the ERP (backend/quality/contracts.py): the
ERP's bronze holds millions of rows a backfill, which one DuckDB scan checks in about a
second; the external sources' rules are the GE suites the issue and the analysts ask for.
The pipeline evaluates them in Arrow compute with GE's pandas semantics (nulls skipped by
map expectations, Python regex, pandas' duplicated): importing GE alone took 5-7 s and
its validation another 5-7 s of a backfill. ``suite`` still builds each contract as a GE
suite, and ``failing_positions(engine="ge")`` validates through GE; tests hold both
engines to the same failures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from backend.lake import delta
from backend.lake.duck import connect
from backend.lake.sql import quote_name

if TYPE_CHECKING:
    import pandas as pd

    from backend.settings import Settings

INTEGER = r"^\d+$"
ISO_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$"


@dataclass(frozen=True)
class Expect:
    """One row-level expectation: a GE expectation class and its arguments."""

    kind: str  # class name in great_expectations.expectations
    reason: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    name: str | None = None  # the rule's name, when the derived one would be unclear

    @property
    def rule(self) -> str:
        if self.name:
            return self.name
        snake = re.sub(r"(?<!^)(?=[A-Z])", "_", self.kind).lower()
        target = self.kwargs.get("column") or "+".join(
            self.kwargs.get("column_list")
            or [self.kwargs.get("column_A", ""), self.kwargs.get("column_B", "")]
        )
        return f"{snake}:{target}"


def not_null(column: str) -> Expect:
    return Expect("ExpectColumnValuesToNotBeNull", f"{column} is missing", {"column": column})


def matches(column: str, regex: str, what: str) -> Expect:
    return Expect(
        "ExpectColumnValuesToMatchRegex",
        f"{column} is not {what}",
        {"column": column, "regex": regex},
    )


def between(column: str, low: float | None, high: float | None, unit: str = "") -> Expect:
    bounds = f"[{'' if low is None else low}, {'' if high is None else high}]{unit}"
    return Expect(
        "ExpectColumnValuesToBeBetween",
        f"{column.split('__')[0]} outside {bounds}",
        {"column": column, "min_value": low, "max_value": high},
    )


def one_of(column: str, values: tuple[str, ...]) -> Expect:
    return Expect(
        "ExpectColumnValuesToBeInSet",
        f"{column} is not one of {', '.join(values)}",
        {"column": column, "value_set": list(values)},
    )


def unique(*columns: str) -> Expect:
    if len(columns) == 1:
        return Expect(
            "ExpectColumnValuesToBeUnique", f"{columns[0]} repeats", {"column": columns[0]}
        )
    return Expect(
        "ExpectCompoundColumnsToBeUnique",
        f"({', '.join(columns)}) repeats",
        {"column_list": list(columns)},
    )


def not_after(earlier: str, later: str) -> Expect:
    return Expect(
        "ExpectColumnPairValuesAToBeGreaterThanB",
        f"{earlier.split('__')[0]} is after {later.split('__')[0]}",
        {
            "column_A": later,
            "column_B": earlier,
            "or_equal": True,
            "ignore_row_if": "either_value_is_missing",
        },
    )


@dataclass(frozen=True)
class Contract:
    """Typed copies to derive (text column -> format) and the expectations."""

    expectations: tuple[Expect, ...]
    numbers: dict[str, str] = field(default_factory=dict)  # column -> "decimal" | "br"
    dates: dict[str, str] = field(default_factory=dict)  # column -> "iso" | "br"


def parses(column: str, what: str) -> Expect:
    """The text parses as the contract's number or date format (or is null). Checked on
    the typed copy's ``__ok`` flag: a vectorised check, where GE's regex expectation maps
    a Python regex over every row (25 s for three years of hourly weather)."""
    kind = "date" if "date" in what else "number"
    return Expect(
        "ExpectColumnValuesToBeInSet",
        f"{column} is not {what}",
        {"column": f"{column}__ok", "value_set": [True]},
        name=f"parses_as_{kind}:{column}",
    )


def _numeric(column: str) -> Expect:
    return parses(column, "a number")


_HOURS = tuple(f"{h:02d}00" for h in range(24))
_WEATHER_RANGES = {
    "CHUVA": (0, 150, " mm"),
    "TEM_INS": (-10, 50, " C"),
    "TEM_MAX": (-10, 50, " C"),
    "TEM_MIN": (-10, 50, " C"),
    "UMD_INS": (0, 100, " %"),
    "UMD_MAX": (0, 100, " %"),
    "UMD_MIN": (0, 100, " %"),
    "VEN_VEL": (0, 60, " m/s"),
    "VEN_RAJ": (0, 90, " m/s"),
}

SUITES: dict[str, dict[str, Contract]] = {
    "inmet": {
        "stations": Contract(
            (
                not_null("CD_ESTACAO"),
                matches("CD_ESTACAO", r"^[A-Z]\d{3}$", "a station code (A123)"),
                unique("CD_ESTACAO"),
                not_null("SG_ESTADO"),
                _numeric("VL_LATITUDE"),
                _numeric("VL_LONGITUDE"),
                between("VL_LATITUDE__num", -34, 6, " deg"),
                between("VL_LONGITUDE__num", -74, -28, " deg"),
            ),
            numbers={"VL_LATITUDE": "decimal", "VL_LONGITUDE": "decimal"},
        ),
        "observations": Contract(
            (
                not_null("CD_ESTACAO"),
                not_null("DT_MEDICAO"),
                not_null("HR_MEDICAO"),
                parses("DT_MEDICAO", "a date (YYYY-MM-DD)"),
                one_of("HR_MEDICAO", _HOURS),
                unique("CD_ESTACAO", "DT_MEDICAO", "HR_MEDICAO"),
                *(_numeric(c) for c in _WEATHER_RANGES),
                *(between(f"{c}__num", lo, hi, u) for c, (lo, hi, u) in _WEATHER_RANGES.items()),
                not_after("TEM_MIN__num", "TEM_MAX__num"),
            ),
            numbers=dict.fromkeys(_WEATHER_RANGES, "decimal"),
            dates={"DT_MEDICAO": "iso"},
        ),
    },
    "bacen": {
        "series": Contract(
            (
                not_null("series_code"),
                not_null("data"),
                not_null("valor"),
                one_of("series_code", ("433", "1", "432")),
                parses("data", "a date (dd/MM/yyyy)"),
                _numeric("valor"),
                between("valor__num", -10, 1000),
                unique("series_code", "data"),
            ),
            numbers={"valor": "decimal"},
            dates={"data": "br"},
        )
    },
    "anatel": {
        "stations": Contract(
            (
                not_null("NumEstacao"),
                not_null("CodMunicipio"),
                not_null("Tecnologia"),
                not_null("DataLicenciamento"),
                not_null("DataPrimeiroLicenciamento"),
                matches("NumEstacao", INTEGER, "a station number"),
                matches("CodMunicipio", r"^\d{7}$", "an IBGE municipality code"),
                one_of("Tecnologia", ("GSM", "WCDMA", "LTE", "NR")),
                parses("FreqTxMHz", "a number (Brazilian format)"),
                between("FreqTxMHz__num", 0, 100_000, " MHz"),
                parses("Latitude", "a number (Brazilian format)"),
                parses("Longitude", "a number (Brazilian format)"),
                between("Latitude__num", -34, 6, " deg"),
                between("Longitude__num", -74, -28, " deg"),
                parses("DataLicenciamento", "a date (YYYY-MM-DD)"),
                parses("DataPrimeiroLicenciamento", "a date (YYYY-MM-DD)"),
                not_after("DataPrimeiroLicenciamento__date", "DataLicenciamento__date"),
                unique("NumEstacao", "FreqTxMHz"),
            ),
            numbers={"FreqTxMHz": "br", "Latitude": "br", "Longitude": "br"},
            dates={"DataLicenciamento": "iso", "DataPrimeiroLicenciamento": "iso"},
        )
    },
    "suppliers": {
        "quotes": Contract(
            (
                not_null("quote_id"),
                not_null("supplier_id"),
                not_null("item_id"),
                not_null("unit_price"),
                not_null("quoted_at"),
                unique("quote_id"),
                _numeric("unit_price"),
                between("unit_price__num", 0.01, 10_000_000, " BRL"),
                one_of("currency", ("BRL", "USD", "EUR")),
                matches("lead_time_days", INTEGER, "a whole number of days"),
                between("lead_time_days__num", 0, 365, " days"),
                matches("min_order_qty", INTEGER, "a whole number"),
                matches("quoted_at", ISO_TIMESTAMP, "an ISO timestamp"),
                parses("valid_until", "a date (YYYY-MM-DD)"),
            ),
            numbers={"unit_price": "decimal", "lead_time_days": "decimal"},
            dates={"valid_until": "iso"},
        )
    },
}


def has_suite(source: str) -> bool:
    return source in SUITES


def suite(source: str, entity: str) -> Any:
    """The entity's contract as a GE ExpectationSuite (imports GE)."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    contract = SUITES[source][entity]
    return gx.ExpectationSuite(
        name=f"{source}.{entity}",
        # meta names each expectation's rule: GE does not return results in suite order
        expectations=[
            getattr(gxe, e.kind)(**e.kwargs, meta={"rule": e.rule}) for e in contract.expectations
        ],
    )


NUMBER = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"


def typed_table(rows: pa.Table, contract: Contract) -> pa.Table:
    """The raw text columns plus the typed copies the rules read, computed in Arrow
    (pandas' to_numeric over Python strings took 4 s for three years of weather)."""
    columns: dict[str, pa.Array | pa.ChunkedArray] = {n: rows[n] for n in rows.column_names}
    for column, style in contract.numbers.items():
        text = pc.utf8_trim_whitespace(rows[column])
        if style == "br":  # 1.842,500 -> 1842.500
            text = pc.replace_substring(pc.replace_substring(text, ".", ""), ",", ".")
        readable = pc.match_substring_regex(text, NUMBER)
        number = pc.if_else(readable, text, pa.scalar(None, pa.string())).cast(pa.float64())
        columns[f"{column}__num"] = number
        columns[f"{column}__ok"] = pc.or_(pc.is_null(rows[column]), pc.is_valid(number))
    for column, style in contract.dates.items():
        fmt = "%Y-%m-%d" if style == "iso" else "%d/%m/%Y"
        parsed = pc.strptime(rows[column], format=fmt, unit="s", error_is_null=True)
        columns[f"{column}__date"] = parsed
        columns[f"{column}__ok"] = pc.or_(pc.is_null(rows[column]), pc.is_valid(parsed))
    # Only the columns rules read (GE filters the whole frame once per expectation).
    used = {
        name
        for e in contract.expectations
        for key in ("column", "column_A", "column_B")
        if (name := e.kwargs.get(key))
    } | {name for e in contract.expectations for name in e.kwargs.get("column_list", [])}
    return pa.table({n: c for n, c in columns.items() if n in used})


def typed_frame(rows: pa.Table, contract: Contract) -> pd.DataFrame:
    """``typed_table`` as the pandas frame GE validates."""
    return typed_table(rows, contract).to_pandas()


def _context() -> Any:
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,  # no network: never phone home
        progress_bars=ProgressBarsConfig(globally=False),
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def failing_positions(
    rows: pa.Table, source: str, entity: str, *, engine: str = "arrow"
) -> list[tuple[int, Expect]]:
    """(row position, broken expectation) for every failure.

    ``engine="arrow"`` (the pipeline's) evaluates each expectation as GE's pandas engine
    defines it, in Arrow compute: GE's import (5-7 s) and its per-expectation pandas
    passes cost more than the rest of the validate step. ``engine="ge"`` runs the suite
    through Great Expectations; tests hold the two to the same failures."""
    if engine == "arrow":
        return _failing_positions_arrow(rows, SUITES[source][entity])
    if engine != "ge":
        raise ValueError(f"unknown expectations engine {engine!r}")
    return _failing_positions_ge(rows, source, entity)


def _present(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Rows GE's column map expectations look at: pandas' notnull (NaN counts as null)."""
    return (
        pc.is_valid(column)
        if not pa.types.is_floating(column.type)
        else pc.invert(pc.is_null(column, nan_is_null=True))
    )


def _repeated(keys: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Per row, whether its key occurs more than once (pandas' duplicated(keep=False))."""
    counts = pc.value_counts(keys)
    several = pc.filter(counts.field("values"), pc.greater(counts.field("counts"), 1))
    return pc.is_in(keys, value_set=several)


def _row_keys(table: pa.Table) -> pa.Array:
    """One int64 per row, equal exactly when the rows' values are (null equal to null):
    each column's dictionary code folded into the running key, re-coded to stay small."""
    key = pa.repeat(pa.scalar(0, pa.int64()), table.num_rows)
    for name in table.column_names:
        codes = pc.dictionary_encode(table[name].combine_chunks(), null_encoding="encode")
        width = len(codes.dictionary) + 1
        folded = pc.add(pc.multiply(key, width), codes.indices.cast(pa.int64()))
        key = pc.dictionary_encode(folded).indices.cast(pa.int64())
    return key


def _python_search(values: pa.Array, regex: str) -> pa.Array:
    """Python's re.search per value (pandas' str.contains)."""
    pattern = re.compile(regex)
    return pa.array([pattern.search(v) is not None for v in values.to_pylist()], pa.bool_())


def _broken_mask(typed: pa.Table, expectation: Expect) -> pa.ChunkedArray | pa.Array:
    """Per row, true when the row breaks the expectation as GE's pandas engine says:
    map expectations skip null values (except the not-null one)."""
    kw = expectation.kwargs
    kind = expectation.kind
    false = pa.scalar(False)
    if kind == "ExpectColumnValuesToNotBeNull" and kw.keys() == {"column"}:
        return pc.invert(_present(typed[kw["column"]]))
    if kind == "ExpectColumnValuesToMatchRegex" and kw.keys() == {"column", "regex"}:
        column = typed[kw["column"]].combine_chunks()
        present = _present(column)
        # RE2 first; RE2's \d and $ accept less than Python's (Unicode digits, a final
        # newline), so only its misses are checked again with Python's re, as GE does.
        missed = pc.fill_null(
            pc.and_(present, pc.invert(pc.match_substring_regex(column, kw["regex"]))), False
        )
        positions = pc.indices_nonzero(missed)
        if len(positions):
            again = _python_search(column.take(positions), kw["regex"])
            still = pc.filter(positions, pc.invert(again))
            mask = np.zeros(len(column), dtype=bool)
            mask[still.to_numpy()] = True
            return pa.array(mask)
        return missed
    if kind == "ExpectColumnValuesToBeBetween" and kw.keys() == {
        "column",
        "min_value",
        "max_value",
    }:
        column = typed[kw["column"]]
        low, high = kw["min_value"], kw["max_value"]
        if low is None and high is None:
            raise ValueError(f"{expectation.rule}: min_value and max_value are both None")
        bounds = [pc.greater_equal(column, low)] if low is not None else []
        bounds += [pc.less_equal(column, high)] if high is not None else []
        inside = bounds[0] if len(bounds) == 1 else pc.and_(*bounds)
        return pc.and_(_present(column), pc.invert(pc.fill_null(inside, False)))
    if kind == "ExpectColumnValuesToBeInSet" and kw.keys() == {"column", "value_set"}:
        column = typed[kw["column"]]
        values = pa.array(kw["value_set"]).cast(column.type)
        return pc.and_(_present(column), pc.invert(pc.is_in(column, value_set=values)))
    if kind == "ExpectColumnValuesToBeUnique" and kw.keys() == {"column"}:
        column = typed[kw["column"]].combine_chunks()
        present = _present(column)
        return pc.and_(present, _repeated(pc.if_else(present, column, None)))
    if kind == "ExpectCompoundColumnsToBeUnique" and kw.keys() == {"column_list"}:
        # GE's default ignore_row_if: all_values_are_missing
        columns = typed.select(kw["column_list"])
        kept = _present(columns.column(0))
        for name in columns.column_names[1:]:
            kept = pc.or_(kept, _present(columns[name]))
        keys = _row_keys(columns)
        return pc.and_(kept, _repeated(pc.if_else(kept, keys, pa.scalar(-1, pa.int64()))))
    if (
        kind == "ExpectColumnPairValuesAToBeGreaterThanB"
        and kw.get("ignore_row_if") == "either_value_is_missing"
        and kw.keys() <= {"column_A", "column_B", "or_equal", "ignore_row_if"}
    ):
        a, b = typed[kw["column_A"]], typed[kw["column_B"]]
        compare = pc.greater_equal if kw.get("or_equal") else pc.greater
        both = pc.and_(_present(a), _present(b))
        return pc.and_(both, pc.invert(pc.fill_null(compare(a, b), false)))
    # A rule this evaluator does not know must not pass silently.
    raise NotImplementedError(
        f"{expectation.rule}: no Arrow evaluation of {kind} with {sorted(kw)}"
    )


def _failing_positions_arrow(rows: pa.Table, contract: Contract) -> list[tuple[int, Expect]]:
    if rows.num_rows == 0:
        return []
    typed = typed_table(rows, contract)
    failures: list[tuple[int, Expect]] = []
    for expectation in contract.expectations:
        broken = pc.fill_null(_broken_mask(typed, expectation), False)
        failures.extend(
            (position, expectation) for position in pc.indices_nonzero(broken).to_pylist()
        )
    return failures


def _failing_positions_ge(rows: pa.Table, source: str, entity: str) -> list[tuple[int, Expect]]:
    """(row position, broken expectation) for every failure, validated by GE."""
    contract = SUITES[source][entity]
    if rows.num_rows == 0:
        return []
    frame = typed_frame(rows, contract)
    context = _context()
    asset = context.data_sources.add_pandas(f"{source}_{entity}").add_dataframe_asset(entity)
    batch = asset.add_batch_definition_whole_dataframe("window").get_batch(
        batch_parameters={"dataframe": frame}
    )
    result = batch.validate(suite(source, entity), result_format={"result_format": "COMPLETE"})
    by_rule = {e.rule: e for e in contract.expectations}
    failures = []
    for outcome in result.results:
        expectation = by_rule[outcome.expectation_config.meta["rule"]]
        if outcome.success:
            continue
        if outcome.exception_info and outcome.exception_info.get("raised_exception"):
            raise RuntimeError(
                f"{source}.{entity}: expectation {expectation.rule} could not run: "
                f"{outcome.exception_info.get('exception_message')}"
            )
        for position in outcome.result.get("unexpected_index_list") or []:
            failures.append((int(position), expectation))
    return failures


QUARANTINE_COLUMNS = ("_row_id", "_batch_id", "_ingested_at", delta.PARTITION_COLUMN)


def window_rows(uri: str, start: date, end: date, settings: Settings) -> pa.Table:
    """The bronze rows of the window's partitions."""
    conn = connect(settings=settings)
    try:
        return conn.execute(
            f"select * from delta_scan(?) where {quote_name(delta.PARTITION_COLUMN)} "
            "between ? and ?",
            [uri, start, end],
        ).to_arrow_table()
    finally:
        conn.close()


def quarantine_rows(source: str, entity: str, bronze: pa.Table, schema: pa.Schema) -> pa.Table:
    """One quarantine row per (bronze row, broken expectation), in QUARANTINE's schema."""
    import json

    raw = [c for c in bronze.column_names if not c.startswith("_")]
    failures = failing_positions(bronze.select(raw), source, entity)
    failures.sort(key=lambda f: (f[0], f[1].rule))
    picked = bronze.take(pa.array([position for position, _ in failures], pa.int64()))
    records = picked.select(raw).to_pylist()
    out: dict[str, list[Any]] = {
        "source": [source] * len(failures),
        "entity": [entity] * len(failures),
        "rule": [expectation.rule for _, expectation in failures],
        "reason": [expectation.reason for _, expectation in failures],
        "record": [json.dumps(record, ensure_ascii=False) for record in records],
    }
    for column in QUARANTINE_COLUMNS:
        out[column] = picked[column].to_pylist()
    return pa.table({name: out[name] for name in schema.names}, schema=schema)
