"""Alert lifecycle: what planners say about an alert episode (acknowledge, snooze, resolve).

An alert id is stable for its whole episode (gold's ``fct_stock_alerts``), so one current
state per alert id is enough, plus an append-only history of who said what and when. Each
state is recorded with the alert's severity at that moment: when the alert has since
worsened (warning -> critical) the state no longer holds and the alert is open again. A
snooze holds until its date: on ``snoozed_until`` the alert is open again.

"open" is never stored: it is what an alert is without a (still holding) state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, Session, mapped_column

from backend.appdb.base import Base, UtcDateTime

log = logging.getLogger(__name__)
State = Literal["open", "acknowledged", "snoozed", "resolved"]
SetState = Literal["acknowledged", "snoozed", "resolved"]
STATES: tuple[State, ...] = ("open", "acknowledged", "snoozed", "resolved")
SEVERITY_RANK = {"warning": 1, "critical": 2}
# Bound parameters per IN list: far below SQLite's and PostgreSQL's limits.
CHUNK = 900


class AlertState(Base):
    """The current state of one alert episode (only states other than open)."""

    __tablename__ = "alert_states"
    __table_args__ = (
        sa.CheckConstraint("state in ('acknowledged', 'snoozed', 'resolved')", name="state"),
    )

    alert_id: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    state: Mapped[str] = mapped_column(sa.String(16))
    severity: Mapped[str] = mapped_column(sa.String(16))
    item_id: Mapped[str] = mapped_column(sa.String(64))
    depot_id: Mapped[str] = mapped_column(sa.String(64))
    snoozed_until: Mapped[date | None] = mapped_column(sa.Date)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    updated_by: Mapped[str] = mapped_column(sa.String(254))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class AlertStateEvent(Base):
    """Append-only history: every state set on an alert, by whom, when, with the note."""

    __tablename__ = "alert_state_events"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[str] = mapped_column(sa.String(128), index=True)
    state: Mapped[str] = mapped_column(sa.String(16))
    severity: Mapped[str] = mapped_column(sa.String(16))
    item_id: Mapped[str] = mapped_column(sa.String(64))
    depot_id: Mapped[str] = mapped_column(sa.String(64))
    snoozed_until: Mapped[date | None] = mapped_column(sa.Date)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    actor: Mapped[str] = mapped_column(sa.String(254))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


@dataclass(frozen=True)
class StoredState:
    alert_id: str
    state: SetState
    severity: str  # the alert's severity when the state was set
    item_id: str
    depot_id: str
    snoozed_until: date | None
    note: str
    by: str
    at: datetime

    @classmethod
    def of(cls, row: AlertState) -> StoredState:
        state: SetState = row.state  # type: ignore[assignment]  # checked by the table
        return cls(row.alert_id, state, row.severity, row.item_id, row.depot_id,
                   row.snoozed_until, row.note, row.updated_by, row.updated_at)  # fmt: skip

    def effective(self, *, severity: str | None, today: date) -> State:
        return effective_state(self, severity=severity, today=today)


def worsened(recorded: str, current: str | None) -> bool:
    return SEVERITY_RANK.get(current or "", 0) > SEVERITY_RANK.get(recorded, 0)


def effective_state(stored: StoredState | None, *, severity: str | None, today: date) -> State:
    """The state an alert is in today, given its current severity.

    Open when nothing holds: no state, the alert worsened since the state was set, or a
    snooze reached its date (``snoozed_until`` is the day it comes back).
    """
    if stored is None or worsened(stored.severity, severity):
        return "open"
    if stored.state == "snoozed" and (
        stored.snoozed_until is None or today >= stored.snoozed_until
    ):
        return "open"
    return stored.state


def _upsert(session: Session, values: dict[str, Any]) -> None:
    """Insert or replace the alert's current state in one statement (no read-then-write
    race between two planners acting on the same alert)."""
    changed = {k: v for k, v in values.items() if k != "alert_id"}
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        pg = postgresql.insert(AlertState).values(**values)
        session.execute(pg.on_conflict_do_update(index_elements=["alert_id"], set_=changed))
    elif dialect == "sqlite":
        lite = sqlite.insert(AlertState).values(**values)
        session.execute(lite.on_conflict_do_update(index_elements=["alert_id"], set_=changed))
    else:  # pragma: no cover - the app database is SQLite or PostgreSQL
        raise ValueError(f"unsupported app database backend {dialect!r}")


def set_state(
    session: Session,
    *,
    alert_id: str,
    state: SetState,
    severity: str,
    item_id: str,
    depot_id: str,
    actor: str,
    now: datetime,
    note: str = "",
    snoozed_until: date | None = None,
) -> StoredState:
    """Record ``state`` for the alert (replacing its current one) and append to history.

    The caller commits. ``snoozed_until`` is required for, and only kept with, a snooze.
    """
    if state == "snoozed" and snoozed_until is None:
        raise ValueError("a snooze needs the date it ends")
    until = snoozed_until if state == "snoozed" else None
    values = {
        "alert_id": alert_id, "state": state, "severity": severity, "item_id": item_id,
        "depot_id": depot_id, "snoozed_until": until, "note": note, "updated_by": actor,
        "updated_at": now,
    }  # fmt: skip
    _upsert(session, values)
    session.add(
        AlertStateEvent(
            alert_id=alert_id, state=state, severity=severity, item_id=item_id,
            depot_id=depot_id, snoozed_until=until, note=note, actor=actor, created_at=now,
        )
    )  # fmt: skip
    return StoredState(alert_id, state, severity, item_id, depot_id, until, note, actor, now)


def states_for(session: Session, alert_ids: Iterable[str]) -> dict[str, StoredState]:
    """The stored states of these alerts (alerts without one are absent: open)."""
    wanted = sorted(set(alert_ids))
    found: dict[str, StoredState] = {}
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        rows = session.scalars(sa.select(AlertState).where(AlertState.alert_id.in_(chunk)))
        found.update((row.alert_id, StoredState.of(row)) for row in rows)
    return found


def history(session: Session, alert_id: str) -> list[AlertStateEvent]:
    """Every state set on the alert, oldest first."""
    query = (
        sa.select(AlertStateEvent)
        .where(AlertStateEvent.alert_id == alert_id)
        .order_by(AlertStateEvent.created_at, AlertStateEvent.id)
    )
    return list(session.scalars(query))


def changed_since(session: Session, since: datetime | None) -> list[StoredState]:
    """States set after ``since`` (every state when None)."""
    query = sa.select(AlertState)
    if since is not None:
        query = query.where(AlertState.updated_at > since)
    return [StoredState.of(row) for row in session.scalars(query)]


def split_by_state(
    states: Mapping[str, StoredState], severities: Mapping[str, str | None], *, today: date
) -> dict[State, set[str]]:
    """The alert ids of ``severities`` (id -> current severity) grouped by effective state."""
    groups: dict[State, set[str]] = {state: set() for state in STATES}
    for alert_id, severity in severities.items():
        stored = states.get(alert_id)
        groups[effective_state(stored, severity=severity, today=today)].add(alert_id)
    return groups


class AlertStateView:
    """Every stored state, held in this process and refreshed every ``refresh_seconds``.

    For hot paths that cannot query per item (the socket's fan-out, the work list's
    acknowledgement filter). Refreshes read only the rows changed since the last one,
    with an ``overlap`` so a transaction that committed after a later one's refresh is
    not missed. This process's own writes are applied at once (:meth:`apply`); other
    processes' writes show within ``refresh_seconds``.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        refresh_seconds: float = 2.0,
        overlap: timedelta = timedelta(seconds=30),
    ) -> None:
        self.engine = engine
        self.refresh_seconds = refresh_seconds
        self.overlap = overlap
        self._states: dict[str, StoredState] = {}
        # Bumped whenever a held state changes: answers built from the view key on it.
        self.revision = 0
        self._watermark: datetime | None = None
        self._lock = threading.Lock()
        self._task: asyncio.Task[None] | None = None

    def refresh(self) -> int:
        """Read the changes since the last refresh (blocking); returns how many rows."""
        since = self._watermark - self.overlap if self._watermark else None
        with Session(self.engine) as session:
            changed = changed_since(session, since)
        for stored in changed:
            self.apply(stored)
        return len(changed)

    def apply(self, stored: StoredState) -> None:
        """Take a state into the view (an older one than held is ignored)."""
        with self._lock:
            held = self._states.get(stored.alert_id)
            if (held is None or held.at <= stored.at) and held != stored:
                self._states[stored.alert_id] = stored
                self.revision += 1
            if self._watermark is None or stored.at > self._watermark:
                self._watermark = stored.at

    def get(self, alert_id: str) -> StoredState | None:
        return self._states.get(alert_id)

    def snapshot(self) -> dict[str, StoredState]:
        with self._lock:
            return dict(self._states)

    def state_of(self, alert_id: str, *, severity: str | None, today: date) -> State:
        return effective_state(self.get(alert_id), severity=severity, today=today)

    def holding(self, today: date) -> list[StoredState]:
        """States that hold today unless the alert worsened since (snoozes not yet at their
        date): for filtering in SQL, comparing each ``severity`` with the alert's current
        one (held while the current severity ranks at most the recorded one)."""
        return [
            s
            for s in self.snapshot().values()
            if s.state != "snoozed" or (s.snoozed_until is not None and today < s.snoozed_until)
        ]

    def split(self, severities: Mapping[str, str | None], *, today: date) -> dict[State, set[str]]:
        """Ids grouped by effective state (see :func:`split_by_state`), from the view."""
        return split_by_state(self._states, severities, today=today)

    def suppresses(self, alert: Mapping[str, Any], *, today: date) -> bool:
        """Whether a live alert should not be pushed: a planner has acknowledged, snoozed
        or resolved it and it has not worsened since."""
        alert_id = alert.get("alert_id")
        if not isinstance(alert_id, str):
            return False
        return self.state_of(alert_id, severity=alert.get("severity"), today=today) != "open"

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_seconds)
            try:
                await asyncio.to_thread(self.refresh)
            except Exception:  # the database is away: keep the last view, try again
                log.warning("alert state refresh failed", exc_info=True)

    def start(self) -> None:
        """Refresh in the background of the running event loop."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
