"""Alert states on SQLite: effective state rules, history, bulk reads and the view."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from backend.appdb import upgrade
from backend.appdb.alert_states import (
    CHUNK,
    AlertStateView,
    StoredState,
    effective_state,
    history,
    set_state,
    split_by_state,
    states_for,
)
from backend.settings import Settings

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
TODAY = date(2026, 11, 1)


@pytest.fixture
def engine(settings: Settings) -> Engine:
    return upgrade(settings)


def record(state: str = "acknowledged", severity: str = "warning", until: date | None = None):
    return StoredState("A1", state, severity, "ITM1", "DEP1", until, "", "ana", T0)  # type: ignore[arg-type]


def put(engine: Engine, alert_id: str, state: str, *, severity: str = "warning",
        actor: str = "ana@example.com", at: datetime = T0, note: str = "",
        until: date | None = None) -> StoredState:  # fmt: skip
    with Session(engine) as session:
        stored = set_state(
            session, alert_id=alert_id, state=state, severity=severity, item_id="ITM1",  # type: ignore[arg-type]
            depot_id="DEP1", actor=actor, now=at, note=note, snoozed_until=until,
        )  # fmt: skip
        session.commit()
    return stored


def test_effective_state_rules() -> None:
    assert effective_state(None, severity="critical", today=TODAY) == "open"
    acked = record("acknowledged", "warning")
    assert effective_state(acked, severity="warning", today=TODAY) == "acknowledged"
    # Worsened since it was acknowledged: open again; improved: still acknowledged.
    assert effective_state(acked, severity="critical", today=TODAY) == "open"
    assert effective_state(record("acknowledged", "critical"), severity="warning",
                           today=TODAY) == "acknowledged"  # fmt: skip
    snoozed = record("snoozed", "warning", until=date(2026, 11, 5))
    assert effective_state(snoozed, severity="warning", today=date(2026, 11, 4)) == "snoozed"
    assert effective_state(snoozed, severity="warning", today=date(2026, 11, 5)) == "open"
    assert effective_state(snoozed, severity="critical", today=date(2026, 11, 4)) == "open"
    resolved = record("resolved", "warning")
    assert effective_state(resolved, severity="warning", today=TODAY) == "resolved"
    assert effective_state(resolved, severity="critical", today=TODAY) == "open"


def test_set_state_replaces_the_current_state_and_appends_history(engine: Engine) -> None:
    put(engine, "A1", "acknowledged", note="seen", at=T0)
    put(engine, "A1", "snoozed", actor="bia@example.com", note="waiting for PO",
        at=T0 + timedelta(minutes=5), until=date(2026, 11, 3))  # fmt: skip
    with Session(engine) as session:
        current = states_for(session, ["A1", "A2"])
        events = history(session, "A1")
    assert set(current) == {"A1"}
    assert current["A1"].state == "snoozed"
    assert current["A1"].by == "bia@example.com"
    assert current["A1"].snoozed_until == date(2026, 11, 3)
    assert current["A1"].at == T0 + timedelta(minutes=5)
    assert [(e.state, e.actor, e.note) for e in events] == [
        ("acknowledged", "ana@example.com", "seen"),
        ("snoozed", "bia@example.com", "waiting for PO"),
    ]
    # A later acknowledgement drops the snooze date.
    put(engine, "A1", "acknowledged", at=T0 + timedelta(minutes=9))
    with Session(engine) as session:
        assert states_for(session, ["A1"])["A1"].snoozed_until is None


def test_snooze_needs_a_date(engine: Engine) -> None:
    with pytest.raises(ValueError, match="date"):
        put(engine, "A1", "snoozed")


def test_states_for_reads_more_ids_than_one_statement_binds(engine: Engine) -> None:
    for n in (0, CHUNK + 5, 2 * CHUNK + 7):
        put(engine, f"A{n:05d}", "resolved")
    wanted = [f"A{n:05d}" for n in range(2 * CHUNK + 10)]
    with Session(engine) as session:
        found = states_for(session, wanted)
    assert sorted(found) == ["A00000", f"A{CHUNK + 5:05d}", f"A{2 * CHUNK + 7:05d}"]


def test_split_by_state_groups_ids_by_effective_state() -> None:
    states = {"A1": record("acknowledged", "warning"),
              "A2": StoredState("A2", "resolved", "critical", "I", "D", None, "", "x", T0)}  # fmt: skip
    groups = split_by_state(states, {"A1": "critical", "A2": "critical", "A3": "warning"},
                            today=TODAY)  # fmt: skip
    assert groups["open"] == {"A1", "A3"}
    assert groups["resolved"] == {"A2"}
    assert groups["acknowledged"] == set()


def test_view_sees_other_writers_after_a_refresh(engine: Engine) -> None:
    view = AlertStateView(engine)
    assert view.refresh() == 0
    put(engine, "A1", "acknowledged", severity="warning")
    alert = {"alert_id": "A1", "severity": "warning"}
    assert not view.suppresses(alert, today=TODAY)  # not refreshed yet
    assert view.refresh() == 1
    assert view.suppresses(alert, today=TODAY)
    assert not view.suppresses({**alert, "severity": "critical"}, today=TODAY)
    assert not view.suppresses({"alert_id": "A9", "severity": "warning"}, today=TODAY)
    # A refresh reads what changed since the newest state held, minus the overlap: A1
    # (within the overlap) and A2 now; then only A2 (A1 is older than the overlap).
    put(engine, "A2", "resolved", at=T0 + timedelta(hours=1))
    assert view.refresh() == 2
    assert view.refresh() == 1
    assert view.state_of("A2", severity="warning", today=TODAY) == "resolved"


def test_view_lists_the_states_that_hold_on_a_date(engine: Engine) -> None:
    put(engine, "A1", "acknowledged")
    put(engine, "A2", "snoozed", until=date(2026, 11, 3))
    view = AlertStateView(engine)
    view.refresh()
    assert sorted(s.alert_id for s in view.holding(date(2026, 11, 2))) == ["A1", "A2"]
    assert [s.alert_id for s in view.holding(date(2026, 11, 3))] == ["A1"]


def test_view_keeps_the_newer_state(engine: Engine) -> None:
    view = AlertStateView(engine)
    newer = StoredState("A1", "resolved", "warning", "I", "D", None, "", "x", T0)
    older = StoredState("A1", "acknowledged", "warning", "I", "D", None, "", "y", T0 - timedelta(1))
    view.apply(newer)
    view.apply(older)
    assert view.snapshot()["A1"].state == "resolved"
