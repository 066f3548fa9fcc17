"""Write dbt/seeds/br_ba_holidays.csv: Brazilian national and Bahia holidays, 2015-2035.

Run from the repository root when the `holidays` package or the year range changes:

    uv run python dbt/scripts/make_holidays_seed.py

One row per (date, holiday); a date may carry several holidays. `holiday_scope` is
`national` (public holiday in all of Brazil), `state` (public holiday in Bahia only) or
`optional` (ponto facultativo, e.g. Carnival, Ash Wednesday, Corpus Christi).
The output is sorted, so re-running with the same package version gives the same file.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
from pathlib import Path

import holidays

FIRST_YEAR = 2015
LAST_YEAR = 2035
SUBDIVISION = "BA"
DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "seeds" / "br_ba_holidays.csv"
SCOPES = ("national", "state", "optional")


def _named_days(calendar: holidays.HolidayBase) -> set[tuple[dt.date, str]]:
    return {(day, name) for day in calendar for name in calendar.get_list(day)}


def holiday_rows(first_year: int, last_year: int) -> list[tuple[dt.date, str, str]]:
    years = range(first_year, last_year + 1)
    national = _named_days(holidays.country_holidays("BR", years=years))
    bahia = _named_days(holidays.country_holidays("BR", subdiv=SUBDIVISION, years=years))
    optional = _named_days(
        holidays.country_holidays(
            "BR", subdiv=SUBDIVISION, years=years, categories=(holidays.OPTIONAL,)
        )
    )
    by_scope = {
        "national": national,
        "state": bahia - national,
        "optional": optional - bahia,
    }
    rows = [(day, name, scope) for scope in SCOPES for day, name in by_scope[scope]]
    return sorted(rows, key=lambda row: (row[0], SCOPES.index(row[2]), row[1]))


def write_seed(path: Path, rows: list[tuple[dt.date, str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["holiday_date", "holiday_name", "holiday_scope"])
        for day, name, scope in rows:
            writer.writerow([day.isoformat(), name, scope])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--first-year", type=int, default=FIRST_YEAR)
    parser.add_argument("--last-year", type=int, default=LAST_YEAR)
    args = parser.parse_args()
    rows = holiday_rows(args.first_year, args.last_year)
    write_seed(args.output, rows)
    print(f"wrote {len(rows)} holidays to {args.output}")


if __name__ == "__main__":
    main()
