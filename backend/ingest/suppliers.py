"""Supplier API: lead-time and price quotes per item, with cursor pagination.

``GET /v1/quotes?updated_from=YYYY-MM-DD&updated_to=YYYY-MM-DD&limit=N[&cursor=C]``
returns ``{"data": [quote, ...], "next_cursor": "..." | null}``; the extractor follows
the cursor until it is null. A quote lands in the partition of its ``quoted_at`` day.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from backend.ingest.base import EntityExtract, ExtractWindow, Source, register
from backend.ingest.external import (
    clamp_partition,
    client_for,
    json_body,
    parse_date,
    records_to_table,
    require_fields,
    string_schema,
)
from backend.ingest.sql_readers import SchemaDriftError

FIELDS = (
    "quote_id", "supplier_id", "item_id", "unit_price", "currency", "lead_time_days",
    "min_order_qty", "valid_until", "quoted_at",
)  # fmt: skip
PAGE_SIZE = 1000
MAX_PAGES = 100_000  # a cursor that never ends is a server bug, not more data


SCHEMAS = {"quotes": string_schema(FIELDS)}


class SuppliersSource(Source):
    name = "suppliers"
    schemas = SCHEMAS

    def extract(self, window: ExtractWindow) -> list[EntityExtract]:
        settings = window.settings
        headers = {}
        if settings.suppliers_api_key is not None:
            headers["Authorization"] = f"Bearer {settings.suppliers_api_key.get_secret_value()}"
        parts, cursor, pages = [], None, 0
        secrets = (
            (settings.suppliers_api_key.get_secret_value(),) if settings.suppliers_api_key else ()
        )
        with client_for(
            self.name, settings, settings.suppliers_base_url, headers, secrets=secrets
        ) as client:
            while True:
                params: dict[str, Any] = {
                    "updated_from": window.start.isoformat(),
                    "updated_to": window.end.isoformat(),
                    "limit": PAGE_SIZE,
                }
                if cursor:
                    params["cursor"] = cursor
                response = client.get("/v1/quotes", params=params)
                url = str(response.url)
                body = json_body(self.name, response)
                if not isinstance(body, dict):
                    raise SchemaDriftError(f"suppliers.quotes: expected an object from {url}")
                require_fields(self.name, "quotes", url, body.keys(), ("data", "next_cursor"))
                parts.append(records_to_table(self.name, "quotes", url, body["data"], FIELDS))
                pages += 1
                cursor = body["next_cursor"]
                if not cursor:
                    break
                if pages >= MAX_PAGES:
                    raise RuntimeError(f"suppliers: more than {MAX_PAGES} pages from {url}")
        rows = pa.concat_tables(parts)
        days = [parse_date(d) for d in rows["quoted_at"].to_pylist()]
        return [EntityExtract("quotes", rows, clamp_partition(days, window), {"pages": pages})]


@register("suppliers")
def _make_suppliers() -> Source:
    return SuppliersSource()
