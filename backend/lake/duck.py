"""DuckDB connections that can read the Delta lake, with extensions loaded offline."""

from __future__ import annotations

import threading
from importlib import import_module
from pathlib import Path

import duckdb

_shared: duckdb.DuckDBPyConnection | None = None
_shared_lock = threading.Lock()


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


def connect(database: str = ":memory:", *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the delta extension loaded.

    In-memory connections are cursors of one process-wide database: loading the extension
    costs about 0.3 s, so it is done once. Each cursor has its own temporary objects, so
    callers in different threads do not see each other's registered tables.
    """
    global _shared
    if database != ":memory:":
        conn = duckdb.connect(database, read_only=read_only)
        load_extensions(conn)
        return conn
    with _shared_lock:
        if _shared is None:
            _shared = duckdb.connect()
            load_extensions(_shared)
        return _shared.cursor()
