"""load_gold_demand's censoring hook: stockout days from gold fct_stockout_days."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from deltalake import write_deltalake

from backend.lake import delta
from backend.settings import Settings
from ml.data import load_gold_demand


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    s = Settings(lake_root=str(tmp_path / "lake"), warehouse_dir=tmp_path / "wh")
    days = [dt.date(2026, 10, d) for d in (1, 2, 3, 4)]
    demand = pd.DataFrame(
        {
            "item_id": ["ITM1"] * 4,
            "depot_id": ["DEP1"] * 4,
            "demand_date": days,
            "demand_qty": [3, 2, 0, 1],
        }
    )
    write_deltalake(delta.table_uri("gold", "fct_daily_demand", settings=s), demand)
    states = pd.DataFrame(
        {
            "item_id": ["ITM1", "ITM1"],
            "depot_id": ["DEP1", "DEP1"],
            "stock_date": [days[1], days[2]],
            "stock_state": ["cut", "out"],
            "available_qty": [2.0, 0.0],
            "recorded_qty": [2.0, 0.0],
        }
    )
    write_deltalake(delta.table_uri("gold", "fct_stockout_days", settings=s), states)
    return s


def test_keep_returns_recorded_demand_unchanged(settings: Settings) -> None:
    df = load_gold_demand(settings)
    assert df["y"].tolist() == [3.0, 2.0, 0.0, 1.0]
    assert "stock_state" not in df.columns


def test_mark_and_missing_flag_the_stockout_days(settings: Settings) -> None:
    marked = load_gold_demand(settings, censored="mark")
    assert marked["stock_state"].tolist()[1:3] == ["cut", "out"]
    assert marked["stock_state"].isna().tolist() == [True, False, False, True]
    assert marked["y"].tolist() == [3.0, 2.0, 0.0, 1.0]
    missing = load_gold_demand(settings, censored="missing")
    # the day without stock is unknown demand, not zero; the cut day keeps its at-least value
    assert np.isnan(missing["y"].iloc[2])
    assert missing["y"].iloc[[0, 1, 3]].tolist() == [3.0, 2.0, 1.0]


def test_bad_option_is_refused(settings: Settings) -> None:
    with pytest.raises(ValueError, match="keep, mark, missing or impute"):
        load_gold_demand(settings, censored="drop")  # type: ignore[arg-type]


def test_impute_replaces_the_stockout_day_by_the_recent_rate(settings: Settings) -> None:
    df = load_gold_demand(settings, censored="impute")
    # day 3 was out: the mean of days 1-2 (3 and the cut day's at-least 2); the cut day and
    # the others keep their recorded values, which y_recorded keeps for every day
    assert df["y"].tolist() == [3.0, 2.0, 2.5, 1.0]
    assert df["y_recorded"].tolist() == [3.0, 2.0, 0.0, 1.0]
    assert df["stock_state"].tolist()[1:3] == ["cut", "out"]


def test_categorical_ids_are_sorted_enums_of_the_window(tmp_path: Path) -> None:
    """The categorical reader's enums hold exactly the pairs, items and depots of the
    window read (sorted), and the rows equal the plain reader's."""
    s = Settings(lake_root=str(tmp_path / "lake"), warehouse_dir=tmp_path / "wh")
    day = dt.date(2026, 10, 1)
    demand = pd.DataFrame(
        {
            "item_id": ["ITM2", "ITM1", "ITM2", "ITM3", "ITM9"],
            "depot_id": ["DEP1", "DEP2", "DEP2", "DEP1", "DEP3"],
            # ITM9|DEP3 only before the window: in no enum
            "demand_date": [day, day, day + dt.timedelta(1), day, day - dt.timedelta(5)],
            "demand_qty": [1, 2, 3, 4, 5],
        }
    )
    write_deltalake(delta.table_uri("gold", "fct_daily_demand", settings=s), demand)
    cat = load_gold_demand(s, end="2026-10-02", days=2, categorical=True)
    plain = load_gold_demand(s, end="2026-10-02", days=2)
    assert list(cat["unique_id"].cat.categories) == ["ITM1|DEP2", "ITM2|DEP1", "ITM2|DEP2",
                                                     "ITM3|DEP1"]  # fmt: skip
    assert list(cat["item_id"].cat.categories) == ["ITM1", "ITM2", "ITM3"]
    assert list(cat["depot_id"].cat.categories) == ["DEP1", "DEP2"]
    assert cat["unique_id"].astype(str).tolist() == plain["unique_id"].tolist()
    assert cat["y"].tolist() == plain["y"].tolist() == [2.0, 1.0, 3.0, 4.0]


@pytest.mark.parametrize("censored", ["keep", "mark", "missing", "impute"])
def test_categorical_reader_equals_the_plain_one(settings: Settings, censored: str) -> None:
    """The categorical reader (numbers from DuckDB, categoricals built from codes) returns
    the plain reader's rows, columns and values, the stock states included."""
    cat = load_gold_demand(settings, censored=censored, categorical=True)  # type: ignore[arg-type]
    plain = load_gold_demand(settings, censored=censored)  # type: ignore[arg-type]
    assert list(cat.columns) == list(plain.columns)
    for column in ("unique_id", "item_id", "depot_id"):
        assert isinstance(cat[column].dtype, pd.CategoricalDtype)
        assert cat[column].astype(str).tolist() == plain[column].tolist()
    rest = [c for c in plain.columns if c not in ("unique_id", "item_id", "depot_id")]
    pd.testing.assert_frame_equal(cat[rest], plain[rest])
    if censored != "keep":
        assert cat["stock_state"].tolist() == [None, "cut", "out", None]


def test_categorical_reader_with_a_state_listed_twice_repeats_rows_as_the_join(
    settings: Settings,
) -> None:
    """A stock state listed twice for a pair and day (gold lists each once) repeats the
    day's row, as the plain reader's join does; a day recorded twice keeps both rows."""
    day = dt.date(2026, 10, 2)
    twice = pd.DataFrame(
        {
            "item_id": ["ITM1"],
            "depot_id": ["DEP1"],
            "stock_date": [day],
            "stock_state": ["cut"],
            "available_qty": [2.0],
            "recorded_qty": [2.0],
        }
    )
    write_deltalake(delta.table_uri("gold", "fct_stockout_days", settings=settings), twice,
                    mode="append")  # fmt: skip
    cat = load_gold_demand(settings, censored="mark", categorical=True)
    plain = load_gold_demand(settings, censored="mark")
    assert len(cat) == len(plain) == 5
    assert cat["unique_id"].astype(str).tolist() == plain["unique_id"].tolist()
    assert cat["stock_state"].tolist() == plain["stock_state"].tolist()
    assert cat["y"].tolist() == plain["y"].tolist()
