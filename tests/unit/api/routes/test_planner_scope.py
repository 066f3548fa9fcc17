"""A depot-scoped caller sees only its depots on /actions, /series and /kpis: the build
functions over a real (temporary) gold lake, with a scoped Principal (sessions and scoped
users come from the auth work; the routes pass the caller's Principal through unchanged)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import HTTPException

from backend.api.principal import Principal
from backend.api.routes.actions import build_actions
from backend.api.routes.kpis import build_kpis
from backend.api.routes.series import build_series
from backend.lake.reader import GoldReader
from backend.settings import Settings
from tests.services.gold import build_gold

EVERYONE = Principal(kind="key", subject="k1", role="viewer")
DEP02_ONLY = Principal(kind="session", subject="u1", role="planner", depots=("DEP02",))


@pytest.fixture(scope="module")
def reader(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GoldReader]:
    root: Path = tmp_path_factory.mktemp("scope")
    settings = Settings(env="test", lake_root=str(root / "lake"), warehouse_dir=root / "wh")
    build_gold(settings)
    yield GoldReader(settings)


def _actions(reader: GoldReader, principal: Principal, **filters: str) -> set[str]:
    page = build_actions(
        reader, principal=principal, filters=filters, sort="-priority", limit=100, offset=0
    )
    return {row.depot_id for row in page.data}


def test_actions_are_restricted_to_the_scope(reader: GoldReader) -> None:
    assert _actions(reader, EVERYONE) == {"DEP01", "DEP02"}
    assert _actions(reader, DEP02_ONLY) == {"DEP02"}
    assert _actions(reader, DEP02_ONLY, depot_id="DEP01") == set()


def test_actions_alert_id_seam(reader: GoldReader) -> None:
    """The acknowledgement filter's seam: alert ids to keep or to leave out."""

    def ids(**seam: list[str]) -> set[str]:
        page = build_actions(reader, principal=EVERYONE, filters={}, sort="action_id",
                             limit=100, offset=0, **seam)  # fmt: skip
        return {row.action_id for row in page.data}

    assert ids(include_alert_ids=["AL-1", "AL-2"]) == {"ACT-ITM001-DEP01", "ACT-ITM002-DEP02"}
    # leaving alerts out keeps the lines without an alert
    assert ids(exclude_alert_ids=["AL-1", "AL-2", "AL-3"]) == {
        "ACT-ITM001-DEP02", "ACT-ITM002-DEP01",
    }  # fmt: skip


def test_series_of_another_depot_is_not_found(reader: GoldReader) -> None:
    common = {"category": None, "grain": "day", "start": None, "end": None}
    with pytest.raises(HTTPException) as caught:
        build_series(reader, principal=DEP02_ONLY, item_id="ITM001", depot_id="DEP01", **common)
    assert caught.value.status_code == 404
    everything = build_series(reader, principal=DEP02_ONLY, item_id=None, depot_id=None,
                              **common)  # fmt: skip
    assert everything.series_count == 3  # DEP02's three items, not six
    assert everything.history[-1].on_hand == 3 * 20


def test_kpis_are_restricted_to_the_scope(reader: GoldReader) -> None:
    scoped = build_kpis(reader, principal=DEP02_ONLY, depot_id=None, months=12, weeks=12)
    everyone = build_kpis(reader, principal=EVERYONE, depot_id=None, months=12, weeks=12)
    assert (scoped.stock_value, everyone.stock_value) == (3 * 250.0, 6 * 250.0)
    assert (scoped.open_alerts.total, everyone.open_alerts.total) == (1, 4)
    assert (scoped.at_risk.pairs, everyone.at_risk.pairs) == (1, 3)
    assert scoped.fill_rate.stockout_days == 2
    assert sum(w.points for w in scoped.accuracy_by_week) * 2 == sum(
        w.points for w in everyone.accuracy_by_week
    )
