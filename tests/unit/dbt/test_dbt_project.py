"""The dbt project parses, and its marts keep the gold contract (dbt/)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backend.settings import Settings
from tests.unit.dbt.runner import invoke_dbt


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    work_dir = tmp_path_factory.mktemp("dbt_parse")
    settings = Settings(lake_root=str(work_dir / "lake"), warehouse_dir=work_dir / "warehouse")
    result = invoke_dbt(["parse"], settings)
    assert result.success, result.exception
    yield result.result


def _models(manifest: Any, folder: str) -> list[Any]:
    return [
        node
        for node in manifest.nodes.values()
        if node.resource_type == "model" and node.fqn[1] == folder
    ]


MARTS = {
    "dim_items",
    "dim_towers",
    "dim_depots",
    "dim_suppliers",
    "dim_date",
    "fct_daily_demand",
    "fct_inventory_snapshot",
}


def test_the_marts_are_all_there(manifest: Any) -> None:
    assert {node.name for node in _models(manifest, "marts")} >= MARTS


def test_every_mart_has_an_enforced_contract(manifest: Any) -> None:
    for node in _models(manifest, "marts"):
        assert node.config.contract.enforced, f"{node.name}: contract not enforced"


def test_every_mart_column_has_a_description_and_a_data_type(manifest: Any) -> None:
    for node in _models(manifest, "marts"):
        assert node.description.strip(), f"{node.name}: no description"
        assert node.columns, f"{node.name}: no columns documented"
        for column in node.columns.values():
            assert column.description.strip(), f"{node.name}.{column.name}: no description"
            assert column.data_type, f"{node.name}.{column.name}: no data_type"


# Kept in the warehouse, not published: a history that grows one run date at a time
# (its run date's rows are fct_stock_alerts, which is published).
WAREHOUSE_MARTS = {"fct_alert_history"}


def test_marts_are_published_to_gold(manifest: Any) -> None:
    for node in _models(manifest, "marts"):
        if node.name in WAREHOUSE_MARTS:
            assert node.config.materialized == "incremental", node.name
            continue
        assert node.config.materialized == "delta", node.name
        assert node.config.get("plugin") == "gold", node.name


def test_every_model_has_its_own_yml_beside_it(manifest: Any) -> None:
    for node in manifest.nodes.values():
        if node.resource_type != "model":
            continue
        expected = str(Path(node.original_file_path).with_suffix(".yml"))
        assert node.patch_path == f"nova://{expected}", f"{node.name}: {node.patch_path}"
        assert node.description.strip(), f"{node.name}: no description"


def test_every_mart_key_is_tested(manifest: Any) -> None:
    tested: dict[str, set[str]] = {}
    for node in manifest.nodes.values():
        # singular tests (dbt/tests/) have no test_metadata
        if node.resource_type == "test" and getattr(node, "test_metadata", None) is not None:
            model = node.attached_node.split(".")[-1] if node.attached_node else ""
            column = node.column_name or ""
            tested.setdefault(f"{model}.{column}", set()).add(node.test_metadata.name)
            if node.test_metadata.name == "not_null_columns":  # one scan for several columns
                for name in node.test_metadata.kwargs["columns"]:
                    tested.setdefault(f"{model}.{name}", set()).add("not_null")
    keys = {
        "dim_items.item_id",
        "dim_towers.tower_id",
        "dim_depots.depot_id",
        "dim_suppliers.supplier_id",
        "dim_date.date_day",
        "fct_daily_demand.daily_demand_key",
        "fct_inventory_snapshot.inventory_snapshot_key",
        "fct_actions.action_id",
        "fct_stock_alerts.alert_id",
    }
    for key in keys:
        assert {"unique", "not_null"} <= tested.get(key, set()), f"{key}: {tested.get(key)}"


def test_deduplication_and_demand_logic_have_unit_tests(manifest: Any) -> None:
    tested_models = {test.model for test in manifest.unit_tests.values()}
    assert {
        "stg_erp__items",
        "stg_erp__stock_movements",
        "int_daily_movements",
        "int_item_depot_pairs",
        "fct_daily_demand",
        "int_approved_order_lines",
        "fct_alert_history",
        "fct_actions",
    } <= tested_models


def test_sources_read_bronze_delta_tables_with_freshness(manifest: Any) -> None:
    erp = [s for s in manifest.sources.values() if s.source_name == "erp"]
    assert {s.name for s in erp} == {
        "suppliers",
        "depots",
        "items",
        "towers",
        "stock_movements",
        "inventory_snapshots",
        "purchase_orders",
    }
    for source in erp:
        assert source.loaded_at_field == "_ingested_at", source.name
        assert source.freshness is not None and source.freshness.error_after.count, source.name
        location = source.meta["external_location"]
        assert location.startswith("delta_scan(") and "/bronze/erp/{name}" in location
