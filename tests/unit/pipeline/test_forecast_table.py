"""The forecast step's output table: the pairs joined to the forecasts and the Arrow rows,
built from runs of repeated values, equal to the row-by-row conversions."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa

from backend.pipeline.forecast import to_table, with_pairs

D = date(2026, 10, 31)


def _history(categorical: bool) -> pd.DataFrame:
    ids = ["I1|D2", "I1|D2", "I2|D1", "I3|D1", "I3|D1"]
    frame = pd.DataFrame(
        {
            "unique_id": ids,
            "item_id": [i.split("|")[0] for i in ids],
            "depot_id": [i.split("|")[1] for i in ids],
            "ds": pd.to_datetime(["2026-10-30", "2026-10-31"] * 2 + ["2026-10-31"]),
            "y": [1.0, 2.0, 3.0, 4.0, 5.0],
        }
    )
    if categorical:
        for c in ("unique_id", "item_id", "depot_id"):
            frame[c] = pd.Categorical(frame[c], ordered=True)
    return frame


def _forecasts() -> pd.DataFrame:
    # two rows a series; I9|D9 has no pair in the history and is left out
    ids = ["I2|D1", "I2|D1", "I9|D9", "I9|D9", "I1|D2", "I1|D2"]
    n = len(ids)
    return pd.DataFrame(
        {
            "unique_id": np.array(ids, dtype=object),
            "ds": pd.to_datetime(["2026-11-01", "2026-11-02"] * 3),
            "step": [1, 2] * 3,
            "demand_class": np.array(["smooth"] * 4 + ["lumpy"] * 2, dtype=object),
            "yhat": np.arange(n, dtype=float),
            "yhat_lo_80": np.zeros(n),
            "yhat_hi_80": np.ones(n),
            "yhat_lo_95": np.zeros(n),
            "yhat_hi_95": np.full(n, 2.0),
            "model_name": np.array(["A+B"] * 2 + ["A"] * 4, dtype=object),
        }
    )


def test_pairs_of_categorical_and_plain_histories_are_the_same() -> None:
    fc = _forecasts()
    plain = with_pairs(fc, _history(False))
    cat = with_pairs(fc, _history(True))
    pd.testing.assert_frame_equal(plain, cat)
    assert plain["unique_id"].tolist() == ["I2|D1", "I2|D1", "I1|D2", "I1|D2"]
    assert plain["item_id"].tolist() == ["I2", "I2", "I1", "I1"]
    assert plain["depot_id"].tolist() == ["D1", "D1", "D2", "D2"]
    assert "item_id" not in fc  # the input is left as it was


def test_table_strings_equal_the_row_by_row_conversion() -> None:
    frame = with_pairs(_forecasts(), _history(True))
    table = to_table(frame, D, "7")
    for column in ("unique_id", "item_id", "depot_id", "demand_class", "model_name"):
        want = pa.array(frame[column].astype(str), type=pa.string())
        assert table[column].combine_chunks().equals(want), column
    assert table["model_version"].to_pylist() == ["7"] * 4
    assert table["horizon_day"].to_pylist() == [1, 2, 1, 2]
