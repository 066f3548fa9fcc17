"""dbt-duckdb plugin that publishes gold marts as Delta tables under ``<lake>/gold/<model>``.

The dbt project (``dbt/``) materializes its marts with its own ``delta`` materialization
(``dbt/macros/materializations/delta.sql``) and ``plugin: gold``. The materialization
checks the contract, puts the model's SQL in a view and calls :meth:`Plugin.store`, which
streams that view into a Delta table in the lake (one write, no intermediate table or
parquet copy), so the API, ML and Spark read an open format.

Configured in ``dbt/profiles.yml``::

    plugins:
      - module: backend.lake.dbt_plugin
        alias: gold
        config:
          lake_root: "{{ env_var('NOVA_LAKE_ROOT', '../.lake') }}"

On an analyst's ``dev`` target the config also names ``dev_dir``: the marts then go to
``<dev_dir>/gold/<model>`` and nothing is ever written under the lake's served
``<lake>/gold``, which only the production targets publish to (the API serves it).

The plugin also loads the DuckDB delta extension on every connection (the sources are read
with ``delta_scan``) from the file its PyPI package ships: DuckDB cannot download extensions
on our machines, so nothing here ever runs ``INSTALL``. For an ``s3://`` lake it loads
httpfs the same way and creates the lake's S3 secret; the store's endpoint and keys are the
standard ``AWS_*`` settings, read through ``backend.settings`` from the environment of
the dbt process (the pipeline's runner sets them from ``Settings.dbt_env`` and
``dbt_credentials_env``; Airflow's workers have them), so the profile carries no secret.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

from dbt.adapters.duckdb.credentials import DuckDBCredentials
from dbt.adapters.duckdb.plugins import BasePlugin
from dbt.adapters.duckdb.utils import TargetConfig
from deltalake import DeltaTable, write_deltalake
from duckdb import DuckDBPyConnection

from backend.lake.duck import configure_lake, load_extensions
from backend.lake.gold import (
    effective_retention_hours,
    published_table_version,
    vacuum_gold_table,
)
from backend.lake.sql import quote_name
from backend.settings import Settings

GOLD_LAYER = "gold"
STREAM_BATCH_ROWS = 500_000
# location.format from the `delta` materialization: overwrite the table, or replace the
# partitions an increment holds
FULL_BUILD = "delta"
REPLACE_PARTITIONS = "delta+replace"


def _is_uri(path: str) -> bool:
    return "://" in path


def _is_local_file(path: str) -> bool:
    """A path on the local disk: not in memory, not an object store, not MotherDuck."""
    return bool(path) and path != ":memory:" and not _is_uri(path) and not path.startswith("md:")


class Plugin(BasePlugin):
    """Publish ``delta`` models to ``<lake_root>/gold/<identifier>`` as Delta tables."""

    lake_root: str
    # Where the marts are published: <lake_root>/gold, or <dev_dir>/gold on a dev target.
    gold_root: str
    # True on a dev target: the served gold is never written, nor its snapshot consulted.
    dev: bool = False
    retention_hours: int
    storage_options: dict[str, str] | None
    # Settings of an s3:// lake (its AWS_* values); None for a local lake.
    lake: Settings | None = None
    _conn: DuckDBPyConnection | None = None

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        lake_root = str(plugin_config.get("lake_root") or "").strip()
        if not lake_root:
            raise ValueError(
                "the gold plugin needs `lake_root` in its profile config "
                "(dbt/profiles.yml reads it from NOVA_LAKE_ROOT)"
            )
        if _is_uri(lake_root):
            self.lake_root = lake_root.rstrip("/")
            self.lake = Settings(lake_root=self.lake_root)
        else:
            self.lake_root = str(Path(lake_root).expanduser().resolve())
        served_gold = f"{self.lake_root}/{GOLD_LAYER}"
        dev_dir = str(plugin_config.get("dev_dir") or "").strip()
        self.dev = bool(dev_dir)
        self.gold_root = _dev_gold_root(dev_dir, served_gold) if self.dev else served_gold
        # Every publish rewrites the table; files older than this are vacuumed after it,
        # so time travel reaches back this far and the lake stops growing beyond it. Never
        # below the floor that readers of the previous published snapshot need.
        self.retention_hours = effective_retention_hours(
            int(plugin_config.get("retention_hours", 168)), self.lake or Settings()
        )
        options = plugin_config.get("storage_options")
        if options:
            self.storage_options = {str(k): str(v) for k, v in options.items()}
        else:
            self.storage_options = self.lake.lake_storage_options if self.lake else None

    def update_connection_config(self, creds: DuckDBCredentials, config: dict[str, Any]) -> None:
        # Runs before DuckDB opens the database file, whose directory DuckDB won't create.
        if _is_local_file(creds.path):
            Path(creds.path).parent.mkdir(parents=True, exist_ok=True)

    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        load_extensions(conn)
        if self.lake is not None:
            configure_lake(conn, self.lake)
        # store() streams a model out of this database: dbt-duckdb hands every thread a
        # cursor of this same connection, so a cursor of it sees the committed views.
        self._conn = conn

    def table_uri(self, identifier: str) -> str:
        """Where the Delta table of the model ``identifier`` lives."""
        return f"{self.gold_root}/{identifier}"

    def store(self, target_config: TargetConfig) -> None:
        """Stream the model's rows into ``<lake>/gold/<model>`` and point the model's
        relation at the published table.

        Called by the project's ``delta`` materialization: ``location.path`` names the view
        (or, for an increment, the table) holding the model's rows, ``relation`` the model
        itself. ``location.format`` is ``delta`` (the table is overwritten) or
        ``delta+replace`` (an increment: its partitions replace the published ones).
        """
        location = target_config.location
        if location is None or location.format not in (FULL_BUILD, REPLACE_PARTITIONS):
            raise ValueError(
                f"the gold plugin publishes models materialized as `delta`; "
                f"{target_config.relation} did not come from that materialization"
            )
        identifier = target_config.relation.identifier
        if not identifier:
            raise ValueError(f"relation {target_config.relation} has no identifier")
        if self._conn is None:
            raise RuntimeError("the gold plugin has no DuckDB connection yet")
        partition_by = _partition_column(target_config.config)
        uri = self.table_uri(identifier)
        cursor = self._conn.cursor()
        try:
            if location.format == REPLACE_PARTITIONS:
                if partition_by is None:
                    raise ValueError(f"{identifier}: replacing partitions needs partition_by")
                self._replace_partitions(cursor, uri, location.path, partition_by)
            else:
                # The view name is rendered by dbt from our own project, never user input.
                rows = cursor.execute(f"select * from {location.path}").to_arrow_reader(
                    STREAM_BATCH_ROWS
                )
                write_deltalake(
                    uri,
                    rows,
                    mode="overwrite",
                    schema_mode="overwrite",
                    partition_by=[partition_by] if partition_by else None,
                    storage_options=self.storage_options,
                )
            cursor.execute(
                f"create or replace view {target_config.relation} as "
                f"select * from delta_scan('{_sql_string(uri)}')"
            )
            # The API serves the published snapshot until `publish` moves it, however
            # old: its files stay whatever the retention. A dev table serves nobody.
            keep = (
                None
                if self.dev
                else published_table_version(self.lake_root, identifier, self.lake or Settings())
            )
            vacuum_gold_table(
                uri,
                retention_hours=self.retention_hours,
                keep_version=keep,
                storage_options=self.storage_options,
            )
        finally:
            cursor.close()

    def _replace_partitions(
        self, cursor: DuckDBPyConnection, uri: str, increment: str, column: str
    ) -> None:
        """Replace the published partitions of ``column`` that the ``increment`` table
        holds, and drop those outside its span, in one Delta commit (readers see the old
        or the new table, never a mix). A table published before it was partitioned is
        rewritten whole once: the increment merged into it, partitioned."""
        if not DeltaTable.is_deltatable(uri, storage_options=self.storage_options):
            raise FileNotFoundError(
                f"{uri} is not published yet: an incremental build needs it (run with "
                "--full-refresh to build it whole)"
            )
        quoted = quote_name(column)
        (values,) = cursor.execute(
            f"select list(distinct {quoted} order by {quoted}) from {increment}"
        ).fetchone() or ([],)
        if not values:
            return  # nothing rebuilt: the published table stays as it is
        predicate = partition_predicate(column, values)
        table = DeltaTable(uri, storage_options=self.storage_options)
        if table.metadata().partition_columns == [column]:
            rows = cursor.execute(f"select * from {increment}").to_arrow_reader(STREAM_BATCH_ROWS)
            write_deltalake(
                uri,
                rows,
                mode="overwrite",
                predicate=predicate,
                partition_by=[column],
                storage_options=self.storage_options,
            )
            return
        merged = cursor.execute(
            f"select * from delta_scan('{_sql_string(uri)}') where not ({predicate}) "
            f"union all by name select * from {increment}"
        ).to_arrow_reader(STREAM_BATCH_ROWS)
        write_deltalake(
            uri,
            merged,
            mode="overwrite",
            schema_mode="overwrite",
            partition_by=[column],
            storage_options=self.storage_options,
        )


def partition_predicate(column: str, values: list[Any]) -> str:
    """The partitions an increment replaces: its own ``values`` of ``column``, and every
    partition before the first or after the last of them (the increment spans the table).
    Valid both for delta-rs (a replace predicate) and for DuckDB."""
    literals = [_literal(value) for value in values]
    quoted = quote_name(column)
    return (
        f"{quoted} < {literals[0]} OR {quoted} > {literals[-1]} "
        f"OR {quoted} IN ({', '.join(literals)})"
    )


def _literal(value: Any) -> str:
    """A SQL literal for a partition value: dates, integers and strings only."""
    if isinstance(value, date):
        return f"'{value.isoformat()}'"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        return f"'{_sql_string(value)}'"
    raise TypeError(f"unsupported partition value {value!r}")


def _partition_column(config: Any) -> str | None:
    """The model's ``partition_by`` config: one column name, or None."""
    value = config.get("partition_by") if config is not None else None
    if value is None or value == "":
        return None
    if isinstance(value, list | tuple):
        if len(value) != 1:
            raise ValueError(f"the gold plugin partitions by one column, not {value!r}")
        value = value[0]
    name = str(value)
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ValueError(f"partition_by must be a column name, not {name!r}")
    return name


def _dev_gold_root(dev_dir: str, served_gold: str) -> str:
    """``<dev_dir>/gold``, refused when it is (or lies inside, or holds) the served gold:
    a dev build must never overwrite a table the API serves."""
    if _is_uri(dev_dir):
        root = f"{dev_dir.rstrip('/')}/{GOLD_LAYER}"
        overlaps = root == served_gold or root.startswith(served_gold + "/")
        overlaps = overlaps or served_gold.startswith(root + "/")
    else:
        path = Path(dev_dir).expanduser().resolve() / GOLD_LAYER
        root = str(path)
        served = None if _is_uri(served_gold) else Path(served_gold)
        overlaps = served is not None and (
            path == served or path.is_relative_to(served) or served.is_relative_to(path)
        )
    if overlaps:
        raise ValueError(
            f"the dev target would publish to {root}, which overlaps the served gold "
            f"{served_gold}: set NOVA_DEV_DIR to a directory of your own outside the lake"
        )
    return root


def _sql_string(value: str) -> str:
    return value.replace("'", "''")
