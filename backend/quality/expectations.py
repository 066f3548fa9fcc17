"""Contracts of the external sources' bronze tables as Great Expectations 1.x suites.

Bronze holds the APIs' values as text. Each contract declares, per entity, which text
columns are numbers (and in which format) or dates; the validated frame carries each such
column with typed copies: ``<col>__num`` / ``<col>__date`` (checked for its range) and
``<col>__ok`` (the text is null or parses), so a value that does not parse fails the
parse rule only. Every expectation is row-level, so GE returns the failing rows' indexes, and
each failing (row, expectation) becomes a quarantine row with the rule and a reason.

Why GE here and DuckDB predicates for the ERP (backend/quality/contracts.py): the ERP's
bronze holds millions of rows a backfill, which one DuckDB scan checks in about a second;
the external sources hold thousands a day, for which GE's pandas engine is fast enough,
and GE suites are what the issue and the analysts ask for. Importing GE takes about 5-7 s,
so the pipeline imports it in the background while the sources extract.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

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


def typed_frame(rows: pa.Table, contract: Contract) -> pd.DataFrame:
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
    # GE filters the whole frame once per expectation: keep only the columns rules read.
    used = {
        name
        for e in contract.expectations
        for key in ("column", "column_A", "column_B")
        if (name := e.kwargs.get(key))
    } | {name for e in contract.expectations for name in e.kwargs.get("column_list", [])}
    return pa.table({n: c for n, c in columns.items() if n in used}).to_pandas()


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


def failing_positions(rows: pa.Table, source: str, entity: str) -> list[tuple[int, Expect]]:
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
