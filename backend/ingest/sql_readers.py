"""Reading a window of rows from a SQL database as Arrow, by ``updated_at``.

PostgreSQL and SQLite go through ADBC drivers, which return Arrow columns straight from
the database (3 million rows in about 4 s; SQLAlchemy's row-by-row results took 18 s).
Any other SQLAlchemy URL falls back to a generic, slower reader. Both bind the window's
bounds as parameters; table and column names come from our own contracts, never input.

A window also takes every row whose ``updated_at`` is NULL: such a row has no place in the
high-water mark, and leaving it out would lose it without a trace; the contract
quarantines it. A value that does not fit its declared type (text in an integer column,
invalid UTF-8) does not fail the read: ``conform`` loads it as NULL and names it, with the
raw value, in ``_type_errors``, which the contract quarantines.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from backend.lake.sql import quote_name

# How SQLAlchemy stores DateTime in SQLite (text), so bounds compare as the stored values.
SQLITE_DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
# The column that names, per row, the values that did not fit their type (null: none).
TYPE_ERRORS = "_type_errors"
# Suffix of the SQLite read's companion column holding a value of the wrong storage class.
RAW_SUFFIX = "__raw"
# Rows cast at once before looking for the bad value one by one.
_SLICE = 4096


class SchemaDriftError(RuntimeError):
    """The source no longer has a column the contract declares."""


class WindowReader(Protocol):
    def read(
        self, table: str, schema: pa.Schema, lower: datetime | None, upper: datetime
    ) -> pa.Table: ...


def window_sql(
    table: str, columns: list[str], *, has_lower: bool, placeholder: str
) -> tuple[str, list[str]]:
    """SELECT of the window with placeholders; returns (sql, order of bound values).

    ``columns`` are select expressions (quoted names, or the SQLite reader's guards)."""
    where = ["updated_at < {upper}"]
    order = ["upper"]
    if has_lower:
        where.append("updated_at > {lower}")
        order.append("lower")
    marks = {name: placeholder.format(n=i + 1) for i, name in enumerate(order)}
    window = " and ".join(w.format(**marks) for w in where)
    sql = (
        f"select {', '.join(columns)} from {quote_name(table)} "
        f"where ({window}) or updated_at is null"
    )
    return sql, order


def sqlite_columns(schema: pa.Schema) -> list[str]:
    """Select expressions that keep each column's Arrow type stable in SQLite.

    SQLite stores any value in any column, and the ADBC driver fixes a column's type from
    its first rows: one text value in an INTEGER column fails the whole read. So a number
    column reads only values of a number storage class, and a companion ``<col>__raw``
    (never null, so its type is always binary) carries any other value's bytes. Text,
    dates and timestamps read as bytes: invalid UTF-8 fails only its own value later."""
    out = []
    for field in schema:
        name = quote_name(field.name)
        if pa.types.is_integer(field.type):
            classes = "('integer')"
        elif pa.types.is_floating(field.type):
            classes = "('integer', 'real')"
        else:
            out.append(f"cast({name} as blob) as {name}")
            continue
        value = "cast({n} as real)" if pa.types.is_floating(field.type) else "{n}"
        out.append(
            f"case when typeof({name}) in {classes} then {value.format(n=name)} end as {name}"
        )
        raw = quote_name(field.name + RAW_SUFFIX)
        out.append(
            f"case when {name} is null or typeof({name}) in {classes} then x'' "
            f"else cast({name} as blob) end as {raw}"
        )
    return out


class AdbcReader:
    def __init__(self, dialect: str, cursor: Any) -> None:
        self.dialect = dialect
        self.cursor = cursor

    def read(
        self, table: str, schema: pa.Schema, lower: datetime | None, upper: datetime
    ) -> pa.Table:
        if self.dialect == "sqlite":
            # SQLite reads a double-quoted name it does not know as a string literal, so
            # a dropped column must be left out here for ``conform`` to report it.
            self.cursor.execute("select name from pragma_table_info(?)", [table])
            present = {row[0] for row in self.cursor.fetchall()}
            # (No columns at all: no such table; the query below says so.)
            kept = pa.schema([f for f in schema if f.name in present]) if present else schema
            placeholder, columns = "?", sqlite_columns(kept)
        else:
            placeholder, columns = "${n}", [quote_name(c) for c in schema.names]
        sql, order = window_sql(
            table, columns, has_lower=lower is not None, placeholder=placeholder
        )
        values = {"upper": upper, "lower": lower}
        if self.dialect == "sqlite":
            params = [values[n].strftime(SQLITE_DATETIME_FORMAT) for n in order]  # type: ignore[union-attr]
        else:
            params = [values[n] for n in order]
        self.cursor.execute(sql, params)
        result: pa.Table = self.cursor.fetch_arrow_table()
        return result


def _loose_array(values: list[Any]) -> pa.Array:
    """Arrow from a driver's Python values; mixed types (text in a number column) become
    the values' bytes, which ``conform`` then casts one by one."""
    try:
        return pa.array(values)
    except (pa.ArrowException, TypeError, ValueError):
        return pa.array(
            [v if v is None or isinstance(v, bytes) else str(v).encode("utf-8") for v in values],
            pa.binary(),
        )


class SqlAlchemyReader:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def read(
        self, table: str, schema: pa.Schema, lower: datetime | None, upper: datetime
    ) -> pa.Table:
        # Untyped columns: values arrive as the driver gives them; Arrow converts in bulk.
        columns = schema.names
        source = sa.table(table, *(sa.column(name) for name in columns))
        updated_at: sa.ColumnClause[Any] = sa.column("updated_at")
        window = updated_at < sa.bindparam("upper", upper, type_=sa.DateTime)
        if lower is not None:
            window = sa.and_(window, updated_at > sa.bindparam("lower", lower, type_=sa.DateTime))
        query = sa.select(*source.columns).where(sa.or_(window, updated_at.is_(None)))
        rows = self.conn.execute(query).all()
        if not rows:
            return pa.table({name: pa.array([], pa.null()) for name in columns})
        arrays = [_loose_array(list(values)) for values in zip(*rows, strict=True)]
        return pa.table(dict(zip(columns, arrays, strict=True)))


def postgres_timeouts(
    url: str, connect_timeout: int | None, statement_timeout: float | None
) -> dict[str, Any]:
    """SQLAlchemy ``connect_args`` that bound a PostgreSQL connect and each statement
    (psycopg and psycopg2 pass them to libpq); none for another database."""
    if sa.make_url(url).get_backend_name() != "postgresql":
        return {}
    args: dict[str, Any] = {}
    if connect_timeout is not None:
        args["connect_timeout"] = connect_timeout
    if statement_timeout:
        args["options"] = f"-c statement_timeout={round(statement_timeout * 1000)}"
    return args


@contextmanager
def open_reader(
    url: str,
    *,
    generic: bool = False,
    connect_timeout: int | None = None,
    statement_timeout: float | None = None,
) -> Iterator[WindowReader]:
    """A reader for the database at ``url``; ``generic`` forces the SQLAlchemy path.

    On PostgreSQL, ``connect_timeout`` (seconds, libpq's, at least 2) bounds the connect
    and ``statement_timeout`` (seconds) every read: a lock or a stalled server fails the
    extract, which the caller may retry, instead of hanging the run."""
    parsed = sa.make_url(url)
    backend = parsed.get_backend_name()
    timeout_ms = str(round(statement_timeout * 1000)) if statement_timeout else None
    if not generic and backend == "sqlite":
        import adbc_driver_sqlite.dbapi as adbc_sqlite

        with adbc_sqlite.connect(parsed.database or ":memory:") as lite, lite.cursor() as cursor:
            yield AdbcReader("sqlite", cursor)
        return
    if not generic and backend == "postgresql":
        import adbc_driver_postgresql.dbapi as adbc_pg

        if connect_timeout is not None:
            parsed = parsed.update_query_dict({"connect_timeout": str(connect_timeout)})
        libpq_url = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        with adbc_pg.connect(libpq_url) as pg, pg.cursor() as cursor:
            if timeout_ms is not None:
                cursor.execute("select set_config('statement_timeout', $1, false)", [timeout_ms])
                cursor.fetchall()
            yield AdbcReader("postgresql", cursor)
        return
    engine = sa.create_engine(
        url, connect_args=postgres_timeouts(url, connect_timeout, statement_timeout)
    )
    try:
        with engine.connect() as conn:
            yield SqlAlchemyReader(conn)
    finally:
        engine.dispose()


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _decode_utf8(column: pa.Array, name: str, errors: dict[int, list[str]]) -> pa.Array:
    """Bytes to text; a value that is not UTF-8 becomes null, named in ``errors``."""
    try:
        return column.cast(pa.string())
    except pa.ArrowInvalid:
        pass
    texts: list[str | None] = []
    for position, value in enumerate(column.to_pylist()):
        if value is None:
            texts.append(None)
            continue
        try:
            texts.append(value.decode("utf-8"))
        except UnicodeDecodeError:
            texts.append(None)
            errors.setdefault(position, []).append(f"{name}: invalid UTF-8 {_shown(value)}")
    return pa.array(texts, pa.string())


def _cast_values(column: pa.Array, field: pa.Field, errors: dict[int, list[str]]) -> pa.Array:
    """Cast to the field's type; a value that does not fit becomes null, named in
    ``errors``. The whole column is cast at once when it can be (the usual case)."""
    try:
        return column.cast(field.type)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    parts = []
    for offset in range(0, len(column), _SLICE):
        part = column.slice(offset, _SLICE)
        try:
            parts.append(part.cast(field.type))
            continue
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
        values = []
        for index in range(len(part)):
            try:
                values.append(part.slice(index, 1).cast(field.type)[0].as_py())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                values.append(None)
                shown = _shown(part[index].as_py())
                errors.setdefault(offset + index, []).append(
                    f"{field.name}: {shown} is not a valid {field.type}"
                )
        parts.append(pa.array(values, field.type))
    return pa.concat_arrays(parts) if parts else pa.array([], field.type)


def conform(table: pa.Table, schema: pa.Schema, *, source: str, entity: str) -> pa.Table:
    """Cast a read to the declared contract, plus ``_type_errors``.

    A missing column stops with its name (schema drift: every row would be wrong). A
    value that does not fit (text in an integer column, invalid UTF-8) is one row's
    fault: it loads as NULL and ``_type_errors`` names the column and the raw value."""
    missing = [name for name in schema.names if name not in table.column_names]
    if missing:
        raise SchemaDriftError(
            f"{source}.{entity}: the source has no column(s) {missing} that the contract declares"
        )
    errors: dict[int, list[str]] = {}
    arrays = []
    for field in schema:
        column = table[field.name].combine_chunks()
        # SQLite has no column types: ADBC reports an all-null column (an open order's
        # received_date in a window of open orders) as int64, which cannot cast to a date.
        if pa.types.is_null(column.type) or column.null_count == len(column):
            arrays.append(pa.nulls(len(column), field.type))
        else:
            if pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type):
                column = _decode_utf8(column, field.name, errors)
            # Arrow parses ISO text ("2024-01-31 08:15:00.250000") to timestamps and dates.
            arrays.append(_cast_values(column, field, errors))
        raw_name = field.name + RAW_SUFFIX
        if raw_name in table.column_names:
            raw = table[raw_name].combine_chunks()
            wrong = pc.indices_nonzero(pc.greater(pc.binary_length(raw), 0))
            for position in wrong.to_pylist():
                value = raw[position].as_py().decode("utf-8", "backslashreplace")
                errors.setdefault(position, []).append(
                    f"{field.name}: {_shown(value)} is not a valid {field.type}"
                )
    described = pa.nulls(table.num_rows, pa.string())
    if errors:
        # Only the few rows with errors get text: no Python pass over every row (1.3 s
        # for three years of movements, where one bad value is enough to trigger it).
        positions = sorted(errors)
        mask = np.zeros(table.num_rows, dtype=bool)
        mask[positions] = True
        texts = pa.array(["; ".join(errors[i]) for i in positions], pa.string())
        described = pc.replace_with_mask(described, pa.array(mask), texts)
    return pa.table(
        [*arrays, described],
        schema=pa.schema([*schema, pa.field(TYPE_ERRORS, pa.string())]),
    )
