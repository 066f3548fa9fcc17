"""Read-only queries over gold Delta tables for services (the API, the stream processor).

Every query reads the published Delta tables through DuckDB's ``delta_scan``; it never
opens the dbt DuckDB file, which has one writer at a time. Table locations and every
value are bound parameters (``$name``): no caller text is ever formatted into SQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from backend.lake import delta
from backend.lake.duck import connect
from backend.settings import Settings

VERSION_FILE = "_version.json"


@dataclass(frozen=True)
class Page:
    rows: list[dict[str, Any]]
    count: int


class GoldReader:
    """Runs parameterised SQL over gold tables. Blocking: call it from a worker thread."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def uri(self, table: str) -> str:
        return delta.table_uri("gold", table, settings=self.settings)

    def exists(self, table: str) -> bool:
        return delta.table_exists(self.uri(table), self.settings)

    def _params(self, tables: Iterable[str], params: Mapping[str, Any]) -> dict[str, Any]:
        bound = {f"t_{name}": self.uri(name) for name in tables}
        bound.update(params)
        return bound

    def rows(
        self, sql: str, *, tables: Sequence[str], params: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Rows of ``sql`` as dicts; ``$t_<table>`` in the SQL is the table's Delta URI.

        A missing table gives no rows (the forecast marts may not be published yet).
        """
        if not all(self.exists(name) for name in tables):
            return []
        conn = connect(settings=self.settings)
        try:
            result = conn.execute(sql, self._params(tables, params or {}))
            columns = [d[0] for d in result.description or []]
            return [dict(zip(columns, row, strict=True)) for row in result.fetchall()]
        finally:
            conn.close()

    def page(
        self,
        select: str,
        *,
        tables: Sequence[str],
        params: Mapping[str, Any],
        order_by: str,
        limit: int,
        offset: int,
    ) -> Page:
        """One page of ``select`` (ordered by ``order_by``, fixed text) and the total count."""
        if not all(self.exists(name) for name in tables):
            return Page([], 0)
        bound = {**params, "limit": limit, "offset": offset}
        # One scan gives the page and the total; past the last page, count separately.
        rows = self.rows(
            f"select *, count(*) over () as _total from ({select}) "
            f"order by {order_by} limit $limit offset $offset",
            tables=tables,
            params=bound,
        )
        if rows:
            total = int(rows[0]["_total"])
            for row in rows:
                del row["_total"]
            return Page(rows, total)
        counted = self.rows(f"select count(*) as n from ({select})", tables=tables, params=params)
        return Page([], int(counted[0]["n"]) if counted else 0)


class Where:
    """A conjunction of fixed SQL clauses whose values are bound as named parameters."""

    def __init__(self) -> None:
        self.clauses: list[str] = []
        self.params: dict[str, Any] = {}

    def add(self, clause: str, **values: Any) -> Where:
        """Add ``clause`` (our text, with ``$name`` markers) when every value is given."""
        if all(v is not None for v in values.values()):
            self.clauses.append(clause)
            self.params.update(values)
        return self

    @property
    def sql(self) -> str:
        return " and ".join(self.clauses) if self.clauses else "true"


# --- gold version -------------------------------------------------------------------


def version_uri(settings: Settings) -> str:
    return delta.table_uri("gold", VERSION_FILE, settings=settings)


def read_gold_version(settings: Settings) -> dict[str, Any] | None:
    """The version the last publish step wrote, or None before the first publish."""
    try:
        payload = delta.read_json(version_uri(settings), settings)
    except (FileNotFoundError, ValueError):  # ValueError: not JSON
        return None
    return payload if isinstance(payload, dict) else None


def write_gold_version(
    settings: Settings, version: str, detail: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Publish a new gold version: readers that key caches on it turn them over.

    Written whole (a temp file and a rename locally, one PUT on S3), so a reader never
    sees half a document.
    """
    payload = {"version": version, "published_at": datetime.now(UTC).isoformat(), **(detail or {})}
    delta.write_json(version_uri(settings), payload, settings, indent=None)
    return payload
