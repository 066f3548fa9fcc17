"""Gold tables held in memory (backend/api/memtables.py) answer exactly as DuckDB on the lake
does (one item's forecasts, one pair's series, a work-list page), turn over with the gold version, and stay
within their byte budget."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi import HTTPException

from backend.api import memtables
from backend.api.principal import Principal
from backend.api.routes.actions import (
    DEFAULT_SORT,
    SORTABLE,
    WORK_LISTS,
    _held_page,
    build_actions,
)
from backend.api.routes.forecasts import ForecastQuery, held_forecasts, query_forecasts
from backend.api.routes.series import build_series, held_series
from backend.api.schemas_orders import ActionsWithState, AlertStateFields
from backend.appdb import upgrade
from backend.appdb.alert_states import AlertStateView, StoredState
from backend.events.outbox import bump_gold_version
from backend.lake.reader import GoldReader
from backend.settings import Settings
from tests.services.gold import (
    RUN_DATE,
    SCHEMAS,
    action_rows,
    build_gold,
    forecast_rows,
    write_gold,
)

ANYONE = Principal(kind="key", subject="k", role="viewer")
SCOPED = Principal(kind="key", subject="k", role="viewer", depots=("DEP02",))
OLD_RUN = RUN_DATE - timedelta(days=90)  # before every past run of forecast_rows()


@pytest.fixture
def memory() -> Iterator[memtables.MemoryTables]:
    held = memtables.configure(64 * 1024 * 1024)
    assert held is not None
    yield held
    memtables.configure(0)


def _publish(settings: Settings, run: str) -> GoldReader:
    return GoldReader.published(settings, bump_gold_version(settings, run, RUN_DATE))


def _forecasts(settings: Settings) -> None:
    """Two runs, a point with nulls, an item of its own class: filters have work to do."""
    rows = forecast_rows() + forecast_rows(OLD_RUN, level=3.0, history=0)
    rows.append({**rows[0], "item_id": "ITM009", "demand_class": None, "yhat": None,
                 "horizon_day": None, "model_version": None})  # fmt: skip
    write_gold(settings, "fct_forecasts", rows, SCHEMAS["fct_forecasts"])


def test_one_item_reads_from_memory_equal_the_lake_query(
    settings: Settings, memory: memtables.MemoryTables
) -> None:
    build_gold(settings, version=None)
    _forecasts(settings)
    reader = _publish(settings, "r1")
    queries = [
        ForecastQuery(item_id=item, depot_id=depot, demand_class=cls, forecast_date=run,
                      start=start, end=end, limit=limit, offset=offset)
        for item, depot, cls, run, (start, end), (limit, offset) in itertools.product(
            ["ITM001", "ITM003", "ITM009", "NOPE"],
            [None, "DEP01"],
            [None, "lumpy"],
            [None, OLD_RUN, date(2020, 1, 1)],
            [(None, None), (RUN_DATE + timedelta(days=3), RUN_DATE + timedelta(days=9)),
             (RUN_DATE + timedelta(days=9), RUN_DATE)],
            [(100, 0), (5, 3)],
        )
    ]  # fmt: skip
    answered = 0
    for query, who in itertools.product(queries, [ANYONE, SCOPED]):
        held = held_forecasts(reader, who, query)
        assert held is not None, query
        lake = query_forecasts(reader, who, query)
        assert held.model_dump_json() == lake.model_dump_json(), (query, who)
        answered += bool(held.data)
    assert answered >= 20  # most combinations return rows: the comparison is not vacuous
    assert memory.held_bytes() > 0


def test_reads_it_cannot_answer_go_to_the_lake(
    settings: Settings, memory: memtables.MemoryTables
) -> None:
    build_gold(settings, version=None)
    reader = _publish(settings, "r1")
    assert held_forecasts(reader, ANYONE, ForecastQuery(depot_id="DEP01")) is None
    assert held_forecasts(reader, ANYONE, ForecastQuery(item_id="ITM001", category="radio")) is None
    unpinned = GoldReader(settings)  # the pipeline's own reads are never served from memory
    assert held_forecasts(unpinned, ANYONE, ForecastQuery(item_id="ITM001")) is None


def test_a_new_gold_version_turns_the_memory_over(
    settings: Settings, memory: memtables.MemoryTables
) -> None:
    build_gold(settings, version=None)
    first = _publish(settings, "r1")
    query = ForecastQuery(item_id="ITM001", depot_id="DEP01", limit=1)
    before = held_forecasts(first, ANYONE, query)
    assert before is not None and before.data[0].yhat == 5.0
    write_gold(settings, "fct_forecasts", forecast_rows(level=9.0), SCHEMAS["fct_forecasts"])
    second = _publish(settings, "r2")
    after = held_forecasts(second, ANYONE, query)
    assert after is not None and after.data[0].yhat == 9.0
    # The previous version is let go; a request still pinned to it reads the lake.
    assert held_forecasts(first, ANYONE, query) is None
    assert query_forecasts(first, ANYONE, query).data[0].yhat == 5.0
    assert len([t for t in memory._held.values() if t.table is not None]) == 1


def test_a_table_over_the_budget_is_not_held(settings: Settings) -> None:
    build_gold(settings, version=None)
    reader = _publish(settings, "r1")
    memtables.configure(1024)  # 1 KiB: the forecasts need more
    try:
        assert held_forecasts(reader, ANYONE, ForecastQuery(item_id="ITM001")) is None
    finally:
        memtables.configure(0)
    assert query_forecasts(reader, ANYONE, ForecastQuery(item_id="ITM001")).count == 28


def test_one_pair_series_from_memory_equal_the_lake_query(
    settings: Settings, memory: memtables.MemoryTables
) -> None:
    build_gold(settings, version=None)
    reader = _publish(settings, "r1")
    compared = 0
    for (item, depot), grain, start, end, who in itertools.product(
        [("ITM001", "DEP01"), ("ITM003", "DEP02")],
        ["day", "week"],
        [None, date(2026, 9, 12), date(2026, 10, 9), date(2026, 8, 1)],
        [None, date(2026, 10, 20), RUN_DATE + timedelta(days=10)],
        [ANYONE, SCOPED],
    ):
        query = dict(principal=who, item_id=item, depot_id=depot, category=None, grain=grain,
                     start=start, end=end)  # fmt: skip
        held = held_series(reader, **query)  # type: ignore[arg-type]
        if not who.sees_depot(depot):
            assert held is None  # the lake query answers 404
            with pytest.raises(HTTPException):
                build_series(reader, **query)  # type: ignore[arg-type]
            continue
        assert held is not None, query
        lake = build_series(reader, **query)  # type: ignore[arg-type]
        assert held.model_dump_json() == lake.model_dump_json(), query
        assert held.history and held.reorder_point is not None
        compared += 1
    assert compared == 72
    # not one pair: the lake query answers
    aggregate = dict(principal=ANYONE, item_id="ITM001", depot_id=None, category=None,
                     grain="day", start=None, end=None)  # fmt: skip
    assert held_series(reader, **aggregate) is None  # type: ignore[arg-type]


def test_work_list_pages_from_memory_equal_the_lake_query(settings: Settings) -> None:
    """Every sort key (each column, both ways, ranked and nullable ones) and filter."""
    build_gold(settings, version=None)
    # More lines, with ties and nulls, so that orders and pages have work to do.
    lines = [
        {**row, "action_id": f"{row['action_id']}-{n}", "priority": None if n % 3 else n / 10,
         "days_to_stockout": n % 4, "severity": [None, "warning", "critical"][n % 3]}
        for n, row in enumerate(action_rows() * 4)
    ]  # fmt: skip
    write_gold(settings, "fct_actions", lines, SCHEMAS["fct_actions"])
    reader = _publish(settings, "r1")
    held = WORK_LISTS.get(reader)
    assert held is not None and WORK_LISTS.ready(reader) is held
    sorts = [DEFAULT_SORT, "severity,-days_to_stockout", "-worst_sla_tier,item_id",
             *(f"{'-' * (n % 2)}{name}" for n, name in enumerate(SORTABLE))]  # fmt: skip
    filters = [{}, {"severity": "critical", "category": "radio"}, {"item_id": "NOPE"}]
    compared = 0
    for sort, chosen, who, (limit, offset) in itertools.product(
        sorts, filters, [ANYONE, SCOPED], [(3, 2)]
    ):
        args = dict(principal=who, filters=chosen, sort=sort, limit=limit, offset=offset)
        memory = held.page(**args)  # type: ignore[arg-type]
        lake = build_actions(reader, **args)  # type: ignore[arg-type]
        assert memory.model_dump_json() == lake.model_dump_json(), args
        compared += bool(lake.data)
    assert compared > 70


def test_held_work_list_pages_with_states_equal_the_validated_answer(settings: Settings) -> None:
    """The route's answer from the held list is put together from each line's JSON and its
    state's; it must be byte for byte what validating and dumping the page gives, for every
    state (none, acknowledged with a note that needs escaping, snoozed, one that worsened
    since) and state filter, both ways of paging."""
    build_gold(settings, version=None)
    lines = [
        {**row, "action_id": f"{row['action_id']}-{n}", "alert_id": row["alert_id"] and f"A{n}",
         "severity": [None, "warning", "critical"][n % 3], "quantity": n % 5 or None,
         "reason": 'faltam "8" un — ação'}
        for n, row in enumerate(action_rows() * 6)
    ]  # fmt: skip
    write_gold(settings, "fct_actions", lines, SCHEMAS["fct_actions"])
    reader = _publish(settings, "r1")
    held = WORK_LISTS.get(reader)
    assert held is not None
    today = date(2026, 11, 3)
    view = AlertStateView(upgrade(settings))
    at = datetime(2026, 11, 1, 12, 30, tzinfo=UTC)
    for n, (state, until) in enumerate(
        [("acknowledged", None), ("snoozed", date(2026, 11, 5)), ("snoozed", date(2026, 11, 2)),
         ("resolved", None), ("acknowledged", None)]
    ):  # fmt: skip
        view.apply(StoredState(f"A{n * 4}", state, "warning", "ITM001", "DEP01", until,  # type: ignore[arg-type]
                               'pedido "PO-1" \\ ok', f"key:{n}", at))  # fmt: skip
    assert view.revision == 5
    compared = 0
    for state, whole, (limit, offset) in itertools.product(
        [None, "open", "acknowledged", "snoozed", "resolved"], [False, True], [(7, 0), (5, 3)]
    ):
        if state is not None and not whole:
            continue  # the route reads every line for a state filter
        rows, skip = (100_000, 0) if whole else (limit, offset)
        args = dict(principal=ANYONE, filters={}, sort=DEFAULT_SORT, limit=rows, offset=skip)
        ids, count = held.select_ids(**args)  # type: ignore[arg-type]
        body = _held_page(held, ids, count, view, today, state, whole, limit, offset)  # type: ignore[arg-type]
        # the answer as the route built it before: validated, then dumped
        picked = []
        for line in held.select(**args)[0]:  # type: ignore[arg-type]
            alert_id = line["alert_id"]
            stored = view.get(alert_id) if alert_id else None
            now = (
                view.state_of(alert_id, severity=line["severity"], today=today)
                if alert_id
                else "open"
            )
            if state is None or now == state:
                picked.append({**line, **AlertStateFields.values(stored, now)})
        if whole:
            picked, count = picked[offset : offset + limit], len(picked)
        page = {"data": picked, "count": count, "limit": limit, "offset": offset}
        assert body == ActionsWithState.model_validate(page).model_dump_json().encode(), state
        compared += len(picked)
    assert compared > 20
