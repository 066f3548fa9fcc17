"""Contracts of the external sources' bronze tables as Great Expectations 1.x suites.

Bronze holds the APIs' values as text. Each contract declares, per entity, which text
columns are numbers (and in which format) or dates; the validated frame carries each such
column twice: the raw text (checked for its format) and a typed copy ``<col>__num`` /
``<col>__date`` (checked for its range), so a value that does not parse fails the format
rule only. Every expectation is row-level, so GE returns the failing rows' indexes, and
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

from backend.lake import delta
from backend.lake.duck import connect
from backend.lake.sql import quote_name

if TYPE_CHECKING:
    import pandas as pd

DECIMAL = r"^-?\d+(?:\.\d+)?$"
BR_DECIMAL = r"^-?\d{1,3}(?:\.?\d{3})*(?:,\d+)?$"
INTEGER = r"^\d+$"
ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
BR_DATE = r"^\d{2}/\d{2}/\d{4}$"
ISO_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$"


@dataclass(frozen=True)
class Expect:
    """One row-level expectation: a GE expectation class and its arguments."""

    kind: str  # class name in great_expectations.expectations
    reason: str
    kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def rule(self) -> str:
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


def _numeric(column: str, regex: str = DECIMAL) -> Expect:
    return matches(column, regex, "a number")


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
                matches("DT_MEDICAO", ISO_DATE, "a date (YYYY-MM-DD)"),
                one_of("HR_MEDICAO", _HOURS),
                unique("CD_ESTACAO", "DT_MEDICAO", "HR_MEDICAO"),
                *(_numeric(c) for c in _WEATHER_RANGES),
                *(between(f"{c}__num", lo, hi, u) for c, (lo, hi, u) in _WEATHER_RANGES.items()),
                not_after("TEM_MIN__num", "TEM_MAX__num"),
            ),
            numbers=dict.fromkeys(_WEATHER_RANGES, "decimal"),
        ),
    },
    "bacen": {
        "series": Contract(
            (
                not_null("series_code"),
                not_null("data"),
                not_null("valor"),
                one_of("series_code", ("433", "1", "432")),
                matches("data", BR_DATE, "a date (dd/MM/yyyy)"),
                _numeric("valor"),
                between("valor__num", -10, 1000),
                unique("series_code", "data"),
            ),
            numbers={"valor": "decimal"},
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
                matches("FreqTxMHz", BR_DECIMAL, "a number (Brazilian format)"),
                between("FreqTxMHz__num", 0, 100_000, " MHz"),
                matches("Latitude", BR_DECIMAL, "a number (Brazilian format)"),
                matches("Longitude", BR_DECIMAL, "a number (Brazilian format)"),
                between("Latitude__num", -34, 6, " deg"),
                between("Longitude__num", -74, -28, " deg"),
                matches("DataLicenciamento", ISO_DATE, "a date (YYYY-MM-DD)"),
                matches("DataPrimeiroLicenciamento", ISO_DATE, "a date (YYYY-MM-DD)"),
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
                matches("valid_until", ISO_DATE, "a date (YYYY-MM-DD)"),
            ),
            numbers={"unit_price": "decimal", "lead_time_days": "decimal"},
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


def typed_frame(rows: pa.Table, contract: Contract) -> pd.DataFrame:
    """The raw text columns plus the typed copies the range rules read."""
    import pandas as pd

    frame = rows.to_pandas()
    for column, style in contract.numbers.items():
        text = frame[column]
        if style == "br":
            text = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
        frame[f"{column}__num"] = pd.to_numeric(text, errors="coerce")
    for column, style in contract.dates.items():
        fmt = "%Y-%m-%d" if style == "iso" else "%d/%m/%Y"
        frame[f"{column}__date"] = pd.to_datetime(frame[column], format=fmt, errors="coerce")
    return frame.reset_index(drop=True)


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


def window_rows(uri: str, start: date, end: date) -> pa.Table:
    """The bronze rows of the window's partitions, in a stable order."""
    conn = connect()
    try:
        return conn.execute(
            f"select * from delta_scan(?) where {quote_name(delta.PARTITION_COLUMN)} "
            f"between ? and ? order by {quote_name(delta.PARTITION_COLUMN)}, _row_id",
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
