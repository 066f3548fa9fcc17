"""BACEN: economic time series from the central bank's SGS API.

``GET /dados/serie/bcdata.sgs.{code}/dados?formato=json&dataInicial=dd/MM/yyyy&dataFinal=..``
returns ``[{"data": "dd/MM/yyyy", "valor": "..."}]``. Daily series answer at most ten
years per request, so a window is cut into spans of ``MAX_DAYS``. Each request looks
back before the window (a month's IPCA is published weeks after the month), so the
latest values are there to forward-fill; those rows land in the window's first
partition and staging keeps one row per (series, date).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pyarrow as pa

from backend.ingest.base import EntityExtract, ExtractWindow, Source, register
from backend.ingest.external import (
    clamp_partition,
    client_for,
    json_body,
    parse_date,
    records_to_table,
    string_schema,
)
from backend.ingest.http import SourceClient
from backend.ingest.inmet import chunks

# SGS code -> (name, days looked back before the window)
SERIES: dict[int, tuple[str, int]] = {
    433: ("ipca_monthly_pct", 120),  # IPCA, monthly % change, dated the month's first day
    1: ("usd_brl", 10),  # US dollar selling rate, business days
    432: ("selic_target_pct", 10),  # SELIC target set by Copom, % a year, every day
}
FIELDS = ("data", "valor")
MAX_DAYS = 3650  # ten years: SGS's limit for a daily series in one request


SCHEMAS = {"series": string_schema(("series_code", *FIELDS))}


class BacenSource(Source):
    name = "bacen"
    schemas = SCHEMAS

    def extract(self, window: ExtractWindow) -> list[EntityExtract]:
        settings = window.settings
        requests = [
            (code, first, last)
            for code, (_, lookback) in SERIES.items()
            for first, last in chunks(window.start - timedelta(days=lookback), window.end, MAX_DAYS)
        ]
        with client_for(self.name, settings, settings.bacen_base_url) as client:
            workers = max(1, min(settings.http_max_concurrency, len(requests)))
            with ThreadPoolExecutor(max_workers=workers) as pool:
                parts = list(pool.map(lambda r: self._series(client, *r), requests))
        rows = pa.concat_tables(parts)
        days = [parse_date(d, "br") for d in rows["data"].to_pylist()]
        return [
            EntityExtract(
                "series", rows, clamp_partition(days, window), {"requests": len(requests)}
            )
        ]

    def _series(self, client: SourceClient, code: int, first: date, last: date) -> pa.Table:
        params = {
            "formato": "json",
            "dataInicial": f"{first:%d/%m/%Y}",
            "dataFinal": f"{last:%d/%m/%Y}",
        }
        response = client.get(f"/dados/serie/bcdata.sgs.{code}/dados", params=params)
        records = json_body(self.name, response)
        table = records_to_table(self.name, "series", str(response.url), records, FIELDS)
        return table.add_column(0, "series_code", pa.repeat(pa.scalar(str(code)), table.num_rows))


@register("bacen")
def _make_bacen() -> Source:
    return BacenSource()
