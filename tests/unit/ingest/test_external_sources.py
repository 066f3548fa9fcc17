"""Each external source against a local server replaying the demo's recorded responses,
with faults injected: retries, a source that stays down, timeouts, malformed JSON, a CSV
in another encoding, renamed fields. Every served row ends in bronze (and, when it breaks
its contract, in quarantine too)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pyarrow.compute as pc
import pytest

from backend.demo import recorded
from backend.demo.erp import DemoConfig, generate_demo
from backend.ingest import suppliers as suppliers_module
from backend.ingest.anatel import AnatelEncodingError
from backend.ingest.bacen import SERIES
from backend.ingest.base import ExtractWindow, bronze_uri, get_source
from backend.ingest.http import SourceHTTPError
from backend.ingest.sql_readers import SchemaDriftError
from backend.lake import delta
from backend.pipeline import steps
from backend.pipeline.context import RunContext
from backend.quality.quarantine import quarantine_uri
from backend.settings import Settings
from tests.services.http_replay import Reply, Script, replay_server
from tests.services.recorded_apis import TOKEN, live_settings, recorded_script

START, END = date(2026, 10, 20), date(2026, 10, 22)
CATALOGUE = [(f"ITM-{k:05d}", f"SUP-{k % 3 + 1:03d}", 50.0 + k, 5 + k % 9) for k in range(1, 61)]
EXTERNAL = ("inmet", "bacen", "anatel", "suppliers")


@pytest.fixture(scope="module")
def erp_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('erp') / 'erp.sqlite'}"
    generate_demo(url, DemoConfig(items=12, depots=2, towers=8, years=1))
    return url


@pytest.fixture
def base(settings: Settings, erp_url: str) -> Settings:
    return settings.model_copy(update={"erp_url": erp_url})


@pytest.fixture
def served(base: Settings) -> Iterator[tuple[Script, Settings]]:
    script = recorded_script(CATALOGUE)
    with replay_server(script) as url:
        yield script, live_settings(base, url)


def _extract(name: str, settings: Settings, start: date = START, end: date = END):
    return get_source(name).extract(ExtractWindow(start, end, "batch-1", settings))


def _inmet_path(code: str, start: date = START, end: date = END) -> str:
    return f"/token/estacao/{start}/{end}/{code}/{TOKEN}"


def _bronze_rows(settings: Settings, source: str, entity: str) -> int:
    uri = bronze_uri(source, entity, settings)
    return delta.read_table(uri).num_rows if delta.table_exists(uri) else 0


# ---- each source parses what the API sends ----------------------------------------------


def test_inmet_reads_the_nearest_stations_of_each_depot(served):
    _, settings = served
    stations, observations = _extract("inmet", settings)

    assert stations.rows.num_rows == len(recorded.inmet_station_list())
    mapping = stations.details["depot_stations"]
    assert set(mapping) == {"DEP-SSA", "DEP-FSA"} and all(len(v) == 2 for v in mapping.values())
    assert mapping["DEP-SSA"][0] == "A401"  # Salvador's station is nearest its depot
    codes = sorted({c for chosen in mapping.values() for c in chosen})
    expected = sum(len(json.loads(recorded.inmet_observations(c, START, END))) for c in codes)
    assert observations.rows.num_rows == expected == len(codes) * 3 * 24
    assert set(observations.rows["CD_ESTACAO"].to_pylist()) == set(codes)
    assert observations.rows.schema.field("CHUVA").type == "string"  # as the API sends it
    assert pc.min_max(observations.partition).as_py() == {"min": START, "max": END}


@pytest.mark.reliability
def test_the_inmet_token_never_reaches_the_logs(served, caplog: pytest.LogCaptureFixture):
    script, settings = served
    # A request that fails for good too: its error and retries must not show the token.
    script.replies[_inmet_path("A401")] = [Reply(503, "down")]
    caplog.set_level(logging.DEBUG)

    with pytest.raises(SourceHTTPError) as failed:
        _extract("inmet", settings)

    assert any(r.startswith(f"/token/estacao/{START}") and TOKEN in r for r in script.requests)
    requests_logged = [r for r in caplog.records if r.name == "httpx"]
    assert any("/token/estacao/" in r.getMessage() for r in requests_logged)
    assert TOKEN not in caplog.text
    assert all(TOKEN not in r.getMessage() for r in caplog.records)
    assert TOKEN not in str(failed.value)


def test_bacen_reads_each_series_with_a_lookback_into_the_first_partition(served):
    script, settings = served
    (series,) = _extract("bacen", settings)

    expected = sum(
        len(recorded.sgs_series(code, START - timedelta(days=lookback), END))
        for code, (_, lookback) in SERIES.items()
    )
    assert series.rows.num_rows == expected
    assert set(series.rows["series_code"].to_pylist()) == {"433", "1", "432"}
    assert pc.min_max(series.partition).as_py() == {"min": START, "max": END}
    sgs = [p for p in script.requests if "bcdata.sgs.1/" in p]
    assert "dataInicial=10%2F10%2F2026" in sgs[0] and "formato=json" in sgs[0]


def test_bacen_splits_a_long_window_into_ten_year_requests(served):
    script, settings = served
    _extract("bacen", settings, date(2005, 1, 1), date(2026, 10, 22))
    usd = [p for p in script.requests if "bcdata.sgs.1/" in p]
    assert len(usd) == 3  # 21.8 years: 10 + 10 + 1.8


def test_anatel_first_load_keeps_every_station_licensed_by_the_window_end(served):
    _, settings = served
    (stations,) = _extract("anatel", settings)

    first_licensed = [row[22] for row in recorded.anatel_rows()]
    assert stations.rows.num_rows == sum(1 for d in first_licensed if d <= END.isoformat())
    assert stations.details["encoding"] == "latin-1" and stations.details["first_load"]

    # Later runs keep only the stations first licensed in their window.
    ctx = RunContext(START, END, settings, sources=("anatel",))
    steps.extract(ctx)
    day = date(2026, 10, 31)
    (later,) = _extract("anatel", settings, day, day)
    assert later.rows.num_rows == sum(1 for d in first_licensed if d == day.isoformat()) == 2
    assert not later.details["first_load"]
    names = set(stations.rows["NomeMunicipio"].to_pylist())
    assert "Vitória da Conquista" in names and "Camaçari" in names  # Latin-1 decoded


def test_suppliers_follow_the_cursor_to_the_last_page(served, monkeypatch):
    script, settings = served
    monkeypatch.setattr(suppliers_module, "PAGE_SIZE", 3)
    (quotes,) = _extract("suppliers", settings)

    expected = recorded.supplier_quotes(CATALOGUE, START, END)
    assert quotes.rows["quote_id"].to_pylist() == [q["quote_id"] for q in expected]
    pages = -(-len(expected) // 3)
    assert quotes.details["pages"] == pages and pages > 1
    assert sum("/v1/quotes" in p for p in script.requests) == pages
    assert "cursor=" not in script.requests[0] and "cursor=" in script.requests[-1]


# ---- faults -----------------------------------------------------------------------------


def test_a_500_then_success_is_retried_and_loads(served):
    script, settings = served
    path = "/dados/serie/bcdata.sgs.433/dados"
    good = recorded_script().fallback(  # type: ignore[misc]
        f"{path}?formato=json&dataInicial=22%2F06%2F2026&dataFinal=22%2F10%2F2026"
    )
    script.replies[path] = [Reply(500, "internal error"), good]

    (series,) = _extract("bacen", settings)

    assert sum(p.startswith(path) for p in script.requests) == 2
    assert "433" in series.rows["series_code"].to_pylist()


def test_a_source_down_for_good_fails_alone_and_the_run_is_degraded(served):
    script, settings = served
    script.replies["/anatel/BA.csv"] = [Reply(503, "maintenance")]
    ctx = RunContext(START, END, settings, sources=("erp", *EXTERNAL))

    results = steps.extract(ctx)

    assert ctx.report.status == "degraded"
    assert sorted(results) == ["bacen", "erp", "inmet", "suppliers"]
    (error,) = ctx.report.errors
    assert "source 'anatel' failed" in error
    assert "after 3 attempt(s), last status 503: maintenance" in error
    assert "/anatel/BA.csv" in error
    assert sum(p == "/anatel/BA.csv" for p in script.requests) == 3  # http_attempts
    for source, entity in (("inmet", "observations"), ("bacen", "series"), ("suppliers", "quotes")):
        assert _bronze_rows(settings, source, entity) > 0
    assert _bronze_rows(settings, "anatel", "stations") == 0  # created empty for dbt


def test_a_read_timeout_is_retried_and_a_lasting_one_fails_naming_the_url(served):
    script, settings = served
    settings = settings.model_copy(update={"http_read_timeout": 0.3})
    stations, _ = _extract("inmet", settings)
    code = stations.details["depot_stations"]["DEP-SSA"][0]
    path = _inmet_path(code)
    good = script.fallback(path)  # type: ignore[misc]
    script.replies[path] = [Reply(200, "[]", delay=1.0), good]

    _, observations = _extract("inmet", settings)
    assert observations.rows.filter(pc.equal(observations.rows["CD_ESTACAO"], code)).num_rows == 72

    script.replies[path] = [Reply(200, "[]", delay=1.0)]
    with pytest.raises(SourceHTTPError) as caught:
        _extract("inmet", settings)
    message = str(caught.value)
    assert "after 3 attempt(s), no response: ReadTimeout" in message
    assert f"/token/estacao/{START}/{END}/{code}/***" in message and TOKEN not in message


def test_malformed_json_fails_the_source_at_once(served):
    script, settings = served
    script.replies["/v1/quotes"] = [Reply(200, '{"data": [{"quote_id": "Q-1",')]
    with pytest.raises(SourceHTTPError) as caught:
        _extract("suppliers", settings)
    assert "suppliers: GET" in str(caught.value) and "/v1/quotes" in str(caught.value)
    assert "not JSON" in str(caught.value)
    assert sum("/v1/quotes" in p for p in script.requests) == 1  # bad content: no retry


def test_a_utf8_csv_reads_the_same_and_utf16_is_refused(served):
    script, settings = served
    (latin1,) = _extract("anatel", settings)
    script.replies["/anatel/BA.csv"] = [Reply(200, recorded.anatel_csv(encoding="utf-8"))]
    (utf8,) = _extract("anatel", settings)
    assert utf8.details["encoding"] == "utf-8"
    assert utf8.rows.equals(latin1.rows)

    script.replies["/anatel/BA.csv"] = [Reply(200, recorded.anatel_csv(encoding="utf-16"))]
    with pytest.raises(AnatelEncodingError, match=r"/anatel/BA.csv is not Latin-1 or UTF-8"):
        _extract("anatel", settings)


def test_a_renamed_field_stops_the_source_naming_it(served):
    script, settings = served
    stations, _ = _extract("inmet", settings)
    code = stations.details["depot_stations"]["DEP-FSA"][0]
    path = _inmet_path(code)
    body = script.fallback(path).body  # type: ignore[misc]
    assert isinstance(body, bytes)
    script.replies[path] = [Reply(200, body.replace(b'"CHUVA":', b'"PRECIPITACAO":'))]
    with pytest.raises(SchemaDriftError) as caught:
        _extract("inmet", settings)
    assert "inmet.observations: field(s) 'CHUVA' missing" in str(caught.value)
    assert "PRECIPITACAO" in str(caught.value)

    csv = recorded.anatel_csv().replace(b";Tecnologia;", b";Tecnologias;", 1)
    script.replies["/anatel/BA.csv"] = [Reply(200, csv)]
    with pytest.raises(SchemaDriftError, match=r"anatel.stations: field\(s\) 'Tecnologia' missing"):
        _extract("anatel", settings)


# ---- contracts, quarantine and re-runs ----------------------------------------------------


def _bad_bacen(script: Script) -> int:
    path = "/dados/serie/bcdata.sgs.1/dados"
    good = script.fallback(f"{path}?dataInicial=10%2F10%2F2026&dataFinal=22%2F10%2F2026")  # type: ignore[misc]
    rows = json.loads(good.body)
    rows[0]["valor"] = "n/d"  # not a number
    rows[1]["data"] = "2026-10-13"  # wrong date format
    script.replies[path] = [Reply(200, json.dumps(rows))]
    return len(rows)


def test_rows_that_break_a_contract_are_quarantined_with_rule_and_reason(served):
    script, settings = served
    _bad_bacen(script)
    quotes = recorded.supplier_quotes(CATALOGUE, START, END)
    quotes[0]["unit_price"] = -3.5
    quotes[1]["quote_id"] = quotes[2]["quote_id"]  # duplicate key
    script.replies["/v1/quotes"] = [Reply(200, json.dumps({"data": quotes, "next_cursor": None}))]
    ctx = RunContext(START, END, settings, sources=EXTERNAL)

    steps.extract(ctx)
    steps.validate(ctx)

    quarantine = delta.read_table(quarantine_uri(settings)).to_pylist()
    bacen = sorted((q["rule"], q["reason"]) for q in quarantine if q["source"] == "bacen")
    assert bacen == [
        ("parses_as_date:data", "data is not a date (dd/MM/yyyy)"),
        ("parses_as_number:valor", "valor is not a number"),
    ]
    supplier_rules = sorted(q["rule"] for q in quarantine if q["source"] == "suppliers")
    assert supplier_rules == [
        "expect_column_values_to_be_between:unit_price__num",
        "expect_column_values_to_be_unique:quote_id",
        "expect_column_values_to_be_unique:quote_id",
    ]
    bad_price = next(q for q in quarantine if q["rule"].endswith("unit_price__num"))
    assert json.loads(bad_price["record"])["unit_price"] == "-3.5"
    assert ctx.report.table("bronze.bacen.series").rows_quarantined == 2
    assert ctx.report.table("bronze.suppliers.quotes").rows_quarantined == 3
    # nothing lost: bronze holds every served row, the bad ones included
    assert _bronze_rows(settings, "suppliers", "quotes") == len(quotes)
    assert ctx.report.table("bronze.suppliers.quotes").rows_written == len(quotes)


def test_every_served_row_is_in_bronze_and_the_clean_ones_pass(served):
    _, settings = served
    ctx = RunContext(START, END, settings, sources=EXTERNAL)
    steps.extract(ctx)
    steps.validate(ctx)
    for name, stats in ctx.report.tables.items():
        assert stats.rows_read == stats.rows_written > 0, name
        assert stats.rows_quarantined == 0, name


@pytest.mark.parametrize("source", EXTERNAL)
def test_re_running_a_date_does_not_duplicate_bronze_rows(served, source):
    _, settings = served
    counts = []
    for _ in range(2):
        ctx = RunContext(END, END, settings, sources=(source,))
        steps.extract(ctx)
        counts.append({e: _bronze_rows(settings, source, e) for e in get_source(source).schemas})
    assert counts[0] == counts[1]
    assert sum(counts[0].values()) > 0


def test_recorded_mode_needs_no_server_and_serves_the_same_rows(base: Settings, served):
    _, live = served
    offline = base.model_copy(
        update={"sources_mode": "recorded", "inmet_base_url": "http://192.0.2.1"}
    )
    assert offline.effective_sources_mode == "recorded"
    (recorded_rows,) = _extract("bacen", offline)
    (live_rows,) = _extract("bacen", live)
    assert recorded_rows.rows.equals(live_rows.rows)


def test_sources_mode_defaults_to_recorded_only_for_the_embedded_demo(tmp_path: Path):
    assert (
        Settings(erp_url=f"sqlite:///{tmp_path / 'erp.sqlite'}").effective_sources_mode
        == "recorded"
    )
    assert Settings(erp_url="postgresql+psycopg://u@h/erp").effective_sources_mode == "live"
    pinned = Settings(erp_url="postgresql+psycopg://u@h/erp", sources_mode="recorded")
    assert pinned.effective_sources_mode == "recorded"
