"""The lake seen from Spark: the local session of dbt's ``spark`` target, and bronze in it.

dbt-spark's ``session`` method builds its SparkSession with ``getOrCreate()``, so a session
made here first, in the same process, is the one dbt uses. Its settings are the
``server_side_parameters`` of ``dbt/profiles.yml``, read from that file: one definition.

A Spark with the Delta jars (a cluster, see ``infra/spark/``) reads bronze in place. The
local session has none (they come only from Maven, which our machines cannot reach), so
:func:`stage_sources` copies each source table's *current* Delta snapshot (the files its
log lists, never the directory, which still holds replaced files) into a Parquet table of
the session's catalog, named as dbt's ``source()`` renders it (``erp.items``). A table
whose Delta version has not moved since the last copy (of the same lake) is left alone.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from deltalake import DeltaTable
from deltalake.exceptions import TableNotFoundError

from backend.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# external_location: "delta_scan('{{ env_var('NOVA_LAKE_ROOT', ...) }}/bronze/erp/{name}')"
_LOCATION_SUFFIX = re.compile(r"\}\}(?P<suffix>/[^'\"]*)['\"]")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
SNAPSHOT_PROPERTY = "nova.delta_snapshot"


@dataclass(frozen=True)
class LakeSource:
    """A dbt source table backed by a Delta table in the lake."""

    schema: str
    table: str
    uri: str

    @property
    def relation(self) -> str:
        return f"{self.schema}.{self.table}"


def lake_sources(settings: Settings) -> list[LakeSource]:
    """Every source of the dbt project whose ``external_location`` is a Delta table in
    the lake, from the project's ``__sources.yml`` files (the one list of sources)."""
    found: list[LakeSource] = []
    for path in sorted(Path(settings.dbt_project_dir, "models").rglob("*.yml")):
        document = yaml.safe_load(path.read_text()) or {}
        for source in document.get("sources") or []:
            meta = (source.get("config") or {}).get("meta") or source.get("meta") or {}
            match = _LOCATION_SUFFIX.search(str(meta.get("external_location", "")))
            if match is None:
                continue
            for table in source.get("tables") or []:
                name = str(table["name"])
                schema = str(source.get("schema") or source["name"])
                for identifier in (schema, name):
                    if not _IDENTIFIER.fullmatch(identifier):
                        raise ValueError(f"{path}: {identifier!r} is not a plain identifier")
                suffix = match.group("suffix").replace("{name}", name)
                found.append(LakeSource(schema, name, settings.lake_uri + suffix))
    return found


def profile_session_parameters(settings: Settings) -> dict[str, str]:
    """The spark target's ``server_side_parameters``, rendered the way dbt renders them
    (``env_var`` over :attr:`Settings.dbt_env`, the environment the pipeline gives dbt)."""
    from jinja2 import Environment

    profiles = yaml.safe_load(Path(settings.dbt_project_dir, "profiles.yml").read_text())
    output = profiles["nova"]["outputs"]["spark"]
    environment = settings.dbt_env

    def env_var(name: str, default: str | None = None) -> str:
        value = environment.get(name, default)
        if value is None:
            raise KeyError(f"env var {name} is not set and has no default in profiles.yml")
        return value

    jinja = Environment(autoescape=False)
    return {
        str(key): jinja.from_string(str(value)).render(env_var=env_var)
        for key, value in (output.get("server_side_parameters") or {}).items()
    }


def local_session(settings: Settings) -> SparkSession:
    """The process's Spark session, as dbt's ``session`` method would build it."""
    from pyspark.sql import SparkSession

    (settings.warehouse_path / "spark").mkdir(parents=True, exist_ok=True)
    builder = SparkSession.builder.enableHiveSupport()
    for key, value in profile_session_parameters(settings).items():
        builder = builder.config(key, value)
    # dbt-spark forces this too; set here so the session is the same whoever made it
    builder = builder.config("spark.sql.ansi.enabled", "false")
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def stage_sources(spark: SparkSession, settings: Settings) -> dict[str, str]:
    """Copy every lake source whose Delta version changed into the session's catalog.

    Returns ``{relation: outcome}``: ``copied vN``, ``unchanged vN`` or ``missing`` (a
    table not written yet, e.g. ml forecasts before the first forecast; models that read
    it fail loudly if they are selected).
    """
    outcomes: dict[str, str] = {}
    for source in lake_sources(settings):
        try:
            table = DeltaTable(source.uri, storage_options=settings.lake_storage_options)
        except TableNotFoundError:
            outcomes[source.relation] = "missing"
            continue
        version = table.version()
        snapshot = _snapshot_id(source.uri, version)
        if _staged_snapshot(spark, source) == snapshot:
            outcomes[source.relation] = f"unchanged v{version}"
            continue
        spark.sql(f"create database if not exists {source.schema}")
        frame = _snapshot_frame(spark, table, source.uri, settings)
        frame.write.mode("overwrite").format("parquet").saveAsTable(source.relation)
        # The property is hex and digits of our own; the relation passed the identifier check.
        spark.sql(
            f"alter table {source.relation} set tblproperties "
            f"('{SNAPSHOT_PROPERTY}' = '{snapshot}')"
        )
        outcomes[source.relation] = f"copied v{version}"
    return outcomes


def _snapshot_id(uri: str, version: int) -> str:
    """Which lake and which version a staged copy holds: another lake pointed at the same
    warehouse must not pass for unchanged because its version number matches."""
    return f"{hashlib.sha256(uri.encode()).hexdigest()[:16]}-v{int(version)}"


def _staged_snapshot(spark: SparkSession, source: LakeSource) -> str | None:
    if not spark.catalog.tableExists(source.relation):
        return None
    for row in spark.sql(f"show tblproperties {source.relation}").collect():
        if row["key"] == SNAPSHOT_PROPERTY:
            return str(row["value"])
    return None


def delta_frame(spark: SparkSession, uri: str, settings: Settings) -> Any:
    """A Delta table's current snapshot as a DataFrame of the session (no Delta jars
    needed: the files its log lists, read as Parquet), for readers of gold in Spark."""
    table = DeltaTable(uri, storage_options=settings.lake_storage_options)
    return _snapshot_frame(spark, table, uri, settings)


def _snapshot_frame(spark: SparkSession, table: DeltaTable, uri: str, settings: Settings) -> Any:
    """The table's current rows as a DataFrame, with the Delta schema's column types."""
    files = table.file_uris()
    if not files or "://" in settings.lake_uri:
        # An empty table has no file to read a schema from; and the local session has no
        # s3a filesystem (its jars come from Maven too): delta-rs reads, Arrow hands over.
        return spark.createDataFrame(table.to_pyarrow_table())
    # Partition values live in the directory names (col=value/), which Spark reads back
    # given the table root; their inferred types are then set to the Delta schema's.
    frame = spark.read.option("basePath", uri).parquet(*files)
    types = {field.name: field.type for field in table.schema().fields}
    for column in table.metadata().partition_columns:
        frame = frame.withColumn(column, frame[column].cast(_spark_type(types[column])))
    return frame.select(*types)


def _spark_type(delta_type: Any) -> str:
    name = str(getattr(delta_type, "type", delta_type))
    return {"long": "bigint", "integer": "int", "short": "smallint", "byte": "tinyint"}.get(
        name, name
    )


def table_fingerprint(table: Any) -> tuple[int, str]:
    """Row count and an order-independent hash of an Arrow table's content columns,
    comparable across engines.

    Audit columns (``_``-prefixed) are left out. Values are normalized first, so that the
    same answer computed by two engines hashes the same: integers as BIGINT, floating and
    decimal numbers rounded to 6 decimals (engines sum in different orders; the last bits
    differ), timestamps as microseconds since the epoch, dates as ISO text, columns in
    name order.
    """
    from backend.lake.duck import connect
    from backend.lake.sql import quote_name

    conn = connect()
    try:
        conn.register("fingerprinted", table)
        described = conn.execute("describe fingerprinted").fetchall()
        parts = []
        for name, data_type, *_ in sorted(described):
            if name.startswith("_"):
                continue
            column = quote_name(name)
            if data_type.startswith(("DOUBLE", "FLOAT", "DECIMAL", "REAL")):
                value = f"round(cast({column} as double), 6) + 0.0"
            elif data_type in {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"}:
                value = f"cast({column} as bigint)"
            elif data_type.startswith("TIMESTAMP"):
                value = f"epoch_us({column})"
            elif data_type == "DATE":
                value = f"cast({column} as varchar)"
            else:
                value = column
            parts.append(f"{column} := {value}")
        row = conn.execute(
            "select count(*), coalesce(md5(string_agg(h, ',' order by h)), '') from "
            f"(select md5(to_json(struct_pack({', '.join(parts)}))::varchar) as h "
            "from fingerprinted)"
        ).fetchone()
    finally:
        conn.unregister("fingerprinted")
        conn.close()
    assert row is not None
    return int(row[0]), str(row[1])
