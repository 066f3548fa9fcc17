"""Demand classification per series (Syntetos-Boylan-Croston).

ADI is the average number of periods between non-zero demands (periods / non-zero
periods); CV2 is the squared coefficient of variation of the non-zero demand sizes.
The classic cutoffs ADI = 1.32 and CV2 = 0.49 split series into four classes:

    smooth (ADI < 1.32, CV2 < 0.49)       erratic (ADI < 1.32, CV2 >= 0.49)
    intermittent (ADI >= 1.32, CV2 < 0.49)  lumpy (ADI >= 1.32, CV2 >= 0.49)

A series with no demand at all has an infinite ADI and no sizes; it is called
intermittent (CV2 taken as 0): the intermittent methods forecast it as zero.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

ADI_CUTOFF = 1.32
CV2_CUTOFF = 0.49
CLASSES = ("smooth", "erratic", "intermittent", "lumpy")


def adi_cv2(y: np.ndarray) -> tuple[float, float]:
    """ADI and CV2 of one series (missing values ignored)."""
    y = np.asarray(y, dtype=float)
    y = y[~np.isnan(y)]
    nonzero = y[y > 0]
    if nonzero.size == 0:
        return float("inf"), 0.0
    adi = y.size / nonzero.size
    mean = nonzero.mean()
    cv2 = float(nonzero.var() / mean**2) if nonzero.size > 1 else 0.0
    return float(adi), cv2


def demand_class(adi: float, cv2: float) -> str:
    if adi < ADI_CUTOFF:
        return "smooth" if cv2 < CV2_CUTOFF else "erratic"
    return "intermittent" if cv2 < CV2_CUTOFF else "lumpy"


def classify(df: pd.DataFrame) -> pd.DataFrame:
    """One row per unique_id: adi, cv2, demand_class, from a long ``unique_id, ds, y`` table."""
    import pandas as pd

    rows = []
    for uid, y in df.groupby("unique_id", sort=True, observed=True)["y"]:
        adi, cv2 = adi_cv2(y.to_numpy())
        rows.append((uid, adi, cv2, demand_class(adi, cv2)))
    return pd.DataFrame(rows, columns=["unique_id", "adi", "cv2", "demand_class"])
