"""The Spark forecast engine against the in-process one, on synthetic series and a small
trained ensemble (cheap candidates and a frozen LightGBM): same rows, same order, same
values, and D's partition replaced on a re-run."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from deltalake import DeltaTable

from backend.lake.spark import local_session
from backend.pipeline.forecast import to_table, write_forecasts
from backend.pipeline.forecast_spark import forecast_to_delta
from backend.settings import Settings
from ml.model import DemandForecaster, cheap_candidates, train_ensemble
from ml.models.gbm import LightGBMGlobal

pytestmark = pytest.mark.spark

D = date(2026, 10, 31)
H = 14


def _history() -> pd.DataFrame:
    """60 item x depot series over 300 days: half of them frequent, half intermittent."""
    rng = np.random.default_rng(7)
    days = pd.date_range(end=pd.Timestamp(D), periods=300, freq="D")
    frames = []
    for i in range(60):
        sells = rng.random(days.size) < (0.8 if i % 2 else 0.15)
        frames.append(
            pd.DataFrame(
                {
                    "unique_id": f"I{i:03d}|D{i % 3}",
                    "item_id": f"I{i:03d}",
                    "depot_id": f"D{i % 3}",
                    "ds": days,
                    "y": (rng.poisson(3, days.size) * sells).astype(float),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def trained() -> tuple[pd.DataFrame, DemandForecaster]:
    history = _history()
    gbm = LightGBMGlobal(n_jobs=1, num_boost_round=20)
    model = train_ensemble(
        history[["unique_id", "ds", "y"]],
        freq="D",
        h=H,
        candidates=cheap_candidates(7, window=28, gbm=gbm),
        n_windows=1,
        n_jobs=1,
    ).model
    gbm.frozen = True  # as `nova train` leaves it: the daily run only predicts
    return history, model


def test_spark_engine_writes_the_in_process_rows(trained, tmp_path: Path):
    history, model = trained
    settings = Settings(
        env="test",
        lake_root=str(tmp_path / "lake"),
        warehouse_dir=tmp_path / "warehouse",
        forecast_horizon=H,
        spark_driver_memory="2g",
    )
    predicted = model.predict(history[["unique_id", "ds", "y"]], H, n_jobs=1)
    pairs = history.drop_duplicates("unique_id")[["unique_id", "item_id", "depot_id"]]
    expected = to_table(predicted.merge(pairs, on="unique_id"), D, "3")

    spark = local_session(settings)
    frame = spark.createDataFrame(history).selectExpr(
        "unique_id", "item_id", "depot_id", "cast(ds as timestamp_ntz) as ds", "y"
    )
    uri = str(tmp_path / "lake" / "ml" / "ml_forecasts")
    # another date's partition, which the run must leave alone
    write_forecasts(uri, expected.slice(0, H).set_column(0, "forecast_date",
                    [[date(2026, 10, 30)] * H]), date(2026, 10, 30), settings)  # fmt: skip
    for _ in range(2):  # the second run replaces D's partition
        result = forecast_to_delta(spark, settings, frame, model, "3", D, uri, groups=4)
    assert (result.rows_read, result.series, result.groups) == (60 * 300, 60, 4)
    assert result.rows_written == 60 * H
    assert result.pairs.column_names == ["unique_id", "item_id", "depot_id", "demand_class"]
    assert result.pairs.num_rows == 60
    # the workers' staging directory is gone once the commit is made
    assert not any((tmp_path / "warehouse" / "spark" / "staging").glob("*"))

    table = DeltaTable(uri)
    got = table.to_pyarrow_table(filters=[("forecast_date", "=", D)])
    assert got.schema == expected.schema
    assert got.num_rows == expected.num_rows
    assert table.to_pyarrow_table().num_rows == expected.num_rows + H
    want, have = expected.to_pandas(), got.to_pandas()
    exact = [c for c in want if not c.startswith("yhat")]
    # same rows in the same order (unique_id, horizon_day), so the files sort like the
    # in-process engine's
    pd.testing.assert_frame_equal(have[exact], want[exact])
    for column in [c for c in want if c.startswith("yhat")]:
        np.testing.assert_allclose(have[column], want[column], rtol=1e-9, atol=1e-9)
    assert (have["yhat"] > 0).any()
