"""Anatel: licensed mobile stations (4G LTE, 5G NR) per municipality, from open data.

Anatel publishes the licensed stations as a CSV: ``;``-separated, Latin-1, Brazilian
numbers (``-12,971800``), one row per station and transmit frequency, with the IBGE code
of the municipality (``CodMunicipio``), the technology and the licensing dates. The file
is a full snapshot of the current licences, so a row is dated by its station's first
licence (``DataPrimeiroLicenciamento``; a renewal moves ``DataLicenciamento`` but the
station was on air before): a run keeps the rows first licensed inside its window, the
first load (no earlier bronze partition) every row first licensed up to the window's end.
dbt counts stations per municipality, technology and month.

Encoding: the file is declared Latin-1, but a UTF-8 file (valid UTF-8 with accents) is
read as UTF-8 rather than turned into mojibake; anything else (UTF-16, binary) stops the
source with an error naming the URL.
"""

from __future__ import annotations

import codecs
import csv
import io
from datetime import date

import pyarrow as pa
from deltalake import DeltaTable

from backend.ingest.base import EntityExtract, ExtractWindow, Source, bronze_uri, register
from backend.ingest.external import (
    clamp_partition,
    client_for,
    parse_date,
    require_fields,
    string_schema,
)
from backend.lake import delta
from backend.settings import Settings

FIELDS = (
    "NumEstacao", "NomeEntidade", "SiglaUf", "CodMunicipio", "NomeMunicipio", "Tecnologia",
    "tipoTecnologia", "FreqTxMHz", "Latitude", "Longitude", "DataLicenciamento",
    "DataPrimeiroLicenciamento",
)  # fmt: skip


class AnatelEncodingError(RuntimeError):
    pass


def decode_csv(body: bytes, url: str) -> tuple[str, str]:
    """(text, encoding used) of the CSV body."""
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in body[:4096]:
        raise AnatelEncodingError(
            f"anatel: the CSV at {url} is not Latin-1 or UTF-8 text (NUL bytes: UTF-16?)"
        )
    if body.startswith(codecs.BOM_UTF8):
        return body[len(codecs.BOM_UTF8) :].decode("utf-8"), "utf-8"
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("latin-1"), "latin-1"
    return text, "utf-8" if not text.isascii() else "ascii"


def parse_csv(text: str, url: str) -> pa.Table:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    header = next(reader, None)
    if header is None:
        return string_schema(FIELDS).empty_table()
    header = [name.strip() for name in header]
    require_fields("anatel", "stations", url, header, FIELDS)
    index = [header.index(name) for name in FIELDS]
    columns: list[list[str | None]] = [[] for _ in FIELDS]
    for row in reader:
        if not row:
            continue
        for column, k in zip(columns, index, strict=True):
            value = row[k].strip() if k < len(row) else None
            column.append(value or None)
    return pa.table(dict(zip(FIELDS, columns, strict=True)), schema=string_schema(FIELDS))


def loaded_before(uri: str, day: date, settings: Settings) -> bool:
    """Whether the bronze table has a partition earlier than ``day``."""
    if not delta.table_exists(uri, settings):
        return False
    partitions = DeltaTable(uri, storage_options=delta.storage_options(settings)).partitions()
    return any(date.fromisoformat(p[delta.PARTITION_COLUMN]) < day for p in partitions)


SCHEMAS = {"stations": string_schema(FIELDS)}


class AnatelSource(Source):
    name = "anatel"
    schemas = SCHEMAS

    def extract(self, window: ExtractWindow) -> list[EntityExtract]:
        settings = window.settings
        with client_for(self.name, settings, "") as client:
            response = client.get(settings.anatel_csv_url)
        url = str(response.url)
        text, encoding = decode_csv(response.content, url)
        rows = parse_csv(text, url)
        first_load = not loaded_before(
            bronze_uri(self.name, "stations", settings), window.start, settings
        )
        days = [parse_date(d) for d in rows["DataPrimeiroLicenciamento"].to_pylist()]
        keep = [d is None or (d <= window.end and (first_load or d >= window.start)) for d in days]
        kept = rows.filter(pa.array(keep))
        return [
            EntityExtract(
                "stations",
                kept,
                clamp_partition([d for d, k in zip(days, keep, strict=True) if k], window),
                {
                    "encoding": encoding,
                    "rows_in_file": rows.num_rows,
                    "first_load": first_load,
                },
            )
        ]


@register("anatel")
def _make_anatel() -> Source:
    return AnatelSource()
