"""The carparts loader: monthly long table, missing months never read as zero."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ml.data import load_carparts, read_long_table

CARPARTS = Path(__file__).resolve().parents[4] / "shared" / "data" / "carparts" / "carparts.csv.gz"


def _write(tmp_path: Path) -> Path:
    path = tmp_path / "parts.csv"
    path.write_text(
        "part_id,month,demand\n"
        "1,1998-01,0\n1,1998-02,3\n1,1998-03,0\n"
        "2,1998-01,1\n2,1998-02,\n2,1998-03,\n"
    )
    return path


def test_series_with_missing_months_are_dropped_or_trimmed(tmp_path: Path):
    path = _write(tmp_path)
    full = load_carparts(path)
    assert full["unique_id"].unique().tolist() == ["1"]
    assert full["ds"].tolist() == list(pd.date_range("1998-01-01", periods=3, freq="MS"))
    trimmed = load_carparts(path, missing="trim")
    assert trimmed.groupby("unique_id").size().to_dict() == {"1": 3, "2": 1}
    assert not trimmed["y"].isna().any()


@pytest.mark.skipif(not CARPARTS.exists(), reason="the shared carparts file is not on this machine")
def test_the_real_carparts_data():
    df = load_carparts(CARPARTS)
    assert df["unique_id"].nunique() == 2509  # 2,674 minus the 165 with missing months
    assert df.groupby("unique_id").size().unique().tolist() == [51]
    assert df["ds"].min() == pd.Timestamp("1998-01-01")
    assert (df["y"] >= 0).all()
    assert load_carparts(CARPARTS, missing="trim")["unique_id"].nunique() == 2674


def test_read_long_table_needs_the_columns(tmp_path: Path):
    path = tmp_path / "x.csv"
    path.write_text("id,ds,y\n1,2024-01-01,1\n")
    with pytest.raises(ValueError, match="unique_id"):
        read_long_table(path)
