"""Recorded responses of the external APIs for the demo: INMET, BACEN, Anatel, suppliers.

The demo runs with no network, so these responses stand in for the real services. They
have the real APIs' shapes (paths, field names, value formats, encodings) and are
generated deterministically from a seed rather than committed as files (three years of
hourly weather for a dozen stations is about 100 MB of JSON): the same request always
gets the same bytes. They agree with the demo ERP: weather stations stand near the depot
hubs of `bahia.py`, Anatel's stations are in the municipalities where the demo's towers
stand, and the supplier API quotes the ERP's own catalogue.

`RecordedTransport` answers httpx requests with them, so in recorded mode every source
runs its live parsing code; the tests serve the same bodies from a local HTTP server.

The station codes, names and positions are demo data in INMET's format, not INMET's
register; the economic series are random walks around realistic levels.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from backend.demo import bahia

DEFAULT_SEED = 42

# ---------------------------------------------------------------------------------------
# INMET: automatic stations (station list) and hourly observations (token endpoint)
# ---------------------------------------------------------------------------------------

# (code, name, municipality near which it stands, altitude m)
_BA_STATIONS: tuple[tuple[str, str, str, float], ...] = (
    ("A401", "SALVADOR", "Salvador", 51.4),
    ("A406", "CRUZ DAS ALMAS", "Cruz das Almas", 225.9),
    ("A413", "FEIRA DE SANTANA", "Feira de Santana", 231.0),
    ("A442", "ALAGOINHAS", "Alagoinhas", 134.0),
    ("A414", "VITORIA DA CONQUISTA", "Vitória da Conquista", 879.5),
    ("A446", "ITAPETINGA", "Itapetinga", 268.0),
    ("A410", "ILHEUS", "Ilhéus", 118.0),
    ("A455", "UNA", "Una", 92.0),
    ("A436", "JUAZEIRO", "Juazeiro", 370.0),
    ("A428", "SENHOR DO BONFIM", "Senhor do Bonfim", 558.0),
    ("A402", "BARREIRAS", "Barreiras", 474.0),
    ("A404", "LUIS EDUARDO MAGALHAES", "Luís Eduardo Magalhães", 763.0),
    ("A405", "CARAVELAS", "Caravelas", 2.9),
    ("A443", "PORTO SEGURO", "Porto Seguro", 85.0),
    ("A408", "JEQUIE", "Jequié", 204.0),
    ("A440", "ITIRUCU", "Jaguaquara", 756.0),
    ("A412", "PAULO AFONSO", "Paulo Afonso", 253.0),
    ("A425", "IRECE", "Irecê", 747.0),
    ("A426", "GUANAMBI", "Guanambi", 545.0),
    ("A424", "BOM JESUS DA LAPA", "Bom Jesus da Lapa", 439.0),
)
# Stations the list also returns that the extractor must leave out (other state, down).
_OTHER_STATIONS = (
    {"CD_ESTACAO": "A001", "DC_NOME": "BRASILIA", "SG_ESTADO": "DF", "CD_SITUACAO": "Operante",
     "VL_LATITUDE": "-15.78944444", "VL_LONGITUDE": "-47.92583332", "VL_ALTITUDE": "1160.96"},
    {"CD_ESTACAO": "A437", "DC_NOME": "LENCOIS", "SG_ESTADO": "BA", "CD_SITUACAO": "Pane",
     "VL_LATITUDE": "-12.55805555", "VL_LONGITUDE": "-41.38972221", "VL_ALTITUDE": "438.0"},
)  # fmt: skip

INMET_HOURLY_FIELDS = (
    "DC_NOME", "PRE_INS", "TEM_SEN", "VL_LATITUDE", "PRE_MAX", "UF", "RAD_GLO", "PTO_INS",
    "TEM_MIN", "VL_LONGITUDE", "UMD_MIN", "PTO_MAX", "VEN_DIR", "DT_MEDICAO", "CHUVA",
    "PRE_MIN", "UMD_MAX", "VEN_VEL", "PTO_MIN", "TEM_MAX", "VEN_RAJ", "TEM_INS", "UMD_INS",
    "CD_ESTACAO", "HR_MEDICAO",
)  # fmt: skip


@dataclass(frozen=True)
class Station:
    code: str
    name: str
    lat: float
    lon: float
    altitude: float


def inmet_stations() -> list[Station]:
    """The demo's automatic stations in Bahia, a few km off their municipality's seat."""
    stations = []
    for k, (code, name, muni, altitude) in enumerate(_BA_STATIONS):
        seat = bahia.municipality(muni)
        stations.append(
            Station(code, name, round(seat.lat + 0.03 * math.sin(k), 8),
                    round(seat.lon + 0.03 * math.cos(k), 8), altitude)
        )  # fmt: skip
    return stations


def inmet_station_list() -> list[dict[str, str | None]]:
    """`GET /estacoes/T`: every automatic station (all states, every status)."""
    rows: list[dict[str, str | None]] = [
        {
            "CD_ESTACAO": s.code,
            "DC_NOME": s.name,
            "SG_ESTADO": "BA",
            "CD_SITUACAO": "Operante",
            "TP_ESTACAO": "Automatica",
            "VL_LATITUDE": f"{s.lat:.8f}",
            "VL_LONGITUDE": f"{s.lon:.8f}",
            "VL_ALTITUDE": f"{s.altitude:.2f}",
            "DT_INICIO_OPERACAO": "2007-05-18T21:00:00.000-03:00",
            "CD_OSCAR": f"0-2000-0-{86600 + k}",
            "CD_WSI": f"0-76-0-2927408{k:07d}",
            "SG_ENTIDADE": "INMET",
            "CD_DISTRITO": " 04",
            "FL_CAPITAL": "S" if s.code == "A401" else "N",
            "DT_FIM_OPERACAO": None,
        }
        for k, s in enumerate(inmet_stations())
    ]
    for other in _OTHER_STATIONS:
        rows.append({**{key: None for key in rows[0]}, **other, "TP_ESTACAO": "Automatica"})
    return rows


def _station_climate(station: Station) -> tuple[float, float, np.ndarray]:
    """(base temperature, humidity base, monthly rain-day probability) by region: the
    coast rains April-July, the semi-arid north and west in November-March."""
    coast = station.lon > -40.0
    temp = 25.5 - (station.altitude / 1000) * 6.0 + (0.0 if coast else 1.0)
    humid = 80.0 if coast else 62.0
    if coast:
        rain = np.array([0.30, 0.30, 0.38, 0.55, 0.60, 0.58, 0.55, 0.40, 0.30, 0.28, 0.30, 0.30])
    else:
        rain = np.array([0.35, 0.33, 0.35, 0.20, 0.08, 0.04, 0.03, 0.03, 0.06, 0.15, 0.30, 0.35])
    return temp, humid, rain


@lru_cache(maxsize=64)
def _station_year(code: str, year: int, seed: int) -> pa.Table:
    """One station's hourly records of one year, as strings (the API's value format)."""
    station = next(s for s in inmet_stations() if s.code == code)
    index = [s.code for s in inmet_stations()].index(code)
    rng = np.random.default_rng([seed, 7, index, year])
    first = np.datetime64(f"{year}-01-01", "D")
    days = first + np.arange((np.datetime64(f"{year + 1}-01-01", "D") - first).astype(int))
    n_days = days.size
    month = (days.astype("datetime64[M]").astype(int) % 12).astype(int)
    temp0, humid0, rain_p = _station_climate(station)
    doy = np.arange(n_days)
    season = -1.6 * np.cos(2 * np.pi * (doy - 30) / 365)  # warmest in February-March
    day_temp = temp0 + season + rng.normal(0, 0.9, n_days)
    wet = rng.random(n_days) < rain_p[month]
    day_rain = np.where(wet, rng.gamma(0.8, 9.0, n_days), 0.0)

    hours = np.arange(24)
    # Local time is UTC-3: the minimum near 09 UTC (06 local), the maximum near 18 UTC.
    cycle = np.cos(2 * np.pi * (hours - 18) / 24)
    temp = day_temp[:, None] + 4.0 * cycle[None, :] + rng.normal(0, 0.35, (n_days, 24))
    temp = temp - np.where(wet, 1.5, 0.0)[:, None]
    humid = np.clip(
        humid0 - 14.0 * cycle[None, :] + np.where(wet, 10.0, 0.0)[:, None]
        + rng.normal(0, 3.0, (n_days, 24)), 15, 100,
    )  # fmt: skip
    share = rng.dirichlet(np.full(24, 0.3), n_days)  # rain falls in a few hours
    rain = np.round(day_rain[:, None] * share, 1)
    wind = np.clip(2.2 + 1.3 * np.sin(2 * np.pi * (hours - 15) / 24)[None, :]
                   + rng.normal(0, 0.7, (n_days, 24)), 0.1, None)  # fmt: skip
    gust = wind + np.abs(rng.normal(2.5, 1.0, (n_days, 24)))
    pressure = 1012.0 - station.altitude * 0.11 + rng.normal(0, 1.2, (n_days, 24))
    dew = temp - (100 - humid) / 5
    rad = np.clip(3200 * np.sin(np.pi * (hours - 9) / 12), 0, None)[None, :] * rng.uniform(
        0.4, 1.0, (n_days, 1)
    )
    n = n_days * 24

    def col(values: np.ndarray, digits: int = 1) -> pa.Array:
        return pc.round(pa.array(values.reshape(n)), digits).cast(pa.string())

    # Missing measurements, as INMET sends them (null): a failing sensor for an hour, and
    # rarely a station down for a whole day.
    missing = rng.random((n_days, 24)) < 0.01
    missing |= (rng.random(n_days) < 0.004)[:, None]
    mask = pa.array(missing.reshape(n))
    null = pa.nulls(n, pa.string())
    day_text = np.repeat(np.datetime_as_string(days), 24)
    hour_text = np.tile(np.array([f"{h:02d}00" for h in hours]), n_days)
    fixed = {
        "DC_NOME": station.name,
        "UF": "BA",
        "VL_LATITUDE": f"{station.lat:.8f}",
        "VL_LONGITUDE": f"{station.lon:.8f}",
        "CD_ESTACAO": station.code,
    }
    values = {
        "PRE_INS": col(pressure),
        "TEM_SEN": col(temp + 1.0),
        "PRE_MAX": col(pressure + 0.4),
        "RAD_GLO": col(rad),
        "PTO_INS": col(dew),
        "TEM_MIN": col(temp - 0.6),
        "UMD_MIN": col(np.floor(humid - 3), 0),
        "PTO_MAX": col(dew + 0.5),
        "VEN_DIR": col(rng.integers(0, 360, (n_days, 24)).astype(float), 0),
        "CHUVA": col(rain),
        "PRE_MIN": col(pressure - 0.4),
        "UMD_MAX": col(np.ceil(np.minimum(humid + 3, 100)), 0),
        "VEN_VEL": col(wind),
        "PTO_MIN": col(dew - 0.5),
        "TEM_MAX": col(temp + 0.6),
        "VEN_RAJ": col(gust),
        "TEM_INS": col(temp),
        "UMD_INS": col(np.round(humid), 0),
    }
    columns: dict[str, pa.Array] = {}
    for field in INMET_HOURLY_FIELDS:
        if field in fixed:
            columns[field] = pa.repeat(pa.scalar(fixed[field]), n)
        elif field == "DT_MEDICAO":
            columns[field] = pa.array(day_text)
        elif field == "HR_MEDICAO":
            columns[field] = pa.array(hour_text)
        else:
            columns[field] = pc.if_else(mask, null, values[field])
    # Integers print without the ".0" a float would get, as the API's values do.
    for field in ("UMD_MIN", "UMD_MAX", "VEN_DIR", "UMD_INS"):
        columns[field] = pc.replace_substring_regex(columns[field], r"\.0$", "")
    return pa.table(columns)


def _json_array(table: pa.Table) -> bytes:
    """Serialise string columns as a JSON array of objects, vectorised in Arrow."""
    if table.num_rows == 0:
        return b"[]"
    parts: list[pa.Array | str] = []
    for k, name in enumerate(table.column_names):
        values = table.column(name).combine_chunks()
        quoted = pc.binary_join_element_wise('"', values, '"', "")
        parts.append(("{" if k == 0 else ",") + f'"{name}":')
        parts.append(pc.if_else(pc.is_null(values), "null", quoted))
    parts.append("}")
    records = pc.binary_join_element_wise(*parts, "")
    return b"[" + ",".join(records.to_pylist()).encode() + b"]"


def inmet_observations(code: str, start: date, end: date, seed: int = DEFAULT_SEED) -> bytes:
    """`GET /token/estacao/{start}/{end}/{code}/{token}`: hourly records, values as text."""
    years = [_station_year(code, y, seed) for y in range(start.year, end.year + 1)]
    table = pa.concat_tables(years)
    days = pc.cast(pc.strptime(table["DT_MEDICAO"], "%Y-%m-%d", "s"), pa.date32())
    keep = pc.and_(
        pc.greater_equal(days, pa.scalar(start, pa.date32())),
        pc.less_equal(days, pa.scalar(end, pa.date32())),
    )
    return _json_array(table.filter(keep))


# ---------------------------------------------------------------------------------------
# BACEN SGS
# ---------------------------------------------------------------------------------------

SGS_SERIES = {433: "ipca_monthly_pct", 1: "usd_brl", 432: "selic_target_pct"}
_SGS_FIRST = date(2010, 1, 1)
_SGS_LAST = date(2035, 12, 31)


@lru_cache(maxsize=8)
def _sgs_values(code: int, seed: int) -> dict[date, str]:
    rng = np.random.default_rng([seed, 11, code])
    n = (_SGS_LAST - _SGS_FIRST).days + 1
    days = [_SGS_FIRST + timedelta(days=k) for k in range(n)]
    if code == 1:  # USD/BRL: business days, a random walk in log space around 5
        walk = np.exp(np.log(4.9) + np.cumsum(rng.normal(0, 0.008, n)) * 0.6)
        return {d: f"{v:.4f}" for d, v in zip(days, walk, strict=True) if d.weekday() < 5}
    if code == 432:  # SELIC target: every calendar day, moved in 0.25-0.50 steps
        level, values = 10.75, {}
        for d in days:
            if d.day == 1 and d.month % 2 == 0 and rng.random() < 0.6:
                level = float(np.clip(level + rng.choice([-0.5, -0.25, 0.25, 0.5]), 2.0, 15.0))
            values[d] = f"{level:.2f}"
        return values
    # IPCA: monthly change in %, dated the first day of the month
    values = {}
    for d in days:
        if d.day == 1:
            values[d] = f"{0.38 + 0.25 * math.sin(d.month / 2) + rng.normal(0, 0.18):.2f}"
    return values


def sgs_series(code: int, start: date, end: date, seed: int = DEFAULT_SEED) -> list[dict[str, str]]:
    """`GET /dados/serie/bcdata.sgs.{code}/dados?formato=json&dataInicial=..&dataFinal=..`."""
    values = _sgs_values(code, seed)
    return [
        {"data": f"{d:%d/%m/%Y}", "valor": v}
        for d, v in sorted(values.items())
        if start <= d <= end
    ]


# ---------------------------------------------------------------------------------------
# Anatel: licensed stations (semicolon CSV, Latin-1, Brazilian number format)
# ---------------------------------------------------------------------------------------

ANATEL_COLUMNS = (
    "Status.state", "NomeEntidade", "NumFistel", "NumServico", "NumAto", "NumEstacao",
    "EnderecoEstacao", "EndComplemento", "SiglaUf", "CodMunicipio", "NomeMunicipio",
    "DesignacaoEmissao", "Tecnologia", "tipoTecnologia", "FreqTxMHz", "FreqRxMHz", "Azimute",
    "AlturaAntena", "PotenciaTransmissorWatts", "Latitude", "Longitude",
    "DataLicenciamento", "DataPrimeiroLicenciamento", "DataValidade",
)  # fmt: skip
_OPERATORS = ("TELEFONICA BRASIL S.A.", "CLARO S.A.", "TIM S A")
_BANDS = {"LTE": [("1842,500", "1747,500"), ("2660,000", "2540,000"), ("773,000", "718,000")],
          "NR": [("3500,000", "3500,000"), ("2300,000", "2300,000")]}  # fmt: skip


def _br_number(value: float, digits: int) -> str:
    return f"{value:.{digits}f}".replace(".", ",")


@lru_cache(maxsize=4)
def anatel_rows(seed: int = DEFAULT_SEED) -> tuple[tuple[str, ...], ...]:
    """Every licensed 4G (LTE) and 5G (NR) emission in the demo's municipalities."""
    rng = np.random.default_rng([seed, 13])
    rows: list[tuple[str, ...]] = []
    station_no = 600_000_000
    for muni in bahia.MUNICIPALITIES:
        n_4g = max(2, round(muni.population / 9_000 * rng.uniform(0.7, 1.3)))
        size = min(1.0, math.log10(muni.population / 15_000) / 2.3)
        n_5g = round(n_4g * (0.05 + 0.45 * size) * rng.uniform(0.6, 1.2))
        for tech, count in (("LTE", n_4g), ("NR", n_5g)):
            for _ in range(count):
                station_no += int(rng.integers(1, 40))
                if tech == "LTE":  # mostly older than the history, some new ones
                    first = date(2014, 1, 1) + timedelta(days=int(rng.integers(0, 4600)))
                else:  # 5G: licensed from mid-2022, capitals and big cities first
                    spread = 1650 * float(rng.random()) ** (0.5 + 1.2 * size)
                    first = date(2022, 7, 1) + timedelta(days=int(spread))
                renewed = first + timedelta(days=int(rng.integers(0, 900)))
                licensed = renewed if rng.random() < 0.3 else first
                operator = _OPERATORS[int(rng.integers(0, len(_OPERATORS)))]
                lat = muni.lat + float(rng.normal(0, 0.03))
                lon = muni.lon + float(rng.normal(0, 0.03))
                bands = _BANDS[tech]
                for tx, rx in bands[: int(rng.integers(1, len(bands) + 1))]:
                    rows.append(
                        (
                            "LIC-LIC-01", operator, f"{50409146000 + station_no % 997:011d}",
                            "010", f"{int(rng.integers(1000, 9999))}", str(station_no),
                            f"RUA {int(rng.integers(1, 400))} DE {muni.name.upper()}", "",
                            "BA", str(muni.ibge_code), muni.name,
                            "5M00G7W" if tech == "LTE" else "100MG7W", tech,
                            "LTE" if tech == "LTE" else "NR", tx, rx,
                            str(int(rng.integers(0, 360))),
                            _br_number(float(rng.uniform(20, 60)), 2),
                            _br_number(float(rng.uniform(20, 80)), 3),
                            _br_number(lat, 6), _br_number(lon, 6),
                            licensed.isoformat(), first.isoformat(),
                            (licensed + timedelta(days=365 * 10)).isoformat(),
                        )
                    )  # fmt: skip
    return tuple(rows)


def anatel_csv(seed: int = DEFAULT_SEED, encoding: str = "latin-1") -> bytes:
    """The licensed-stations CSV as Anatel publishes it: `;`-separated, Latin-1."""
    lines = [";".join(ANATEL_COLUMNS)]
    lines += [";".join(row) for row in anatel_rows(seed)]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


# ---------------------------------------------------------------------------------------
# Supplier API: lead-time and price quotes, cursor pagination
# ---------------------------------------------------------------------------------------

CatalogueRow = tuple[str, str | None, float | None, int | None]  # item, supplier, cost, lead


def _uniform(*keys: np.ndarray | int) -> np.ndarray:
    """Deterministic uniforms in [0, 1) from integer keys (splitmix64), vectorised: a
    quote's numbers depend only on its item, day and seed, never on the requested window."""
    with np.errstate(over="ignore"):
        x: Any = np.uint64(0x9E3779B97F4A7C15)
        for key in keys:
            x = (x ^ np.asarray(key, dtype=np.uint64)) * np.uint64(0xBF58476D1CE4E5B9)
            x ^= x >> np.uint64(31)
            x = x * np.uint64(0x94D049BB133111EB)
            x ^= x >> np.uint64(29)
    return np.asarray((x >> np.uint64(11)).astype(np.float64) / float(2**53))


def supplier_quotes(
    catalogue: Sequence[CatalogueRow], start: date, end: date, seed: int = DEFAULT_SEED
) -> list[dict[str, object]]:
    """Each supplier re-quotes each of its items twice a month, on business days."""
    rows = [row for row in catalogue if row[1] is not None]
    if not rows or end < start:
        return []
    digits = np.array([int(re.sub(r"\D", "", row[0]) or 0) for row in rows], dtype=np.int64)
    cost = np.array([row[2] or 10.0 for row in rows], dtype=np.float64)
    lead = np.array([row[3] or 10 for row in rows], dtype=np.float64)
    quotes: list[dict[str, object]] = []
    for offset in range((end - start).days + 1):
        day = start + timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        ordinal = day.toordinal()
        phase = (ordinal + digits * 7) % 30
        picked = np.flatnonzero((phase == 0) | (phase == 15))
        u1, u2, u3 = (_uniform(seed, digits[picked], ordinal, j) for j in (1, 2, 3))
        months = (day - date(2023, 1, 1)).days / 30.4
        prices = np.round(cost[picked] * (1 + 0.004 * months) * (0.93 + 0.15 * u1), 2)
        leads = np.maximum(1, np.round(lead[picked] * (0.8 + 0.5 * u2))).astype(int)
        moq = np.array([1, 1, 2, 5, 10])[(u3 * 5).astype(int)]
        valid_until = (day + timedelta(days=30)).isoformat()
        for j, k in enumerate(picked.tolist()):
            item_id, supplier_id, number = rows[k][0], rows[k][1], int(digits[k])
            quotes.append(
                {
                    "quote_id": f"Q-{item_id}-{day:%Y%m%d}",
                    "supplier_id": supplier_id,
                    "item_id": item_id,
                    "unit_price": float(prices[j]),
                    "currency": "BRL",
                    "lead_time_days": int(leads[j]),
                    "min_order_qty": int(moq[j]),
                    "valid_until": valid_until,
                    "quoted_at": f"{day.isoformat()}T{9 + number % 8:02d}:{number % 60:02d}:00Z",
                }
            )
    return quotes


def page(quotes: list[dict[str, object]], cursor: str | None, limit: int) -> dict[str, object]:
    """One page of the quotes and the opaque cursor of the next (None on the last)."""
    offset = int(base64.urlsafe_b64decode(cursor.encode()).decode()) if cursor else 0
    chunk = quotes[offset : offset + limit]
    more = offset + limit < len(quotes)
    next_cursor = base64.urlsafe_b64encode(str(offset + limit).encode()).decode() if more else None
    return {"data": chunk, "next_cursor": next_cursor}


# ---------------------------------------------------------------------------------------
# Routing requests to the recordings
# ---------------------------------------------------------------------------------------

_INMET_OBS = re.compile(r"/token/estacao/(\d{4}-\d{2}-\d{2})/(\d{4}-\d{2}-\d{2})/(\w+)/[^/]+$")
_SGS = re.compile(r"/dados/serie/bcdata\.sgs\.(\d+)/dados$")


def _br_date(text: str) -> date:
    day, month, year = (int(part) for part in text.split("/"))
    return date(year, month, day)


class RecordedAPIs:
    """Answers a request path (and query) of any of the four APIs, like the real ones."""

    def __init__(
        self,
        seed: int = DEFAULT_SEED,
        catalogue: Callable[[], Sequence[CatalogueRow]] | None = None,
    ) -> None:
        self.seed = seed
        self._catalogue = catalogue
        self._quotes: dict[tuple[date, date], list[dict[str, object]]] = {}

    def respond(self, path: str, query: str = "") -> tuple[int, dict[str, str], bytes]:
        params = {k: v[0] for k, v in parse_qs(query).items()}
        json_type = {"Content-Type": "application/json"}
        if path.rstrip("/").endswith("/estacoes/T"):
            return 200, json_type, json.dumps(inmet_station_list()).encode()
        if match := _INMET_OBS.search(path):
            start, end = date.fromisoformat(match[1]), date.fromisoformat(match[2])
            return 200, json_type, inmet_observations(match[3], start, end, self.seed)
        if match := _SGS.search(path):
            start, end = _br_date(params["dataInicial"]), _br_date(params["dataFinal"])
            series = sgs_series(int(match[1]), start, end, self.seed)
            return 200, json_type, json.dumps(series).encode()
        if path.endswith(".csv"):
            return 200, {"Content-Type": "text/csv; charset=ISO-8859-1"}, anatel_csv(self.seed)
        if path.rstrip("/").endswith("/v1/quotes"):
            if self._catalogue is None:
                return 500, json_type, b'{"error": "no catalogue for the recorded supplier API"}'
            window = (
                date.fromisoformat(params["updated_from"]),
                date.fromisoformat(params["updated_to"]),
            )
            if window not in self._quotes:
                self._quotes[window] = supplier_quotes(self._catalogue(), *window, seed=self.seed)
            body = page(self._quotes[window], params.get("cursor"), int(params.get("limit", 500)))
            return 200, json_type, json.dumps(body).encode()
        return 404, json_type, json.dumps({"error": f"no recording for {path}"}).encode()


class RecordedTransport(httpx.BaseTransport):
    """An httpx transport that answers from the recordings; nothing leaves the process."""

    def __init__(self, apis: RecordedAPIs) -> None:
        self.apis = apis

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        status, headers, body = self.apis.respond(request.url.path, request.url.query.decode())
        return httpx.Response(status, headers=headers, content=body, request=request)
