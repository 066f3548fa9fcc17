"""INMET: hourly observations of the automatic weather stations nearest each depot.

The API (apitempo.inmet.gov.br) lists stations at ``/estacoes/T`` and serves a station's
hourly records at ``/token/estacao/{start}/{end}/{code}/{token}``: one object per hour
keyed by ``CD_ESTACAO``, ``DT_MEDICAO`` (YYYY-MM-DD) and ``HR_MEDICAO`` (HHMM, UTC), every
value a string, a missing measurement null. Each depot (positions read from the ERP) is
served by its ``inmet_stations_per_depot`` nearest operating Bahia stations; requests span
at most ``MAX_DAYS`` days and run in parallel under the client's concurrency cap.
Bronze keeps the hourly records and the station list; dbt aggregates them to days.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import numpy as np
import pyarrow as pa

from backend.demo.bahia import haversine_km
from backend.ingest.base import EntityExtract, ExtractWindow, Source, register
from backend.ingest.external import (
    clamp_partition,
    client_for,
    erp_rows,
    json_body,
    parse_date,
    records_to_table,
    string_schema,
)
from backend.ingest.http import SourceClient, SourceHTTPError

STATION_FIELDS = (
    "CD_ESTACAO", "DC_NOME", "SG_ESTADO", "CD_SITUACAO", "TP_ESTACAO",
    "VL_LATITUDE", "VL_LONGITUDE", "VL_ALTITUDE",
)  # fmt: skip
OBSERVATION_FIELDS = (
    "CD_ESTACAO", "DT_MEDICAO", "HR_MEDICAO", "CHUVA", "TEM_INS", "TEM_MAX", "TEM_MIN",
    "UMD_INS", "UMD_MAX", "UMD_MIN", "VEN_VEL", "VEN_RAJ",
)  # fmt: skip
MAX_DAYS = 90
STATE = "BA"


class InmetError(RuntimeError):
    pass


def chunks(start: date, end: date, days: int) -> list[tuple[date, date]]:
    """[start, end] cut into consecutive spans of at most ``days`` days."""
    spans, first = [], start
    while first <= end:
        last = min(end, first + timedelta(days=days - 1))
        spans.append((first, last))
        first = last + timedelta(days=1)
    return spans


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def nearest_stations(
    depots: list[tuple[str, float, float]], stations: pa.Table, per_depot: int
) -> dict[str, list[str]]:
    """Per depot, the codes of its ``per_depot`` nearest operating stations of the state."""
    names = ("CD_ESTACAO", "SG_ESTADO", "CD_SITUACAO", "VL_LATITUDE", "VL_LONGITUDE")
    columns = [stations[name].to_pylist() for name in names]
    rows = [
        (code, _number(lat), _number(lon))
        for code, state, status, lat, lon in zip(*columns, strict=True)
        if state == STATE and status == "Operante"
    ]
    # A station without a readable position cannot be placed (the contract flags it).
    rows = [row for row in rows if row[1] is not None and row[2] is not None]
    if not rows:
        raise InmetError(f"inmet: the station list has no operating station in {STATE}")
    codes = np.array([r[0] for r in rows])
    lat = np.array([r[1] for r in rows])
    lon = np.array([r[2] for r in rows])
    mapping = {}
    for depot_id, depot_lat, depot_lon in depots:
        distance = haversine_km(depot_lat, depot_lon, lat, lon)
        mapping[depot_id] = [str(c) for c in codes[np.argsort(distance, kind="stable")[:per_depot]]]
    return mapping


SCHEMAS = {
    "stations": string_schema(STATION_FIELDS),
    "observations": string_schema(OBSERVATION_FIELDS),
}


class InmetSource(Source):
    name = "inmet"
    schemas = SCHEMAS

    def extract(self, window: ExtractWindow) -> list[EntityExtract]:
        settings = window.settings
        if settings.effective_sources_mode == "live":
            if settings.inmet_token is None:
                raise InmetError("inmet: NOVA_INMET_TOKEN is not set (needed in live mode)")
            token = settings.inmet_token.get_secret_value()
            secrets: tuple[str, ...] = (token,)
        else:
            token, secrets = "recorded", ()
        # The token is a path segment of every observations URL.
        with client_for(self.name, settings, settings.inmet_base_url, secrets=secrets) as client:
            stations = self._stations(client)
            depots = [
                (str(d), float(lat), float(lon))
                for d, lat, lon in erp_rows(settings, "depots", ["depot_id", "lat", "lon"])
                if lat is not None and lon is not None
            ]
            mapping = nearest_stations(depots, stations, settings.inmet_stations_per_depot)
            codes = sorted({code for chosen in mapping.values() for code in chosen})
            spans = chunks(window.start, window.end, MAX_DAYS)
            requests = [(code, a, b) for code in codes for a, b in spans]
            workers = max(1, min(settings.http_max_concurrency, len(requests)))
            with ThreadPoolExecutor(max_workers=workers) as pool:
                parts = list(pool.map(lambda r: self._observations(client, token, *r), requests))
        observations = (
            pa.concat_tables(parts) if parts else self.schemas["observations"].empty_table()
        )
        days = [parse_date(d) for d in observations["DT_MEDICAO"].to_pylist()]
        return [
            EntityExtract(
                "stations",
                stations,
                pa.repeat(pa.scalar(window.end, pa.date32()), stations.num_rows),
                {"depot_stations": mapping},
            ),
            EntityExtract(
                "observations",
                observations,
                clamp_partition(days, window),
                {"requests": len(requests), "stations": codes},
            ),
        ]

    def _stations(self, client: SourceClient) -> pa.Table:
        response = client.get("/estacoes/T")
        records = json_body(self.name, response)
        return records_to_table(self.name, "stations", str(response.url), records, STATION_FIELDS)

    def _observations(
        self, client: SourceClient, token: str, code: str, start: date, end: date
    ) -> pa.Table:
        path = f"/token/estacao/{start.isoformat()}/{end.isoformat()}/{code}/{token}"
        try:
            response = client.get(path)
            records = json_body(self.name, response)
        except SourceHTTPError as exc:
            # The token is part of the path: keep it out of errors, logs and reports.
            url = exc.url.replace(token, "***")
            raise SourceHTTPError(exc.source, url, exc.status, exc.attempts, exc.reason) from None
        url = str(response.url).replace(token, "***")
        return records_to_table(self.name, "observations", url, records, OBSERVATION_FIELDS)


@register("inmet")
def _make_inmet() -> Source:
    return InmetSource()
