"""dbt-duckdb plugin that publishes gold marts as Delta tables under ``<lake>/gold/<model>``.

The dbt project (``dbt/``) materializes its marts with dbt-duckdb's ``external``
materialization and ``plugin: gold``. The materialization writes each mart to a parquet file
under the profile's ``external_root`` and then calls :meth:`Plugin.store`, which rewrites
that file as a Delta table in the lake, so the API, ML and Spark read an open format.

Configured in ``dbt/profiles.yml``::

    plugins:
      - module: backend.lake.dbt_plugin
        alias: gold
        config:
          lake_root: "{{ env_var('NOVA_LAKE_ROOT', '../.lake') }}"

The plugin also loads the DuckDB delta extension on every connection (the sources are read
with ``delta_scan``) from the file its PyPI package ships: DuckDB cannot download extensions
on our machines, so nothing here ever runs ``INSTALL``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
from dbt.adapters.duckdb.credentials import DuckDBCredentials
from dbt.adapters.duckdb.plugins import BasePlugin
from dbt.adapters.duckdb.utils import TargetConfig
from deltalake import write_deltalake
from duckdb import DuckDBPyConnection

from backend.lake.duck import load_extensions

GOLD_LAYER = "gold"


def _is_uri(path: str) -> bool:
    return "://" in path


def _is_local_file(path: str) -> bool:
    """A path on the local disk: not in memory, not an object store, not MotherDuck."""
    return bool(path) and path != ":memory:" and not _is_uri(path) and not path.startswith("md:")


class Plugin(BasePlugin):
    """Publish ``external`` models to ``<lake_root>/gold/<identifier>`` as Delta tables."""

    lake_root: str
    storage_options: dict[str, str] | None

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        lake_root = str(plugin_config.get("lake_root") or "").strip()
        if not lake_root:
            raise ValueError(
                "the gold plugin needs `lake_root` in its profile config "
                "(dbt/profiles.yml reads it from NOVA_LAKE_ROOT)"
            )
        if _is_uri(lake_root):
            self.lake_root = lake_root.rstrip("/")
        else:
            self.lake_root = str(Path(lake_root).expanduser().resolve())
        options = plugin_config.get("storage_options")
        self.storage_options = {str(k): str(v) for k, v in options.items()} if options else None

    def update_connection_config(self, creds: DuckDBCredentials, config: dict[str, Any]) -> None:
        # Runs before DuckDB opens the database file: DuckDB creates neither the file's
        # directory nor the directory that the external materialization writes into.
        for directory in (
            Path(creds.path).parent if _is_local_file(creds.path) else None,
            Path(creds.external_root) if _is_local_file(creds.external_root) else None,
        ):
            if directory is not None:
                directory.mkdir(parents=True, exist_ok=True)

    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        load_extensions(conn)

    def table_uri(self, identifier: str) -> str:
        """Where the Delta table of the model ``identifier`` lives."""
        return f"{self.lake_root}/{GOLD_LAYER}/{identifier}"

    def store(self, target_config: TargetConfig) -> None:
        location = target_config.location
        if location is None:
            raise ValueError("the gold plugin stores `external` models only (no location given)")
        if location.format != "parquet":
            raise ValueError(
                f"the gold plugin reads parquet, but {target_config.relation} was written as "
                f"{location.format!r}; leave the model's `format` unset or set it to parquet"
            )
        identifier = target_config.relation.identifier
        if not identifier:
            raise ValueError(f"relation {target_config.relation} has no identifier")
        write_deltalake(
            self.table_uri(identifier),
            _read_published_rows(location.path),
            mode="overwrite",
            schema_mode="overwrite",
            storage_options=self.storage_options,
        )


def _read_published_rows(path: str) -> pa.Table | pa.RecordBatchReader:
    """The rows that the ``external`` materialization wrote to ``path`` (a parquet file, or a
    directory of them when the model sets ``partition_by``/``per_thread_output`` options).

    When a model returns no rows, the materialization writes a single all-NULL row (so that
    the file keeps its schema) and hides it behind a filtered view; the Delta table gets the
    schema and no rows instead.
    """
    dataset = ds.dataset(path, format="parquet", partitioning="hive")
    if dataset.count_rows() == 1:
        table = dataset.to_table()
        if all(column.null_count == 1 for column in table.columns):
            return table.slice(0, 0)
        return table
    # Stream in batches: the largest marts have millions of rows.
    return dataset.scanner().to_reader()
