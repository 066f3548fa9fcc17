"""The ERP extractor against real databases: a throwaway PostgreSQL server and SQLite."""

from __future__ import annotations

import socket
import threading
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa
from deltalake import DeltaTable

from backend.demo.erp import DemoConfig, generate_demo
from backend.ingest.base import ExtractWindow, bronze_uri
from backend.ingest.erp import ErpSource
from backend.ingest.retry import RetryPolicy
from backend.lake import delta
from backend.lake.gold import content_hash
from backend.pipeline import steps
from backend.pipeline.context import RunContext
from backend.quality.quarantine import quarantine_uri
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


# ---- issue 15: nothing read from the ERP vanishes; what is wrong is quarantined ---------

WEEK_AGO = END - timedelta(days=7)


def _run(settings: Settings, start: date, end: date) -> dict[str, int]:
    """Extract the ERP for [start, end] and validate it, as a run does."""
    ctx = RunContext(start=start, end=end, settings=settings, kind="backfill", sources=("erp",))
    written = steps.extract_source(ctx, "erp")
    steps.validate(ctx)
    return written


def _execute(settings: Settings, sql: str, **params: object) -> list[tuple]:
    engine = sa.create_engine(settings.erp_url)
    try:
        with engine.begin() as conn:
            result = conn.execute(sa.text(sql), params)
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()


def _is_postgres(settings: Settings) -> bool:
    return settings.erp_url.startswith("postgresql")


def _allow_null_updated_at(settings: Settings) -> None:
    """The demo declares updated_at NOT NULL; many ERPs do not."""
    if _is_postgres(settings):
        _execute(settings, "alter table stock_movements alter column updated_at drop not null")
    else:  # SQLite cannot drop a constraint: rebuild the table without it
        _execute(settings, "create table relaxed as select * from stock_movements")
        _execute(settings, "drop table stock_movements")
        _execute(settings, "alter table relaxed rename to stock_movements")


_MOVEMENT = sa.text(
    "insert into stock_movements (movement_id, item_id, depot_id, tower_id, quantity, "
    "movement_type, movement_date, updated_at) values (:movement_id, :item_id, :depot_id, "
    "null, :quantity, :movement_type, :movement_date, :updated_at)"
).bindparams(
    sa.bindparam("movement_date", type_=sa.Date), sa.bindparam("updated_at", type_=sa.DateTime)
)


def _add_movement(
    settings: Settings,
    movement_id: int,
    *,
    quantity: object = 1,
    movement_date: date = END,
    updated_at: datetime | None = datetime(2026, 10, 31, 10),
    movement_type: str = "consumption",
) -> None:
    item, depot = _execute(
        settings,
        "select item_id, depot_id from stock_movements where movement_type = 'consumption' "
        "order by movement_id limit 1",
    )[0]
    engine = sa.create_engine(settings.erp_url)
    with engine.begin() as conn:
        conn.execute(
            _MOVEMENT,
            {
                "movement_id": movement_id,
                "item_id": item,
                "depot_id": depot,
                "quantity": quantity,
                "movement_type": movement_type,
                "movement_date": movement_date,
                "updated_at": updated_at,
            },
        )
    engine.dispose()


def _bronze_movements(settings: Settings, movement_id: int) -> list[dict]:
    table = DeltaTable(bronze_uri("erp", "stock_movements", settings)).to_pyarrow_table(
        filters=[("movement_id", "=", movement_id)]
    )
    return table.to_pylist()


def _quarantined(settings: Settings, movement_id: int) -> dict[str, str]:
    """rule -> reason of the quarantine rows of the movement's bronze rows."""
    ids = {row["_row_id"] for row in _bronze_movements(settings, movement_id)}
    rows = delta.read_table(quarantine_uri(settings)).to_pylist()
    return {
        row["rule"]: row["reason"]
        for row in rows
        if row["entity"] == "stock_movements" and row["_row_id"] in ids
    }


@pytest.mark.reliability
def test_a_row_without_updated_at_is_quarantined_not_lost(erp_settings: Settings):
    _allow_null_updated_at(erp_settings)
    _add_movement(erp_settings, 990_001, updated_at=None, movement_date=END)

    _run(erp_settings, END - timedelta(days=364), END)
    _run(erp_settings, END + timedelta(days=1), END + timedelta(days=1))

    # Read again by the next day's window, but loaded once.
    assert len(_bronze_movements(erp_settings, 990_001)) == 1
    assert _quarantined(erp_settings, 990_001) == {"not_null:updated_at": "updated_at is missing"}


@pytest.mark.reliability
def test_a_row_committed_late_below_the_watermark_is_caught_once(erp_settings: Settings):
    _run(erp_settings, END - timedelta(days=364), END - timedelta(days=1))
    _run(erp_settings, END, END)
    next_day = END + timedelta(days=1)
    mark = ErpSource().low_water_marks(next_day, erp_settings)["stock_movements"]
    # Committed after the run of END, stamped by a transaction that began before its mark.
    _add_movement(erp_settings, 990_002, updated_at=mark - timedelta(minutes=5))

    _run(erp_settings, next_day, next_day)
    once = _bronze(erp_settings, "stock_movements")
    _run(erp_settings, next_day, next_day)

    assert len(_bronze_movements(erp_settings, 990_002)) == 1
    assert _quarantined(erp_settings, 990_002) == {}
    # The lookback re-read the last hour before the mark: no row of it is loaded twice.
    assert once[0] == _erp_count(erp_settings, "stock_movements", datetime(2027, 1, 1))
    assert _bronze(erp_settings, "stock_movements") == once


@pytest.mark.reliability
def test_a_mistyped_value_quarantines_its_row_not_the_extract(erp_settings: Settings):
    first, second = _execute(
        erp_settings, "select movement_id from stock_movements order by movement_id limit 2"
    )
    if _is_postgres(erp_settings):
        # A legacy ERP column typed as text. (A UTF8 PostgreSQL database refuses invalid
        # UTF-8 on write, so that case is SQLite's below.)
        _execute(erp_settings, "alter table stock_movements alter column quantity type text")
    _execute(
        erp_settings,
        "update stock_movements set quantity = 'abc' where movement_id = :id",
        id=first[0],
    )
    if not _is_postgres(erp_settings):
        _execute(
            erp_settings,
            "update stock_movements set tower_id = cast(x'ff41' as text) where movement_id = :id",
            id=second[0],
        )

    written = _run(erp_settings, END - timedelta(days=364), END)

    assert written["stock_movements"] == _erp_count(
        erp_settings, "stock_movements", datetime(2026, 11, 1)
    )
    reasons = _quarantined(erp_settings, first[0])
    assert "typed_values" in reasons
    assert "quantity: 'abc' is not a valid int64" in reasons["typed_values"]
    if not _is_postgres(erp_settings):
        reasons = _quarantined(erp_settings, second[0])
        assert "tower_id: invalid UTF-8 b'\\xffA'" in reasons["typed_values"]


@pytest.mark.reliability
def test_a_movement_dated_after_the_run_date_is_quarantined(erp_settings: Settings):
    _add_movement(erp_settings, 990_003, movement_date=date(2029, 10, 31))

    _run(erp_settings, END - timedelta(days=364), END)

    reasons = _quarantined(erp_settings, 990_003)
    assert reasons == {
        "not_in_future:movement_date": "movement_date is after the run date: 2029-10-31"
    }


@pytest.mark.reliability
def test_an_absurd_quantity_is_held_for_review_on_a_first_load_and_a_daily_run(
    erp_settings: Settings,
):
    if _is_postgres(erp_settings):  # 10^12 does not fit the demo's int4 column
        _execute(erp_settings, "alter table stock_movements alter column quantity type bigint")
    _add_movement(
        erp_settings,
        990_004,
        quantity=10**12,
        movement_date=WEEK_AGO,
        updated_at=datetime.combine(WEEK_AGO, datetime.min.time()) + timedelta(hours=10),
    )
    _run(erp_settings, END - timedelta(days=364), END - timedelta(days=1))
    _add_movement(erp_settings, 990_005, quantity=10**12)
    _run(erp_settings, END, END)

    for movement_id in (990_004, 990_005):
        reasons = _quarantined(erp_settings, movement_id)
        assert set(reasons) == {"quantity_outlier"}, movement_id
        assert "quantity 1000000000000, reference " in reasons["quantity_outlier"]
    # The demo's own movements (receipts of a depot's whole order included) pass the rule.
    rules = delta.read_table(quarantine_uri(erp_settings))["rule"].to_pylist()
    assert rules.count("quantity_outlier") == 2
    assert "not_in_future:movement_date" not in rules


def _extract_in_thread(settings: Settings) -> BaseException | None:
    """Run one ERP extract (no retries) and return its error. The join's bound only keeps
    a hanging read (the fault under test) from hanging the suite; it asserts no time."""
    outcome: list[BaseException | None] = []

    def extract() -> None:
        window = ExtractWindow(END, END, "b", settings)
        try:
            ErpSource(retry=RetryPolicy(attempts=1)).extract(window)
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=extract, daemon=True)
    worker.start()
    worker.join(timeout=120)
    return outcome[0] if outcome else TimeoutError("the extract is still waiting")


@pytest.mark.reliability
def test_a_locked_table_fails_the_read_at_the_statement_timeout(settings: Settings, pg_url: str):
    erp = settings.model_copy(update={"erp_url": pg_url, "erp_statement_timeout": 1.0})
    generate_demo(pg_url, CONFIG)
    engine = sa.create_engine(pg_url)
    holder = engine.connect()
    holder.begin()
    holder.execute(sa.text("lock table items in access exclusive mode"))
    try:
        error = _extract_in_thread(erp)
    finally:
        holder.rollback()
        holder.close()
        engine.dispose()

    # SQLSTATE 57014: query_canceled, what statement_timeout raises; the read names its table.
    assert error is not None and "erp.items: reading the window failed" in str(error), error
    assert "57014" in str(error)


@pytest.mark.reliability
def test_a_server_that_never_answers_fails_the_connect_at_its_timeout(settings: Settings):
    # A listening socket that never accepts: TCP connects, the server never speaks.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        erp = settings.model_copy(
            update={"erp_url": f"postgresql://nova@127.0.0.1:{port}/erp", "erp_connect_timeout": 2}
        )
        error = _extract_in_thread(erp)

    assert error is not None and "timeout expired" in str(error), error
