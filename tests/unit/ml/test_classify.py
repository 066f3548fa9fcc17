"""Syntetos-Boylan demand classes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.classify import adi_cv2, classify, demand_class


def test_adi_and_cv2_by_hand():
    # 8 periods, 4 with demand: ADI = 2; sizes 2, 4, 2, 4: mean 3, var 1 -> CV2 = 1/9
    adi, cv2 = adi_cv2(np.array([2, 0, 4, 0, 2, 0, 4, 0]))
    assert adi == 2.0
    assert cv2 == pytest.approx(1 / 9)


@pytest.mark.parametrize(
    ("adi", "cv2", "expected"),
    [
        (1.0, 0.1, "smooth"),
        (1.31, 0.48, "smooth"),
        (1.0, 0.49, "erratic"),
        (1.32, 0.1, "intermittent"),
        (3.0, 0.49, "lumpy"),
    ],
)
def test_cutoffs(adi: float, cv2: float, expected: str):
    assert demand_class(adi, cv2) == expected


def test_classify_a_long_table():
    df = pd.DataFrame(
        {
            "unique_id": ["a"] * 6 + ["b"] * 6 + ["c"] * 6 + ["d"] * 6,
            "ds": list(pd.date_range("2024-01-01", periods=6, freq="D")) * 4,
            "y": [
                *[5, 5, 6, 5, 5, 6],  # smooth
                *[1, 9, 1, 12, 1, 9],  # erratic: every period, sizes vary a lot
                *[0, 0, 3, 0, 0, 3],  # intermittent
                *[0, 0, 1, 0, 0, 20],  # lumpy
            ],
        }
    )
    out = classify(df).set_index("unique_id")["demand_class"].to_dict()
    assert out == {"a": "smooth", "b": "erratic", "c": "intermittent", "d": "lumpy"}


def test_no_demand_and_missing_values():
    adi, cv2 = adi_cv2(np.array([0.0, 0.0, np.nan]))
    assert adi == float("inf") and cv2 == 0.0
    assert demand_class(adi, cv2) == "intermittent"
    # missing periods are ignored, not read as zero
    assert adi_cv2(np.array([3.0, np.nan, 3.0]))[0] == 1.0
