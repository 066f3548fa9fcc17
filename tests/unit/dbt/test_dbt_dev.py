"""The analysts' side of the dbt project: the `dev` target builds in the analyst's own
directory and never touches the served gold; the selectors name the pipeline's builds;
the exposures list what the API and the forecaster read (dbt/profiles.yml, selectors.yml,
models/exposures.yml)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest
from deltalake import DeltaTable

from backend.ingest.base import ensure_bronze_tables, get_source
from backend.lake.gold import content_hash
from backend.lake.reader import write_gold_version
from backend.pipeline.steps import DAILY_EXCLUDE, FORECAST_TAG
from backend.settings import REPO_ROOT, Settings
from tests.unit.dbt.runner import invoke_dbt
from tests.unit.dbt.test_dbt_build import EXTERNAL_SOURCES, RUN_DATE, _build_bronze

DBT_DIR = REPO_ROOT / "dbt"
ANALYST = "ana"
BUILT = {"model", "seed", "snapshot", "test", "unit_test"}


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``root`` with its size and modification time."""
    return {
        str(path.relative_to(root)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def _gold_versions(gold: Path) -> dict[str, int]:
    return {table.name: DeltaTable(str(table)).version() for table in sorted(gold.iterdir())
            if (table / "_delta_log").is_dir()}  # fmt: skip


# --- the dev target --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lakes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A tiny lake built and published by the production target, then the analyst's
    `dbt build --target dev` run on it the way the README says (plain dbt CLI in dbt/)."""
    work = tmp_path_factory.mktemp("dbt_dev")
    lake, warehouse = work / "lake", work / "warehouse"
    _build_bronze(lake)
    settings = Settings(lake_root=str(lake), warehouse_dir=warehouse)
    for name in (*EXTERNAL_SOURCES, "erp"):
        ensure_bronze_tables(get_source(name), settings)
    run_date = ["--vars", f"{{run_date: '{RUN_DATE}'}}"]
    served = invoke_dbt(["build", *run_date, "--exclude", FORECAST_TAG], settings)
    assert served.success, served.exception
    versions = _gold_versions(lake / "gold")
    write_gold_version(settings, "served-1", {"tables": versions})
    before = {"gold": _tree(lake / "gold"), "bronze": _tree(lake / "bronze"),
              "versions": versions}  # fmt: skip

    env = {
        **os.environ,
        "NOVA_LAKE_ROOT": str(lake),
        "NOVA_WAREHOUSE_DIR": str(warehouse),
        "USER": ANALYST,
    }
    env.pop("NOVA_DEV_DIR", None)
    dbt = Path(sys.executable).parent / "dbt"
    # dbt finds profiles.yml in its working directory; target and logs go to the temp dir
    # only so that parallel test workers do not share dbt/target.
    done = subprocess.run(
        [str(dbt), "build", "--target", "dev", "--selector", "daily_transform", *run_date,
         "--target-path", str(work / "dev-target"), "--log-path", str(work / "dev-logs")],
        cwd=DBT_DIR, env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    return {"lake": lake, "dev_dir": warehouse / "dev" / ANALYST, "before": before,
            "settings": settings}  # fmt: skip


@pytest.mark.slow
def test_a_dev_build_leaves_the_served_gold_untouched(lakes: dict[str, Any]) -> None:
    lake, before = lakes["lake"], lakes["before"]
    assert before["versions"], "the production build published nothing to compare with"
    assert _gold_versions(lake / "gold") == before["versions"]
    # not a file of the served gold (tables, logs, _version.json) or of bronze was written
    assert _tree(lake / "gold") == before["gold"]
    assert _tree(lake / "bronze") == before["bronze"]


@pytest.mark.slow
def test_a_dev_build_builds_every_layer_in_the_analysts_directory(lakes: dict[str, Any]) -> None:
    lake, dev_dir = lakes["lake"], lakes["dev_dir"]
    served = lakes["before"]["versions"]
    dev_gold = dev_dir / "gold"
    assert set(_gold_versions(dev_gold)) == set(served)
    # the same models over the same sources: the dev marts hold what the served ones do
    for table in served:
        assert content_hash(str(dev_gold / table), lakes["settings"]) == content_hash(
            str(lake / "gold" / table), lakes["settings"]
        ), table
    conn = duckdb.connect(str(dev_dir / "nova_dev.duckdb"), read_only=True)
    try:
        relations = dict(
            conn.execute(
                "select table_name, table_type from information_schema.tables "
                "where table_schema = 'dev'"
            ).fetchall()
        )
        views = dict(
            conn.execute(
                "select view_name, sql from duckdb_views() where schema_name = 'dev'"
            ).fetchall()
        )
    finally:
        conn.close()
    assert relations.get("int_demand_features") == "BASE TABLE"  # silver, in the dev schema
    assert relations.get("stg_erp__items") == "VIEW"
    # each mart's relation reads the analyst's Delta table, not the served one
    for table in served:
        assert str(dev_gold / table) in views[table], views[table]
        assert str(lake / "gold") not in views[table]


# --- selectors ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def listing(tmp_path_factory: pytest.TempPathFactory) -> Any:
    work = tmp_path_factory.mktemp("dbt_ls")
    settings = Settings(lake_root=str(work / "lake"), warehouse_dir=work / "warehouse")

    def ls(*args: str) -> set[str]:
        result = invoke_dbt(["ls", "--output", "json", "--output-keys", "unique_id", *args],
                            settings)  # fmt: skip
        assert result.success, result.exception
        nodes = {json.loads(line)["unique_id"] for line in result.result}
        # what `dbt build` executes (sources and exposures are listed, never run)
        return {node for node in nodes if node.split(".", 1)[0] in BUILT}

    return ls


def test_the_daily_transform_selector_selects_what_the_transform_step_builds(listing: Any):
    selected = listing("--selector", "daily_transform")
    # backend/pipeline/steps.py: transform
    assert selected == listing(*DAILY_EXCLUDE, "--exclude", FORECAST_TAG)
    assert "model.nova.fct_daily_demand" in selected
    assert not any(node.startswith("unit_test.") for node in selected)
    assert "model.nova.fct_forecasts" not in selected


def test_the_daily_forecasts_selector_selects_what_transform_forecasts_builds(listing: Any):
    selected = listing("--selector", "daily_forecasts")
    # backend/pipeline/steps.py: transform_forecasts
    assert selected == listing("--select", FORECAST_TAG, *DAILY_EXCLUDE)
    assert "model.nova.fct_forecasts" in selected
    assert not selected & listing("--selector", "daily_transform")


# --- exposures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> Any:
    work = tmp_path_factory.mktemp("dbt_parse_exposures")
    settings = Settings(lake_root=str(work / "lake"), warehouse_dir=work / "warehouse")
    result = invoke_dbt(["parse"], settings)
    assert result.success, result.exception
    return result.result


def _marts(manifest: Any) -> set[str]:
    return {n.name for n in manifest.nodes.values() if n.resource_type == "model"
            and n.fqn[1] == "marts"}  # fmt: skip


def _exposure_marts(manifest: Any, name: str) -> set[str]:
    exposure = manifest.exposures[f"exposure.nova.{name}"]
    return {node.rsplit(".", 1)[-1] for node in exposure.depends_on.nodes}


def _marts_read_by(paths: list[Path], pattern: str, marts: set[str]) -> set[str]:
    """The marts the code at ``paths`` names where ``pattern`` matches (any group)."""
    found: set[str] = set()
    for path in paths:
        for match in re.finditer(pattern, path.read_text()):
            found |= {group for group in match.groups() if group}
    return found & marts


def test_the_api_exposure_lists_every_mart_the_api_reads(manifest: Any) -> None:
    marts = _marts(manifest)
    # the API names the tables it scans as $t_<mart> parameters or "<mart>" strings
    code = sorted((REPO_ROOT / "backend" / "api").rglob("*.py"))
    read = _marts_read_by(code, r"""\$t_(\w+)|["'](\w+)["']""", marts)
    assert read, "the scan found no mart in the API's code"
    assert _exposure_marts(manifest, "planning_api") == read


def test_the_workbench_reads_marts_through_the_api(manifest: Any) -> None:
    workbench = _exposure_marts(manifest, "planner_workbench")
    assert workbench and workbench <= _exposure_marts(manifest, "planning_api")


def test_the_forecaster_exposure_lists_the_gold_it_loads(manifest: Any) -> None:
    marts = _marts(manifest)
    code = [*sorted((REPO_ROOT / "ml").rglob("*.py")), REPO_ROOT / "backend/pipeline/forecast.py"]
    read = _marts_read_by(code, r"""table_uri\(\s*["']gold["'],\s*["'](\w+)["']""", marts)
    # demand (+ stockout days) for the forecasts; lead times for the lead-time quantiles
    assert read == {"fct_daily_demand", "fct_stockout_days", "dim_items", "dim_suppliers"}
    assert _exposure_marts(manifest, "demand_forecaster") == read
