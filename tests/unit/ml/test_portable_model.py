"""The registered model is portable (issue 16, item 6): a small `nova train` on a gold
table registers a pyfunc with a signature, an input example and a horizon param; a fresh
Python process outside the repository loads it with `mlflow.pyfunc.load_model` and
forecasts what the in-process forecaster does. The run records the gold Delta version it
read and logs the residual plots."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from backend.settings import REPO_ROOT, Settings
from ml import registry
from ml.tracking import RESIDUAL_PLOTS
from tests.services.gold import SCHEMAS, write_gold

pytestmark = pytest.mark.slow

END = date(2026, 6, 30)
DAYS = 150
HORIZON = 14


def _demand(seed: int) -> list[dict[str, Any]]:
    """Six item x depot series: steady ones and intermittent ones."""
    rng = np.random.default_rng(seed)
    rows: list[dict[str, Any]] = []
    for n in range(6):
        item, depot = f"ITM{n:03d}", f"DEP{n % 2:02d}"
        for k in range(DAYS):
            day = END - timedelta(days=DAYS - 1 - k)
            qty = int(rng.poisson(4.0)) if n < 3 else int(rng.random() < 0.2) * 3
            rows.append({
                "daily_demand_key": len(rows), "item_id": item, "depot_id": depot,
                "demand_date": day, "demand_qty": qty, "movement_count": int(qty > 0),
                "receipts_qty": 0, "adjustments_qty": 0,
            })  # fmt: skip
    return rows


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from ml.data import load_gold_demand
    from ml.train import train

    root = tmp_path_factory.mktemp("portable")
    settings = Settings(
        env="test",
        lake_root=str(root / "lake"),
        warehouse_dir=root / "warehouse",
        forecast_horizon=HORIZON,
        forecast_history_days=DAYS,
        train_sample_per_class=10,
        train_windows=1,
        forecast_jobs=1,
    )
    # two publishes: the run must record version 1, the one it read
    write_gold(settings, "fct_daily_demand", _demand(1), SCHEMAS["fct_daily_demand"])
    write_gold(settings, "fct_daily_demand", _demand(2), SCHEMAS["fct_daily_demand"])
    summary = train(settings, run_date=END, log=lambda _: None)
    history = load_gold_demand(settings, end=END.isoformat())[["unique_id", "ds", "y"]]
    return {"settings": settings, "summary": summary, "history": history, "root": root}


def test_the_run_records_the_gold_table_version_it_read(trained: dict[str, Any]) -> None:
    from mlflow import MlflowClient

    from backend.lake import delta

    settings: Settings = trained["settings"]
    registry.configure(settings.mlflow_uri, settings.mlflow_artifact_dir)
    run = MlflowClient().get_run(trained["summary"].run_id)
    inputs = run.inputs.dataset_inputs
    assert len(inputs) == 1
    dataset, tags = inputs[0].dataset, {t.key: t.value for t in inputs[0].tags}
    uri = delta.table_uri("gold", "fct_daily_demand", settings=settings)
    assert dataset.name == "gold.fct_daily_demand@v1"
    assert dataset.source_type == "delta_table"
    assert json.loads(dataset.source) == {"path": uri, "delta_table_version": 1}
    assert tags["gold.delta_version"] == "1" and tags["mlflow.data.context"] == "training"
    assert "gold.delta_version_after_read" not in tags  # nothing published meanwhile
    assert json.loads(dataset.profile) == {"num_rows": 6 * DAYS}
    assert [c["name"] for c in json.loads(dataset.schema)["mlflow_colspec"]] == [
        "unique_id", "ds", "y",
    ]  # fmt: skip


def test_the_run_logs_residual_plots_beside_the_forecast_plots(trained: dict[str, Any]) -> None:
    from mlflow import MlflowClient

    settings: Settings = trained["settings"]
    registry.configure(settings.mlflow_uri, settings.mlflow_artifact_dir)
    plots = {a.path for a in MlflowClient().list_artifacts(trained["summary"].run_id, "plots")}
    assert {*RESIDUAL_PLOTS, "plots/forecast_vs_actuals.png"} <= plots
    local = MlflowClient().download_artifacts(
        trained["summary"].run_id, RESIDUAL_PLOTS[1], str(trained["root"] / "dl")
    )
    assert Path(local).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_model_has_a_signature_an_input_example_and_a_horizon_param(
    trained: dict[str, Any],
) -> None:
    import mlflow

    settings: Settings = trained["settings"]
    registry.configure(settings.mlflow_uri, settings.mlflow_artifact_dir)
    info = mlflow.models.get_model_info(
        f"models:/{registry.MODEL_NAME}/{trained['summary'].version}"
    )
    assert info.signature.inputs.input_names() == ["unique_id", "ds", "y"]
    assert {"yhat", "yhat_lo_80", "yhat_hi_95", "step"} <= set(info.signature.outputs.input_names())
    (horizon,) = info.signature.params.params
    assert (horizon.name, horizon.dtype.name, horizon.default) == ("horizon", "long", HORIZON)
    assert info.saved_input_example_info is not None
    assert "code" in info.flavors["python_function"]  # the ml package travels with it


def test_the_example_forecasts_and_the_input_is_validated(trained: dict[str, Any]) -> None:
    import mlflow.pyfunc

    settings: Settings = trained["settings"]
    registry.configure(settings.mlflow_uri, settings.mlflow_artifact_dir)
    model = mlflow.pyfunc.load_model(f"models:/{registry.MODEL_NAME}/{trained['summary'].version}")
    # the logged example is the training history's shape and forecasts as it is
    example = model.input_example
    assert list(example.columns) == ["unique_id", "ds", "y"] and example["unique_id"].nunique() == 2
    assert len(model.predict(example, params={"horizon": 3})) == 2 * 3
    with pytest.raises(Exception, match="horizon"):
        model.predict(trained["history"], params={"horizon": 0})
    with pytest.raises(Exception, match=r"missing|lacks"):
        model.predict(trained["history"].drop(columns=["y"]), params={"horizon": 7})


LOADER = textwrap.dedent(
    """
    import importlib.util, json, os, sys
    repo, uri, model_uri, history, out = sys.argv[1:6]
    # the venv's editable install puts the repository on the path: take it off, so that
    # only what the model ships can be imported
    sys.path[:] = [p for p in sys.path if os.path.realpath(p or os.getcwd()) != repo]
    assert importlib.util.find_spec("ml") is None, "the repository is still importable"
    assert importlib.util.find_spec("backend") is None, "the repository is still importable"
    import mlflow, mlflow.pyfunc, pandas as pd
    mlflow.set_tracking_uri(uri)
    model = mlflow.pyfunc.load_model(model_uri)
    frame = pd.read_parquet(history)
    for h in (7, 14):
        model.predict(frame, params={"horizon": h}).to_parquet(f"{out}/h{h}.parquet")
    import ml
    print(json.dumps({"ml": ml.__file__, "backend": "backend" in sys.modules}))
    """
)


def test_a_fresh_process_outside_the_repository_loads_the_model_and_forecasts(
    trained: dict[str, Any], tmp_path: Path
) -> None:
    settings: Settings = trained["settings"]
    history: pd.DataFrame = trained["history"]
    history.to_parquet(tmp_path / "history.parquet")
    script = tmp_path / "load_model.py"
    script.write_text(LOADER)
    model_uri = f"models:/{registry.MODEL_NAME}/{trained['summary'].version}"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, str(script), str(REPO_ROOT.resolve()), settings.mlflow_uri, model_uri,
         str(tmp_path / "history.parquet"), str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    # the ml package came from the model's own artifacts, and nothing of backend/ was needed
    assert not Path(loaded["ml"]).resolve().is_relative_to(REPO_ROOT.resolve())
    assert Path(loaded["ml"]).parts[-3:] == ("code", "ml", "__init__.py")
    assert loaded["backend"] is False

    registry.configure(settings.mlflow_uri, settings.mlflow_artifact_dir)
    forecaster, _ = registry.load(registry.CHALLENGER)
    series = history["unique_id"].nunique()
    for h in (7, 14):
        served = pd.read_parquet(tmp_path / f"h{h}.parquet")
        assert len(served) == series * h
        assert set(served.groupby("unique_id")["step"].max()) == {h}
        bands = [c for c in served.columns if c.startswith("yhat")]
        assert (served[bands] >= 0).all().all()
        expected = forecaster.predict(history, h)
        pd.testing.assert_frame_equal(
            served.reset_index(drop=True), expected.reset_index(drop=True),
            check_dtype=False, rtol=1e-6,
        )  # fmt: skip
