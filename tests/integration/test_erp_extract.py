"""The ERP extractor against real databases: a throwaway PostgreSQL server and SQLite."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa
from deltalake import DeltaTable

from backend.demo.erp import DemoConfig, generate_demo
from backend.ingest.base import bronze_uri
from backend.lake.gold import content_hash
from backend.pipeline import steps
from backend.pipeline.context import RunContext
from backend.settings import Settings

pytestmark = pytest.mark.integration

END = date(2026, 10, 31)
CONFIG = DemoConfig(items=30, depots=2, towers=20, years=1, end_date=END, seed=7)
ENTITIES = ("suppliers", "depots", "items", "towers", "stock_movements", "inventory_snapshots")


@pytest.fixture(params=["sqlite", "postgresql"])
def erp_settings(request, settings: Settings) -> Settings:
    if request.param == "postgresql":
        settings = settings.model_copy(update={"erp_url": request.getfixturevalue("pg_url")})
    generate_demo(settings.erp_url, CONFIG)
    return settings


def _erp_count(settings: Settings, entity: str, before: datetime) -> int:
    engine = sa.create_engine(settings.erp_url)
    table = sa.table(entity, sa.column("updated_at"))
    query = (
        sa.select(sa.func.count())
        .select_from(table)
        .where(table.c.updated_at < sa.bindparam("before", before, type_=sa.DateTime))
    )
    with engine.connect() as conn:
        count = conn.execute(query).scalar_one()
    engine.dispose()
    return int(count)


def _extract(settings: Settings, start: date, end: date) -> dict[str, int]:
    ctx = RunContext(start=start, end=end, settings=settings, kind="backfill")
    return steps.extract_source(ctx, "erp")


def _bronze(settings: Settings, entity: str) -> tuple[int, str]:
    return content_hash(bronze_uri("erp", entity, settings))


def test_first_run_is_a_full_load_and_a_rerun_changes_nothing(erp_settings: Settings):
    first_day = END - timedelta(days=364)
    written = _extract(erp_settings, first_day, END - timedelta(days=1))

    for entity in ENTITIES:
        expected = _erp_count(erp_settings, entity, datetime(END.year, END.month, END.day))
        assert written[entity] == expected, entity
    assert written["stock_movements"] > 1000

    _extract(erp_settings, END, END)
    before = {entity: _bronze(erp_settings, entity) for entity in ENTITIES}
    _extract(erp_settings, END, END)
    after = {entity: _bronze(erp_settings, entity) for entity in ENTITIES}

    assert after == before
    movements = before["stock_movements"][0]
    assert movements == _erp_count(erp_settings, "stock_movements", datetime(2026, 11, 1))


def test_next_run_reads_only_rows_updated_since_the_watermark(erp_settings: Settings):
    _extract(erp_settings, END - timedelta(days=364), END)
    engine = sa.create_engine(erp_settings.erp_url)
    items = sa.table("items", sa.column("item_id"), sa.column("unit_cost"), sa.column("updated_at"))
    late = datetime(2026, 11, 1, 9, 30)
    with engine.begin() as conn:
        conn.execute(
            items.update()
            .where(items.c.item_id == "ITM-00001")
            .values(unit_cost=999.5, updated_at=sa.bindparam("late", late, type_=sa.DateTime))
        )
    engine.dispose()

    written = _extract(erp_settings, date(2026, 11, 1), date(2026, 11, 1))

    assert written["items"] == 1
    assert written["suppliers"] == 0
    day = DeltaTable(bronze_uri("erp", "items", erp_settings)).to_pyarrow_table(
        filters=[("_ingest_date", "=", date(2026, 11, 1))]
    )
    assert day["item_id"].to_pylist() == ["ITM-00001"]
    assert day["unit_cost"].to_pylist() == [999.5]


def test_postgresql_and_sqlite_give_the_same_bronze(settings: Settings, pg_url: str, tmp_path):
    lite = settings.model_copy(
        update={"erp_url": f"sqlite:///{tmp_path / 'b.sqlite'}", "lake_root": str(tmp_path / "l1")}
    )
    pg = settings.model_copy(update={"erp_url": pg_url, "lake_root": str(tmp_path / "l2")})
    for each in (lite, pg):
        generate_demo(each.erp_url, CONFIG)
        _extract(each, END - timedelta(days=364), END)

    for entity in ENTITIES:
        assert _bronze(lite, entity) == _bronze(pg, entity), entity


def test_generic_sqlalchemy_reader_matches_the_adbc_reader(settings: Settings):
    """The fallback for other ERP databases reads exactly what the fast path reads."""
    from backend.ingest.base import ExtractWindow
    from backend.ingest.erp import ErpSource

    generate_demo(settings.erp_url, CONFIG)
    window = ExtractWindow(END - timedelta(days=364), END, "b", settings)
    fast = ErpSource().extract(window)
    generic = ErpSource(generic_reader=True).extract(window)

    for a, b in zip(fast, generic, strict=True):
        assert a.entity == b.entity
        assert a.rows.equals(b.rows), a.entity
        assert a.partition.equals(b.partition), a.entity


def test_a_missing_column_stops_the_source_and_names_it(settings: Settings):
    generate_demo(settings.erp_url, CONFIG)
    engine = sa.create_engine(settings.erp_url)
    with engine.begin() as conn:
        conn.execute(sa.text("alter table items rename column unit_cost to unit_price"))
    engine.dispose()

    with pytest.raises(steps.SourceError, match="unit_cost"):
        _extract(settings, END, END)
