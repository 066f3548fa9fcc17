"""What the external sources (INMET, BACEN, Anatel, suppliers) share.

Bronze keeps their records as the APIs send them: every field a string (the APIs' own
value text), so a value that does not parse is not lost at extraction but kept, and the
contract quarantines it with a reason. A required field missing from a response is
schema drift: the source stops and names the field instead of loading nulls.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from backend.ingest.base import ExtractWindow
from backend.ingest.http import SourceClient
from backend.ingest.retry import RetryPolicy
from backend.ingest.sql_readers import SchemaDriftError, postgres_timeouts
from backend.lake.sql import quote_name
from backend.settings import Settings


def string_schema(fields: Sequence[str]) -> pa.Schema:
    return pa.schema([(name, pa.string()) for name in fields])


def client_for(
    source: str,
    settings: Settings,
    base_url: str,
    headers: Mapping[str, str] | None = None,
    secrets: tuple[str, ...] = (),
) -> SourceClient:
    """The shared retrying client for a source; recorded mode answers from the demo's
    recordings through an httpx transport, so parsing is the same code as live."""
    transport = None
    if settings.effective_sources_mode == "recorded":
        from backend.demo.recorded import RecordedAPIs, RecordedTransport

        transport = RecordedTransport(RecordedAPIs(catalogue=lambda: erp_catalogue(settings)))
    return SourceClient(
        source=source,
        base_url=base_url,
        connect_timeout=settings.http_connect_timeout,
        read_timeout=settings.http_read_timeout,
        max_concurrency=settings.http_max_concurrency,
        retry=RetryPolicy(attempts=settings.http_attempts, base_delay=settings.http_backoff_base),
        headers=dict(headers or {}),
        transport=transport,
        secrets=secrets,
    )


def require_fields(
    source: str, entity: str, url: str, present: Iterable[str], required: Sequence[str]
) -> None:
    """Stop the source when the response lacks a field the contract declares."""
    have = set(present)
    missing = [name for name in required if name not in have]
    if missing:
        raise SchemaDriftError(
            f"{source}.{entity}: field(s) {', '.join(repr(m) for m in missing)} missing "
            f"from the response of {url} (schema drift); fields present: {sorted(have)}"
        )


def records_to_table(
    source: str, entity: str, url: str, records: Any, fields: Sequence[str]
) -> pa.Table:
    """JSON records (a list of objects) to a table of the declared fields, values as text.

    Every record must carry every field (null is fine, absent is drift); fields the
    contract does not declare are left out.
    """
    if not isinstance(records, list) or any(not isinstance(r, dict) for r in records):
        raise SchemaDriftError(
            f"{source}.{entity}: expected a JSON array of objects from {url}, "
            f"got {type(records).__name__}"
        )
    columns: dict[str, pa.Array] = {}
    for name in fields:
        try:
            values = [r[name] for r in records]
        except KeyError:
            bad = next(r for r in records if name not in r)
            require_fields(source, entity, url, bad.keys(), fields)
            raise  # require_fields raised already: a missing field is always drift
        try:  # the usual case, every value text or null: no Python call per value
            columns[name] = pa.array(values, pa.string())
        except (pa.ArrowTypeError, pa.ArrowInvalid):
            columns[name] = pa.array([_text(v) for v in values], pa.string())
    return pa.table(columns, schema=string_schema(fields))


def _text(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def clamp_partition(days: Sequence[date | None], window: ExtractWindow) -> pa.Array:
    """Bronze partition of each row: its own date, clamped into the window (a lookback
    row lands on the window's first day); a row without a readable date on its last."""
    out = []
    for day in days:
        if day is None:
            out.append(window.end)
        else:
            out.append(min(max(day, window.start), window.end))
    return pa.array(out, pa.date32())


def parse_date(text: str | None, fmt: str = "iso") -> date | None:
    """A date from the API's text ('YYYY-MM-DD...' or 'dd/MM/yyyy'); None if unreadable."""
    if not text:
        return None
    try:
        if fmt == "br":
            day, month, year = (int(p) for p in text.split("/"))
            return date(year, month, day)
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def erp_rows(settings: Settings, table: str, columns: Sequence[str]) -> list[tuple[Any, ...]]:
    """Reference rows straight from the ERP (depot positions, the item catalogue): a few
    thousand rows, read with SQLAlchemy. Names come from our code, never input."""
    engine = sa.create_engine(
        settings.erp_url,
        connect_args=postgres_timeouts(
            settings.erp_url, settings.erp_connect_timeout, settings.erp_statement_timeout
        ),
    )
    try:
        with engine.connect() as conn:
            sql = f"select {', '.join(quote_name(c) for c in columns)} from {quote_name(table)}"
            return [tuple(row) for row in conn.execute(sa.text(sql))]
    finally:
        engine.dispose()


def erp_catalogue(settings: Settings) -> list[tuple[str, str | None, float | None, int | None]]:
    rows = erp_rows(settings, "items", ["item_id", "supplier_id", "unit_cost", "lead_time_days"])
    return sorted({row[0]: row for row in rows}.values())


def json_body(source: str, response: Any) -> Any:
    """The response's JSON; an empty body (HTTP 204, or no data) is an empty list. Text
    that is not JSON fails the source, naming the URL."""
    from backend.ingest.http import SourceHTTPError

    if response.status_code == 204 or not response.content.strip():
        return []
    try:
        return response.json()
    except ValueError as exc:
        raise SourceHTTPError(
            source, str(response.url), response.status_code, 1, f"not JSON: {exc}"
        ) from exc
