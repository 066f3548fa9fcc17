"""Freshness on the run date D, from the bronze rows' own dates (never the clock)."""

from __future__ import annotations

from datetime import date

import pyarrow as pa

from backend.ingest.base import bronze_uri
from backend.lake import delta
from backend.pipeline import freshness
from backend.settings import Settings

D = date(2026, 10, 31)


def _bacen(settings: Settings, rows: list[tuple[str, date]]) -> None:
    """BACEN rows: (the value's date dd/MM/yyyy, the partition it landed in)."""
    table = pa.table(
        {
            "data": [r[0] for r in rows],
            delta.PARTITION_COLUMN: pa.array([r[1] for r in rows], pa.date32()),
        }
    )
    uri = bronze_uri("bacen", "series", settings)
    delta.overwrite_partitions(uri, table, date(2026, 1, 1), D, settings)


def test_a_source_that_resends_old_values_is_stale(settings: Settings):
    # The daily run of D got only lookback values, clamped into D's partition.
    _bacen(settings, [("20/10/2026", date(2026, 10, 20)), ("19/10/2026", D)])
    check = freshness.check("bacen", D, settings)
    assert (check.status, check.newest, check.age_days) == ("stale", date(2026, 10, 20), 11)
    assert "NOVA_FRESHNESS_BACEN_DAYS" in check.reason


def test_freshness_is_judged_on_d_not_on_later_data(settings: Settings):
    _bacen(settings, [("28/10/2026", date(2026, 10, 28)), ("05/11/2026", D)])
    assert freshness.check("bacen", D, settings).age_days == 3  # Nov 5 is after D
    # re-judging an older date sees only what was there by then
    assert freshness.check("bacen", date(2026, 10, 29), settings).status == "fresh"
    limit = settings.model_copy(update={"freshness_bacen_days": 2})
    assert freshness.check("bacen", D, limit).status == "stale"


def test_a_source_with_no_data_is_stale_and_a_failed_extract_is_failed(settings: Settings):
    assert freshness.check("inmet", D, settings).status == "stale"
    failed = freshness.check("inmet", D, settings, extracted=False)
    assert (failed.status, failed.newest) == ("failed", None)
    # Anatel's snapshot is fresh when read
    assert freshness.check("anatel", D, settings).as_dict()["newest"] == "2026-10-31"
