"""/kpis from per-depot figures computed once per published gold version
(backend/api/routes/kpis.py): every depot, scope and window sums them, and a new version
computes them again."""

from __future__ import annotations

from datetime import date

import pytest

from backend.api.principal import Principal
from backend.api.routes import kpis
from backend.events.outbox import bump_gold_version
from backend.lake.reader import GoldReader
from backend.settings import Settings
from tests.services.gold import DEPOTS, RUN_DATE, SCHEMAS, build_gold, reorder_rows, write_gold

EVERYONE = Principal(kind="key", subject="k", role="viewer")


def _published(settings: Settings, run: str) -> GoldReader:
    return GoldReader.published(settings, bump_gold_version(settings, run, RUN_DATE))


def test_each_depot_adds_up_to_every_depot(settings: Settings) -> None:
    build_gold(settings, version=None)
    reader = _published(settings, "r1")
    whole = kpis.build_kpis(reader, principal=EVERYONE, depot_id=None, months=12, weeks=12)
    parts = [
        kpis.build_kpis(reader, principal=EVERYONE, depot_id=d, months=12, weeks=12) for d in DEPOTS
    ]
    assert whole.stock_value == sum(p.stock_value for p in parts) == 6 * 250.0
    assert whole.open_alerts.total == sum(p.open_alerts.total for p in parts) == 4
    assert whole.at_risk.pairs == sum(p.at_risk.pairs for p in parts) == 3
    assert whole.fill_rate.stockout_days == sum(p.fill_rate.stockout_days for p in parts) == 4
    assert whole.fill_rate.issued_qty == sum(p.fill_rate.issued_qty for p in parts)
    assert [w.points for w in whole.accuracy_by_week] == [
        sum(p.accuracy_by_week[n].points for p in parts) for n in range(9)
    ]
    # a depot outside the caller's scope gives nothing, as the SQL filter did
    scoped = Principal(kind="key", subject="k", role="viewer", depots=("DEP02",))
    hidden = kpis.build_kpis(reader, principal=scoped, depot_id="DEP01", months=12, weeks=12)
    assert hidden.stock_value == 0 and hidden.open_alerts.total == 0
    assert hidden.stock_value_by_month == [] and hidden.accuracy_by_week == []
    assert hidden.fill_rate.issued_qty == 0 and hidden.fill_rate.fill_rate is None


@pytest.mark.parametrize(("months", "weeks"), [(1, 1), (2, 3), (60, 104)])
def test_windows_cut_the_same_figures(settings: Settings, months: int, weeks: int) -> None:
    build_gold(settings, version=None)
    reader = _published(settings, "r1")
    body = kpis.build_kpis(reader, principal=EVERYONE, depot_id=None, months=months, weeks=weeks)
    assert [p.snapshot_date for p in body.stock_value_by_month] == [
        date(2026, 9, 30), RUN_DATE
    ][-months:]  # fmt: skip
    # one-day-ahead targets Sep 1..Oct 31 of the fixture: nine ISO weeks
    assert len(body.accuracy_by_week) == min(weeks, 9)
    assert body.accuracy_by_week[-1].week_start == date(2026, 10, 26)


def test_figures_are_computed_once_per_version(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_gold(settings, version=None)
    first = _published(settings, "r1")
    computed: list[GoldReader] = []
    real = kpis.depot_kpis

    def counting(reader: GoldReader) -> kpis.DepotKpis:
        computed.append(reader)
        return real(reader)

    monkeypatch.setattr(kpis, "depot_kpis", counting)
    for depot in (None, *DEPOTS, None):
        kpis.build_kpis(first, principal=EVERYONE, depot_id=depot, months=12, weeks=12)
    assert len(computed) == 1 and kpis.PER_VERSION.ready(first) is not None
    # A new run's reorder points: the next version computes its figures again.
    write_gold(settings, "fct_reorder_points", reorder_rows(on_hand=5.0),
               SCHEMAS["fct_reorder_points"])  # fmt: skip
    second = _published(settings, "r2")
    assert kpis.PER_VERSION.ready(second) is None
    kpis.build_kpis(second, principal=EVERYONE, depot_id=None, months=12, weeks=12)
    assert len(computed) == 2
