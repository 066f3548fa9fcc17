"""What the planner routes share: the app database, the alert-state view and the clock.

:func:`install` wires them into an app once (``app.state.planning``): it reuses the app
database engine of ``app.state.appdb`` when the app has one (else migrates and opens it),
loads the alert-state view, lets the socket's hub ask it which alerts not to push, and
refreshes the view in the background for the app's lifetime.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.engine import Engine

from backend.appdb import upgrade
from backend.appdb.alert_states import AlertStateView

# The planners' calendar (Bahia keeps UTC-3 all year): a snooze "until 2026-11-05" ends
# when that day starts there, not in UTC.
PLANNERS_ZONE = ZoneInfo("America/Bahia")
ALERT_STATE_REFRESH_SECONDS = 2.0


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Planning:
    engine: Engine
    view: AlertStateView
    clock: Callable[[], datetime] = field(default=utc_now)

    def now(self) -> datetime:
        return self.clock().astimezone(UTC)

    def today(self) -> date:
        """The planners' current date (what snoozes are compared with)."""
        return self.clock().astimezone(PLANNERS_ZONE).date()


def install(app: FastAPI) -> Planning:
    settings = app.state.settings
    engine: Engine | None = getattr(app.state, "appdb", None)
    if engine is None:
        engine = upgrade(settings)
        app.state.appdb = engine
    view = AlertStateView(engine, refresh_seconds=ALERT_STATE_REFRESH_SECONDS)
    view.refresh()
    planning = Planning(engine, view)
    app.state.planning = planning
    app.state.hub.suppress = lambda alert: view.suppresses(alert, today=planning.today())

    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[Any]:
        async with inner(app) as state:
            view.start()
            try:
                yield state
            finally:
                await view.stop()

    app.router.lifespan_context = lifespan
    return planning


async def get_planning(request: Request) -> Planning:
    planning: Planning = request.app.state.planning
    return planning


def unprocessable(
    loc: tuple[str | int, ...], message: str, value: Any = None
) -> RequestValidationError:
    """A 422 in the shape of FastAPI's own validation errors (one schema for every 422)."""
    return RequestValidationError(
        [{"type": "value_error", "loc": loc, "msg": message, "input": value}]
    )
