"""The committed holiday seed is what dbt/scripts/make_holidays_seed.py generates."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path
from types import ModuleType

from backend.settings import REPO_ROOT

SCRIPT = REPO_ROOT / "dbt" / "scripts" / "make_holidays_seed.py"
SEED = REPO_ROOT / "dbt" / "seeds" / "br_ba_holidays.csv"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_holidays_seed", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_seed_is_up_to_date(tmp_path: Path) -> None:
    generator = _generator()
    fresh = tmp_path / "br_ba_holidays.csv"
    generator.write_seed(fresh, generator.holiday_rows(generator.FIRST_YEAR, generator.LAST_YEAR))
    assert fresh.read_text() == SEED.read_text(), (
        "dbt/seeds/br_ba_holidays.csv is stale: run `uv run python dbt/scripts/make_holidays_seed.py`"
    )


def test_seed_covers_national_state_and_optional_holidays() -> None:
    with SEED.open() as handle:
        rows = list(csv.DictReader(handle))
    by_date = {(row["holiday_date"], row["holiday_name"]): row["holiday_scope"] for row in rows}
    assert by_date[("2025-12-25", "Christmas Day")] == "national"
    assert by_date[("2025-07-02", "Bahia Independence Day")] == "state"
    assert by_date[("2025-03-04", "Carnival")] == "optional"
    years = {row["holiday_date"][:4] for row in rows}
    assert years == {str(year) for year in range(2015, 2036)}
