"""The day's work list (gold mart fct_actions): what to order, expedite, transfer or watch."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection
from datetime import date
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Depends, Query, Response
from pydantic import TypeAdapter

from backend.api.cache import cache_key
from backend.api.deps import CurrentPrincipal, LakeDep
from backend.api.fastpath import note_cache_key
from backend.api.lake import GoldLake, warm_on_publish
from backend.api.memtables import lake_uri
from backend.api.planning import Planning, get_planning
from backend.api.principal import Principal
from backend.api.routes.common import (
    ERRORS,
    STRICT,
    Limit,
    Offset,
    Text,
    columns,
    depot_scope,
    paged,
)
from backend.api.schemas import Severity
from backend.api.schemas_orders import ActionsWithState, AlertStateFields
from backend.api.schemas_planner import Action, ActionPublic, ActionsPublic
from backend.appdb.alert_states import AlertStateView, State, StoredState
from backend.lake.reader import GoldReader, Where
from backend.lake.sql import quote_name

router = APIRouter(prefix="/actions", tags=["actions"], responses=ERRORS, dependencies=STRICT)

TABLE = "fct_actions"
SELECT = f"select {columns(ActionPublic)} from delta_scan($t_fct_actions)"
LATEST = "as_of_date = (select max(as_of_date) from delta_scan($t_fct_actions))"
SORTABLE = tuple(ActionPublic.model_fields)
# Ordinal text columns sort by rank, so "-severity" puts critical first.
RANKED = {
    "severity": "case severity when 'critical' then 2 when 'warning' then 1 else 0 end",
    "worst_sla_tier": "case worst_sla_tier when 'platinum' then 3 when 'gold' then 2 "
    "when 'silver' then 1 else 0 end",
}
_KEY = "-?(?:" + "|".join(SORTABLE) + ")"
SORT_PATTERN = f"^{_KEY}(?:,{_KEY}){{0,2}}$"
DEFAULT_SORT = "-priority"

Sort = Annotated[
    str,
    Query(
        pattern=SORT_PATTERN,
        max_length=120,
        description="Up to 3 comma-separated columns of the response, `-col` for descending; "
        "severity and worst_sla_tier sort by rank (critical > warning, platinum > gold > "
        "silver). Nulls last. Default: `-priority` (risk x value).",
        examples=["-priority", "days_to_stockout,-value_at_risk"],
    ),
]


def order_by(sort: str) -> str:
    """SQL ORDER BY text for a validated ``sort``; names are checked against the model's
    fields, and action_id last makes pages stable."""
    keys = []
    for part in sort.split(","):
        name = part.removeprefix("-")
        if name not in SORTABLE:
            raise ValueError(f"not a sortable column: {name!r}")
        expr = RANKED.get(name, quote_name(name))
        keys.append(f"{expr} {'desc' if part.startswith('-') else 'asc'} nulls last")
    if "action_id" not in {p.removeprefix("-") for p in sort.split(",")}:
        keys.append("action_id")
    return ", ".join(keys)


def build_actions(
    reader: GoldReader,
    *,
    principal: Principal,
    filters: dict[str, Any],
    sort: str,
    limit: int,
    offset: int,
    include_alert_ids: Collection[str] | None = None,
    exclude_alert_ids: Collection[str] | None = None,
) -> ActionsPublic:
    """One page of the latest work list.

    ``include_alert_ids`` / ``exclude_alert_ids`` are the seam for the acknowledgement
    state kept in the app database: the route will pass the ids of acknowledged (or
    snoozed) alerts there, and put them in the cache key.
    """
    where = Where().add(LATEST)
    for column in ("item_id", "depot_id", "category", "severity", "action", "supplier_id"):
        where.add(f"{quote_name(column)} = ${column}", **{column: filters.get(column)})
    if include_alert_ids is not None:
        where.add("alert_id in (select unnest($include_ids))", include_ids=list(include_alert_ids))
    if exclude_alert_ids:
        where.add(
            "(alert_id is null or alert_id not in (select unnest($exclude_ids)))",
            exclude_ids=list(exclude_alert_ids),
        )
    depot_scope(where, principal, "depot_id")
    return paged(
        reader, ActionsPublic, select=SELECT, where=where, tables=[TABLE],
        order_by=order_by(sort), limit=limit, offset=offset,
    )  # fmt: skip


_LINES = TypeAdapter(list[ActionPublic])


class WorkList:
    """The latest work list of one gold version, in memory: its rows as :data:`SELECT`
    reads them, each line's JSON (validated once, here), and per column the keys that
    order them as SQL does (text by its bytes, severity and SLA tier by rank, nulls last
    either way). A page is a filter, a sort of a few thousand keys and a slice: no scan,
    no SQL, and no validation or serialization of its lines."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows
        # Validating and serializing a page's 100 lines was most of an uncached request's
        # CPU (about 1 ms, on the event loop: 64 connections queued behind it). Built in
        # the warm-up worker; about 1 KB a line (the demo's list: ~12k lines, ~12 MB).
        self.json = [
            ActionPublic.__pydantic_serializer__.to_json(line)
            for line in _LINES.validate_python(rows)
        ]
        self._columns: dict[str, np.ndarray] = {}
        self._keys: dict[tuple[str, bool], list[np.ndarray]] = {}
        self._orders: dict[str, np.ndarray] = {}  # sort -> every line in that order

    def column(self, name: str) -> np.ndarray:
        if name not in self._columns:
            values = np.empty(len(self.rows), dtype=object)
            values[:] = [r[name] for r in self.rows]
            self._columns[name] = values
        return self._columns[name]

    def _sort_keys(self, name: str, descending: bool) -> list[np.ndarray]:
        """[nulls last, value] keys of ``name`` (most significant first)."""
        cached = self._keys.get((name, descending))
        if cached is not None:
            return cached
        values = self.column(name).tolist()
        if name in RANKS:
            rank = np.array([RANKS[name].get(v, 0) for v in values], dtype=np.int64)
            null = np.zeros(len(values), dtype=np.int64)
        else:
            order = {v: n for n, v in enumerate(sorted({v for v in values if v is not None}))}
            rank = np.array([order.get(v, 0) if v is not None else 0 for v in values])
            null = np.array([v is None for v in values], dtype=np.int64)
        keys = [null, -rank if descending else rank]
        self._keys[(name, descending)] = keys
        return keys

    def _order(self, sort: str) -> np.ndarray:
        """Every line in ``sort``'s order (kept for the most recent sorts: filters then only
        pick from it)."""
        order = self._orders.get(sort)
        if order is None:
            parts = [(p.removeprefix("-"), p.startswith("-")) for p in sort.split(",")]
            if "action_id" not in {name for name, _ in parts}:
                parts.append(("action_id", False))
            keys = [k for name, desc in parts for k in self._sort_keys(name, desc)]
            order = np.lexsort(keys[::-1]) if self.rows else np.arange(0)
            if len(self._orders) >= 256:
                self._orders.pop(next(iter(self._orders)))
            self._orders[sort] = order
        return order

    def page(
        self, *, principal: Principal, filters: dict[str, Any], sort: str, limit: int, offset: int
    ) -> ActionsPublic:
        """What :func:`build_actions` answers (without alert-id filters)."""
        rows, count = self.select(
            principal=principal, filters=filters, sort=sort, limit=limit, offset=offset
        )
        return ActionsPublic.model_validate(
            {"data": rows, "count": count, "limit": limit, "offset": offset}
        )

    def select(
        self, *, principal: Principal, filters: dict[str, Any], sort: str, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        """The page's lines as the SQL returns them (not validated) and the total count."""
        page, count = self.select_ids(
            principal=principal, filters=filters, sort=sort, limit=limit, offset=offset
        )
        return [self.rows[i] for i in page], count

    def select_ids(
        self, *, principal: Principal, filters: dict[str, Any], sort: str, limit: int, offset: int
    ) -> tuple[list[int], int]:
        """The page's line numbers (in :attr:`rows` and :attr:`json`) and the total count."""
        mask = np.ones(len(self.rows), dtype=bool)
        for name, value in filters.items():
            if value is not None:
                mask &= self.column(name) == value
        if principal.depots is not None:
            mask &= np.isin(self.column("depot_id"), list(principal.depots))
        order = self._order(sort)
        ordered = order[mask[order]]
        return ordered[offset : offset + limit].tolist(), int(ordered.size)


RANKS = {
    "severity": {"critical": 2, "warning": 1},
    "worst_sla_tier": {"platinum": 3, "gold": 2, "silver": 1},
}  # the same ranks as RANKED's SQL


class _WorkLists:
    """The :class:`WorkList` of the newest version of fct_actions asked for (a reader of
    the lake's latest tables reads it each time)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: tuple[tuple[str, int], WorkList] | None = None

    @staticmethod
    def key(reader: GoldReader) -> tuple[str, int] | None:
        if reader.versions is None or TABLE not in reader.versions:
            return None
        return lake_uri(reader.settings), reader.versions[TABLE]

    def ready(self, reader: GoldReader) -> WorkList | None:
        held, key = self._held, self.key(reader)
        return held[1] if held is not None and key is not None and held[0] == key else None

    def get(self, reader: GoldReader) -> WorkList | None:
        key = self.key(reader)
        if key is None:
            return None
        with self._lock:
            held = self.ready(reader)
            if held is None:
                rows = reader.rows(f"{SELECT} where {LATEST}", tables=[TABLE])
                held = WorkList(rows)
                self._held = (key, held)
            return held


WORK_LISTS = _WorkLists()


@warm_on_publish
def hold_work_list(reader: GoldReader) -> object:
    return WORK_LISTS.get(reader)


@router.get("", response_model=ActionsWithState)
async def list_actions(
    lake: LakeDep,
    principal: CurrentPrincipal,
    planning: Annotated[Planning, Depends(get_planning)],
    item_id: Text = None,
    depot_id: Text = None,
    category: Text = None,
    supplier_id: Text = None,
    severity: Severity | None = None,
    action: Action | None = None,
    state: Annotated[
        State | None,
        Query(
            description="Only lines whose alert is in this state (a line without an alert "
            "is open): `open` is what still needs a planner today."
        ),
    ] = None,
    sort: Sort = DEFAULT_SORT,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Response:
    """The latest run's work list: one line per item x depot that needs attention, with
    the action, its reason, the stockout risk, the value at risk and what planners did
    about its alert; by priority (risk x value) unless `sort` says otherwise."""
    filters: dict[str, Any] = {
        "item_id": item_id,
        "depot_id": depot_id,
        "category": category,
        "supplier_id": supplier_id,
        "severity": severity,
        "action": action,
    }
    # Gold lines are cached under the gold version; the states come from the app database's
    # in-process view, so the finished answer is keyed on the view's revision and the day too.
    whole = state is not None  # a state filter pages after filtering: read every line
    params = {**filters, "sort": sort, "scope": principal.scope_key}
    if not whole:
        params |= {"limit": limit, "offset": offset}

    rows, skip = (100_000, 0) if whole else (limit, offset)

    def build(reader: GoldReader) -> ActionsPublic:
        held = WORK_LISTS.get(reader)
        if held is not None:
            return held.page(principal=principal, filters=filters, sort=sort, limit=rows,
                             offset=skip)  # fmt: skip
        return build_actions(reader, principal=principal, filters=filters, sort=sort,
                             limit=rows, offset=skip)  # fmt: skip

    def held_lines(reader: GoldReader) -> tuple[WorkList, list[int], int] | None:
        held = WORK_LISTS.ready(reader)
        if held is None:
            return None
        ids, count = held.select_ids(principal=principal, filters=filters, sort=sort,
                                     limit=rows, offset=skip)  # fmt: skip
        return held, ids, count

    route = "actions:all" if whole else "actions"
    today = planning.today()
    view = planning.view
    version = await lake.version()
    answer_key = cache_key(
        version,
        "actions:answer",
        {**params, "state": state, "limit": limit, "offset": offset,
         "revision": view.revision, "day": today},
    )  # fmt: skip
    body = lake.cache.local(answer_key)
    if body is None:
        body = await _answer(
            lake, route, params, (build, held_lines), view, today, state, whole, limit, offset
        )
        lake.cache.keep_local(answer_key, body)
    # The fast path may replay it while gold, the states and the day stay as they are.
    note_cache_key(version, answer_key, guard=lambda: (view.revision, planning.today()))
    return Response(body, media_type="application/json")


HeldLines = Callable[[GoldReader], tuple[WorkList, list[int], int] | None]


async def _answer(
    lake: GoldLake, route: str, params: dict[str, Any],
    builds: tuple[Callable[[GoldReader], ActionsPublic], HeldLines],
    view: AlertStateView, today: date, state: State | None, whole: bool, limit: int, offset: int,
) -> bytes:  # fmt: skip
    """The JSON of the work-list page with each line's alert state (gold lines from the
    work list held in memory, else cached; states from the view)."""
    build, held_lines = builds
    held = held_lines(await lake.reader())
    if held is not None:
        return _held_page(*held, view, today, state, whole, limit, offset)
    body = await lake.cached_body(route, params, build, fast_path=False)
    gold = ActionsPublic.model_validate_json(body)
    rows = []
    for line in (line.model_dump() for line in gold.data):
        alert_id = line["alert_id"]
        stored = view.get(alert_id) if alert_id else None
        now: State = (
            view.state_of(alert_id, severity=line["severity"], today=today) if alert_id else "open"
        )
        if state is None or now == state:
            rows.append({**line, **AlertStateFields.values(stored, now)})
    count = gold.count
    if whole:
        rows, count = rows[offset : offset + limit], len(rows)
    page = {"data": rows, "count": count, "limit": limit, "offset": offset}
    return ActionsWithState.model_validate(page).model_dump_json().encode()


def _held_page(
    held: WorkList, ids: list[int], count: int, view: AlertStateView, today: date,
    state: State | None, whole: bool, limit: int, offset: int,
) -> bytes:  # fmt: skip
    """What ``ActionsWithState.model_validate(page).model_dump_json()`` gives for these
    lines of the held list, put together from each line's JSON and its state's: an
    :class:`ActionWithState` is the gold line's fields, then the state's (tests compare
    both)."""
    lines = []
    for i in ids:
        alert_id = held.rows[i]["alert_id"]
        stored = view.get(alert_id) if alert_id else None
        now: State = (
            view.state_of(alert_id, severity=held.rows[i]["severity"], today=today)
            if alert_id
            else "open"
        )
        if state is None or now == state:
            lines.append(held.json[i][:-1] + b"," + _state_json(stored, now)[1:])
    if whole:
        lines, count = lines[offset : offset + limit], len(lines)
    return b'{"data":[%b],"count":%d,"limit":%d,"offset":%d}' % (
        b",".join(lines),
        count,
        limit,
        offset,
    )


_STATE_JSON: dict[tuple[StoredState | None, State], bytes] = {}


def _state_json(stored: StoredState | None, now: State) -> bytes:
    """The JSON of :class:`AlertStateFields` for a stored state (or none) in state ``now``;
    remembered (the states of a day's lines repeat: mostly none at all)."""
    key = (stored, now)
    body = _STATE_JSON.get(key)
    if body is None:
        fields = AlertStateFields.model_validate(AlertStateFields.values(stored, now))
        body = AlertStateFields.__pydantic_serializer__.to_json(fields)
        if len(_STATE_JSON) >= 4096:  # states set and replaced over the process's life
            _STATE_JSON.clear()
        _STATE_JSON[key] = body
    return body
