"""DuckDB connections that can read the Delta lake, with extensions loaded offline."""

from __future__ import annotations

import hashlib
import re
import threading
from importlib import import_module
from pathlib import Path
from typing import Any

import duckdb

from backend.settings import Settings, get_settings

_shared: duckdb.DuckDBPyConnection | None = None
_shared_lock = threading.Lock()
# Secrets created on the shared database: name -> fingerprint of their options.
_shared_secrets: dict[str, str] = {}


def extension_path(name: str) -> Path:
    """Path of a DuckDB extension shipped by its PyPI package (``duckdb-extension-<name>``).

    DuckDB cannot download extensions on our machines, so we load the file the wheel
    carries instead of ``INSTALL``.
    """
    package = import_module(f"duckdb_extension_{name}")
    base = Path(str(package.__file__)).parent / "extensions" / f"v{duckdb.__version__}"
    path = base / f"{name}.duckdb_extension"
    if not path.exists():
        raise RuntimeError(
            f"DuckDB extension {name!r} for DuckDB {duckdb.__version__} not found at {path}; "
            f"install duckdb-extension-{name}=={duckdb.__version__}"
        )
    return path


def load_extensions(conn: duckdb.DuckDBPyConnection, names: tuple[str, ...] = ("delta",)) -> None:
    for name in names:
        # The path comes from our own package metadata, never from user input.
        conn.execute(f"LOAD '{extension_path(name)}'")


def s3_secret(settings: Settings) -> tuple[str, str, dict[str, Any]] | None:
    """The DuckDB S3 secret of an s3:// lake as (name, CREATE SECRET sql, parameters);
    None for a local lake.

    Scoped to the lake's prefix, so two lakes on different stores can live in one
    process. The values are bound parameters; the option names are ours.
    """
    if not settings.lake_on_s3:
        return None
    scope = f"{settings.lake_uri}/"
    params: dict[str, Any] = {"region": settings.aws_region, "scope": scope}
    options = ["TYPE s3", "REGION $region", "SCOPE $scope"]
    if settings.aws_access_key_id and settings.aws_secret_access_key:
        params["key_id"] = settings.aws_access_key_id.get_secret_value()
        params["secret"] = settings.aws_secret_access_key.get_secret_value()
        options += ["KEY_ID $key_id", "SECRET $secret"]
    endpoint = settings.aws_endpoint
    if endpoint is not None:
        # DuckDB wants host[:port] and the scheme as a flag; a custom store serves
        # buckets as paths.
        params["endpoint"], params["use_ssl"] = endpoint[1], endpoint[2]
        options += ["ENDPOINT $endpoint", "USE_SSL $use_ssl", "URL_STYLE 'path'"]
    name = "nova_lake_" + hashlib.sha256(scope.encode()).hexdigest()[:16]
    sql = f"CREATE OR REPLACE TEMPORARY SECRET {name} ({', '.join(options)})"
    return name, sql, params


def configure_lake(conn: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Make ``conn`` able to read the lake of ``settings``: for an s3:// lake, load httpfs
    (offline, from its PyPI package) and create the lake's S3 secret. Nothing for a
    local lake."""
    secret = s3_secret(settings)
    if secret is None:
        return
    load_extensions(conn, ("httpfs",))
    _, sql, params = secret
    conn.execute(sql, params)


_MEMORY = re.compile(r"^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)


def set_memory_limit(limit: str, settings: Settings | None = None) -> None:
    """Cap the memory of the process-wide in-memory database (every cursor of
    :func:`connect`): a query that needs more fails (or spills) instead of taking the
    host down. ``limit`` like ``2GB``; checked, since SET takes no parameters."""
    if not _MEMORY.match(limit.strip()):
        raise ValueError(f"not a DuckDB memory size: {limit!r} (e.g. 2GB, 512MB)")
    conn = connect(settings=settings)
    try:
        conn.execute(f"SET memory_limit = '{limit.strip()}'")
    finally:
        conn.close()


def _fingerprint(secret: tuple[str, str, dict[str, Any]]) -> str:
    _, sql, params = secret
    return hashlib.sha256(repr((sql, sorted(params.items()))).encode()).hexdigest()


def connect(
    database: str = ":memory:", *, read_only: bool = False, settings: Settings | None = None
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the delta extension loaded, able to read the lake of
    ``settings`` (default: the process's settings), local or on S3.

    In-memory connections are cursors of one process-wide database: loading the extension
    costs about 0.3 s, so it is done once; an S3 lake's secret is created there once per
    lake. Each cursor has its own temporary objects, so callers in different threads do
    not see each other's registered tables.
    """
    global _shared
    lake = settings or get_settings()
    if database != ":memory:":
        conn = duckdb.connect(database, read_only=read_only)
        load_extensions(conn)
        configure_lake(conn, lake)
        return conn
    with _shared_lock:
        if _shared is None:
            _shared = duckdb.connect()
            load_extensions(_shared)
        secret = s3_secret(lake)
        if secret is not None and _shared_secrets.get(secret[0]) != _fingerprint(secret):
            configure_lake(_shared, lake)
            _shared_secrets[secret[0]] = _fingerprint(secret)
        return _shared.cursor()
