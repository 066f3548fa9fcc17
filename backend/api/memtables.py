"""Hot gold tables of the pinned snapshot, held in memory sorted by (item, depot).

A one-item read on ``delta_scan`` opens the table's log and Parquet footers and scans every
row group of a table written in run order: about 30 ms of CPU for 50 rows out of a million.
Held here, a published table version is a set of numpy columns sorted by
``item_id, depot_id, *order`` with each item's row range in a dict, so that read slices its
own rows: a dict lookup and a few vector comparisons over that item's rows only.

One version of each table is held (the newest asked for): a new gold version turns the
memory over on its first read, and a request still pinned to the previous version reads
the lake as before. A table is held only when its estimated size in memory fits
``max_bytes`` (``NOVA_API_MEMORY_TABLE_BYTES``); otherwise, while it loads, and for any read
these structures cannot answer exactly, the routes keep their DuckDB query.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import operator
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from backend.lake import delta
from backend.lake.reader import GoldReader
from backend.settings import Settings

log = logging.getLogger(__name__)

# Bytes a row costs per column once held, at most: dates and text (4-byte dictionary codes;
# the distinct strings themselves are few: ids, classes) 4, numbers 8 (int32 when they fit).
_NARROW = 4
_WIDE = 8


def _is_text(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)
    )


EPOCH = date(1970, 1, 1)
_INT32 = np.iinfo(np.int32)


class Column:
    """One column: ``data`` holds numbers, dates as int32 days since 1970 (Arrow's own
    date32), or int32 dictionary codes into ``values`` (text, with ``None`` last for
    nulls); ``nulls`` marks null numbers and dates (None when there are none). Integers
    that fit are kept as int32: the values read back are the same Python ints."""

    __slots__ = ("codes", "data", "is_date", "nulls", "values")

    def __init__(self, chunked: pa.ChunkedArray) -> None:
        array = chunked.combine_chunks() if chunked.num_chunks != 1 else chunked.chunk(0)
        self.values: np.ndarray | None = None
        self.codes: dict[Any, int] = {}
        self.nulls: np.ndarray | None = None
        self.is_date = pa.types.is_date32(array.type)
        if _is_text(array.type):
            encoded = pc.dictionary_encode(array)
            words = encoded.dictionary.to_pylist()
            self.codes = {w: n for n, w in enumerate(words)}
            self.values = np.array([*words, None], dtype=object)
            self.data = (
                encoded.indices.fill_null(len(words)).to_numpy(zero_copy_only=False)
            ).astype(np.int32)
            return
        if array.null_count:
            self.nulls = array.is_null().to_numpy(zero_copy_only=False)
        if self.is_date:
            array = array.cast(pa.int32())
        if array.null_count:
            array = array.fill_null(0)
        data = array.to_numpy(zero_copy_only=False)
        narrow = data.dtype.kind == "i" and data.itemsize > 4 and data.size
        if narrow and _INT32.min <= data.min() and data.max() <= _INT32.max:
            data = data.astype(np.int32)
        self.data = data

    @property
    def nbytes(self) -> int:
        extra = self.nulls.nbytes if self.nulls is not None else 0
        return int(self.data.nbytes) + extra

    def scalar(self, value: Any) -> Any:
        """``value`` as stored (a date as its day number)."""
        return (value - EPOCH).days if self.is_date and isinstance(value, date) else value

    def take(self, idx: np.ndarray) -> list[Any]:
        """The values at ``idx`` as Python objects (None for null)."""
        if self.values is not None:
            return list(self.values[self.data[idx]].tolist())
        picked = self.data[idx]
        out = list(picked.astype("datetime64[D]").tolist() if self.is_date else picked.tolist())
        if self.nulls is not None:
            for n in np.flatnonzero(self.nulls[idx]).tolist():
                out[n] = None
        return out

    def compare(self, op: Callable[[Any, Any], Any], value: Any, rows: slice) -> np.ndarray:
        """Where ``column op value`` holds in ``rows`` (as SQL: never for a null)."""
        if self.values is not None:
            code = self.codes.get(value)
            if code is None:
                return np.zeros(rows.stop - rows.start, dtype=bool)
            return np.asarray(op(self.data[rows], code))
        out = np.asarray(op(self.data[rows], self.scalar(value)))
        if self.nulls is not None:
            out &= ~self.nulls[rows]
        return out

    def equals(self, value: Any, rows: slice) -> np.ndarray:
        """Where the column equals ``value`` in ``rows`` (SQL ``=``: never for null)."""
        return self.compare(operator.eq, value, rows)

    def isin(self, values: Iterable[Any], rows: slice) -> np.ndarray:
        if self.values is None:
            out = np.isin(self.data[rows], [self.scalar(v) for v in values])
            return out & ~self.nulls[rows] if self.nulls is not None else out
        codes = [self.codes[v] for v in values if v in self.codes]
        return np.isin(self.data[rows], np.asarray(codes, dtype=np.int32))

    def permute(self, perm: np.ndarray) -> None:
        self.data = self.data[perm]
        if self.nulls is not None:
            self.nulls = self.nulls[perm]

    def has_nulls(self, rows: slice | np.ndarray) -> bool:
        if self.values is not None:
            return bool((self.data[rows] == len(self.values) - 1).any())
        return self.nulls is not None and bool(self.nulls[rows].any())


def _sort_keys(column: Column) -> np.ndarray:
    """Integers that sort as the column does (SQL order: text by its bytes, nulls last)."""
    if column.values is not None:
        words = column.values[:-1]
        rank = np.empty(len(words) + 1, dtype=np.int64)
        rank[np.argsort(words.astype(str), kind="stable")] = np.arange(len(words))
        rank[-1] = len(words)  # null
        return rank[column.data]
    data = column.data.astype(np.int64) if column.data.dtype.kind in "iub" else column.data
    if column.nulls is not None:
        data = np.where(column.nulls, data.max() + 1 if data.size else 0, data)
    return np.asarray(data)


def _sort_order(columns: Sequence[Column]) -> np.ndarray:
    """The permutation sorting rows by ``columns`` (first is most significant), stable.
    Integer keys of small spans are packed into one int64 and argsorted once."""
    keys = [_sort_keys(c) for c in columns]
    packed = np.zeros(len(keys[0]) if keys else 0, dtype=np.int64)
    bits = 0
    for key in reversed(keys):
        if key.dtype.kind != "i" or not key.size:
            return np.lexsort(keys[::-1]) if keys and keys[0].size else np.arange(packed.size)
        span = int(key.max() - key.min()) + 1
        need = max(span - 1, 1).bit_length()
        if bits + need > 62:
            return np.lexsort(keys[::-1])
        packed |= (key - key.min()) << bits
        bits += need
    return np.argsort(packed, kind="stable")


class PairTable:
    """A table version sorted by ``item_id, depot_id, *order``, with the rows of each item
    and of each item x depot pair. ``keys=False`` drops the two key columns once indexed
    (a table whose reads never return them: less memory)."""

    def __init__(self, table: pa.Table, order: Sequence[str] = (), *, keys: bool = True) -> None:
        self.num_rows = table.num_rows
        self._max: dict[str, Any] = {}
        # Encoded unsorted, then every column permuted at once: sorting by integer keys
        # (string ranks, day numbers) is several times faster than Arrow's sort on text.
        columns = {name: Column(table.column(name)) for name in table.column_names}
        perm = _sort_order([columns["item_id"], columns["depot_id"], *(columns[c] for c in order)])
        for column in columns.values():
            column.permute(perm)
        item_codes, depot_codes = columns["item_id"].data, columns["depot_id"].data
        item_words, depot_words = columns["item_id"].values, columns["depot_id"].values
        assert item_words is not None and depot_words is not None
        changed = np.diff(item_codes) != 0
        self._items = self._ranges(np.flatnonzero(changed), lambda s: item_words[item_codes[s]])
        either = np.flatnonzero(changed | (np.diff(depot_codes) != 0))
        self._pairs = self._ranges(
            either, lambda s: (item_words[item_codes[s]], depot_words[depot_codes[s]])
        )
        if not keys:
            del columns["item_id"], columns["depot_id"]
        self.columns = columns
        self.names = list(columns)

    def _ranges(self, changes: np.ndarray, key: Callable[[int], Any]) -> dict[Any, tuple[int, int]]:
        if not self.num_rows:
            return {}
        bounds = (changes + 1).tolist()
        starts, stops = [0, *bounds], [*bounds, self.num_rows]
        return {key(s): (s, e) for s, e in zip(starts, stops, strict=True)}

    @property
    def nbytes(self) -> int:
        return sum(c.nbytes for c in self.columns.values())

    def item_rows(self, item_id: str) -> slice:
        """The rows of ``item_id`` (an empty slice when it has none)."""
        start, stop = self._items.get(item_id, (0, 0))
        return slice(start, stop)

    def pair_rows(self, item_id: str, depot_id: str) -> slice:
        """The rows of one item x depot pair (an empty slice when it has none)."""
        start, stop = self._pairs.get((item_id, depot_id), (0, 0))
        return slice(start, stop)

    def max(self, column: str) -> Any:
        """The column's largest non-null value (SQL ``max``), or None."""
        if column not in self._max:
            self._max[column] = self._column_max(column)
        return self._max[column]

    def _column_max(self, column: str) -> Any:
        col = self.columns[column]
        if self.num_rows == 0:
            return None
        if col.values is not None:
            present = [v for v in col.values[:-1].tolist() if v is not None]
            return max(present) if present else None
        data = col.data if col.nulls is None else col.data[~col.nulls]
        if not data.size:
            return None
        top = data.max().item()
        return EPOCH + timedelta(days=top) if col.is_date else top

    def rows(self, idx: np.ndarray, names: Sequence[str]) -> list[dict[str, Any]]:
        """Rows ``idx`` (in that order) as dicts of ``names``."""
        columns = [self.columns[n].take(idx) for n in names]
        return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]


def estimated_bytes(
    schema: pa.Schema, rows: int, keys: bool = True, narrow: frozenset[str] = frozenset()
) -> int:
    """At most what :class:`PairTable` holds for ``rows`` rows of ``schema`` (no data read);
    ``narrow``: integer columns whose values fit int32 (from the log's statistics)."""
    width = sum(
        _NARROW if _is_text(f.type) or pa.types.is_date32(f.type) or f.name in narrow else _WIDE
        for f in schema
        if keys or f.name not in ("item_id", "depot_id")
    )
    return rows * width


def _int32_columns(files: Any, schema: pa.Schema) -> frozenset[str]:
    """Integer columns whose every file's min and max (Delta statistics) fit int32."""
    names = set(files.schema.names) if hasattr(files, "schema") else set()
    out = set()
    for field in schema:
        low, high = f"min.{field.name}", f"max.{field.name}"
        if not pa.types.is_integer(field.type) or low not in names or high not in names:
            continue
        lows, highs = files.column(low).to_pylist(), files.column(high).to_pylist()
        if None in lows or None in highs:
            continue
        if lows and _INT32.min <= min(lows) and max(highs) <= _INT32.max:
            out.add(field.name)
    return frozenset(out)


@dataclass(frozen=True)
class Layout:
    """How a table is held: sorted by item, depot and ``order``; only ``columns`` (None:
    all); the key columns kept or dropped once indexed."""

    order: tuple[str, ...] = ()
    columns: tuple[str, ...] | None = None
    keys: bool = True


# How each table the routes read from memory is held: one layout per table, since one
# version of it is held for every route.
LAYOUTS = {
    "fct_forecasts": Layout(order=("forecast_date", "target_date")),
    "fct_daily_demand": Layout(
        order=("demand_date",),
        columns=("item_id", "depot_id", "demand_date", "demand_qty", "receipts_qty",
                 "adjustments_qty"),
        keys=False,
    ),
    "fct_inventory_snapshot": Layout(
        order=("snapshot_date",),
        columns=("item_id", "depot_id", "snapshot_date", "on_hand"),
        keys=False,
    ),
    "fct_reorder_points": Layout(
        order=("as_of_date",),
        columns=("item_id", "depot_id", "as_of_date", "reorder_point", "safety_stock"),
        keys=False,
    ),
}  # fmt: skip


def _give_back_freed_memory() -> None:
    """Return what a load freed (the Arrow table, sort keys, a replaced version) to the
    system: without it the allocators keep it and the RSS stays at the load's peak (on the
    demo lake, about 1.7 GiB instead of 0.65)."""
    pa.default_memory_pool().release_unused()
    with contextlib.suppress(OSError, AttributeError):  # glibc only; numpy allocates there
        ctypes.CDLL("libc.so.6").malloc_trim(0)


@dataclass
class _Held:
    version: int
    table: PairTable | None  # None: too large, or failed to load: read the lake


class MemoryTables:
    """The held tables of one process, at most one version of each, each within
    ``max_bytes``."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._held: dict[str, _Held] = {}
        self._loading: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def held_bytes(self) -> int:
        return sum(h.table.nbytes for h in self._held.values() if h.table is not None)

    def get(
        self, uri: str, version: int, settings: Settings, layout: Layout, *, load: bool = True
    ) -> PairTable | None:
        """``uri`` at ``version`` held in memory, loading it now if nobody else is and
        ``load``; None when it is not held (too large, being loaded, or an older version)."""
        held = self._held.get(uri)
        if held is not None and held.version >= version:
            return held.table if held.version == version else None
        if not load:
            return None
        with self._lock:
            loading = self._loading.setdefault(uri, threading.Lock())
        if not loading.acquire(blocking=False):
            return None  # another worker loads it: this read goes to the lake meanwhile
        try:
            held = self._held.get(uri)
            if held is not None and held.version >= version:
                return held.table if held.version == version else None
            table = self._load(uri, version, settings, layout)
            self._held[uri] = _Held(version, table)  # the previous version goes now
            _give_back_freed_memory()
            return table
        finally:
            loading.release()

    def _load(self, uri: str, version: int, settings: Settings, layout: Layout) -> PairTable | None:
        from deltalake import DeltaTable

        try:
            dt = DeltaTable(uri, version=version, storage_options=delta.storage_options(settings))
            files = dt.get_add_actions(flatten=True)
            rows = sum(int(n or 0) for n in files.column("num_records").to_pylist())
            schema = pa.schema(dt.schema().to_arrow())
            if layout.columns is not None:
                schema = pa.schema([f for f in schema if f.name in layout.columns])
            size = estimated_bytes(schema, rows, layout.keys, _int32_columns(files, schema))
            if size > self.max_bytes:
                log.info("not holding %s v%s in memory: up to %d bytes", uri, version, size)
                return None
            data = dt.to_pyarrow_table(columns=schema.names)
            table = PairTable(data, layout.order, keys=layout.keys)
            if table.nbytes > self.max_bytes:  # the log had no row counts to estimate from
                log.info("not holding %s v%s in memory: %d bytes", uri, version, table.nbytes)
                return None
            log.info("holding %s v%s in memory: %d bytes", uri, version, table.nbytes)
            return table
        except Exception:  # an unexpected layout must cost the fast path, never the read
            log.exception("could not hold %s v%s in memory; reading the lake", uri, version)
            return None


# One per process, as the DuckDB snapshot copies: the API's worker threads share it.
_MEMORY: MemoryTables | None = None
_ROOTS: dict[str, str] = {}


def lake_uri(settings: Settings) -> str:
    """``settings.lake_uri``, resolved once per root (it resolves the path on each call)."""
    root = _ROOTS.get(settings.lake_root)
    if root is None:
        root = _ROOTS[settings.lake_root] = settings.lake_uri
    return root


def configure(max_bytes: int) -> MemoryTables | None:
    """Set the process's held-table budget (the API does at start); 0 turns it off."""
    global _MEMORY
    if max_bytes <= 0:
        _MEMORY = None
    elif _MEMORY is None or _MEMORY.max_bytes != max_bytes:
        _MEMORY = MemoryTables(max_bytes)
    return _MEMORY


def held(reader: GoldReader, table: str, *, load: bool = True) -> PairTable | None:
    """``table`` of the reader's pinned snapshot held in memory, or None (read the lake):
    only for a reader pinned to a published version, in a process that configured it.
    ``load=False`` (on the event loop) never loads: a table not yet held gives None.
    ``table`` is one of :data:`LAYOUTS`."""
    memory = _MEMORY
    if memory is None or reader.versions is None or table not in reader.versions:
        return None
    uri = f"{lake_uri(reader.settings)}/gold/{table}"  # as reader.uri(table), without a stat
    return memory.get(uri, reader.versions[table], reader.settings, LAYOUTS[table], load=load)
