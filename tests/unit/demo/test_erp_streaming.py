"""The generator streams its big tables in chunks; the chunk size never changes a row."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from backend.demo.erp import TABLES, DemoConfig, generate_demo

SMALL = DemoConfig(items=60, depots=3, towers=40, years=1)


def _stored_rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows as SQLite stores them, in the order they were written."""
    conn = sqlite3.connect(path)
    try:
        return {
            name: conn.execute(f'SELECT * FROM "{name}" ORDER BY rowid').fetchall()
            for name in TABLES
        }
    finally:
        conn.close()


@dataclass
class Written:
    counts: dict[str, int]
    rows: dict[str, list[tuple[Any, ...]]]


def _generate(path: Path, chunk_rows: int) -> tuple[Written, list[tuple[str, int]]]:
    calls: list[tuple[str, int]] = []
    counts = generate_demo(
        f"sqlite:///{path}",
        SMALL,
        chunk_rows=chunk_rows,
        progress=lambda table, n: calls.append((table, n)),
    )
    return Written(counts, _stored_rows(path)), calls


@pytest.fixture(scope="module")
def whole(tmp_path_factory: pytest.TempPathFactory) -> Written:
    """Each table in one chunk: the rows the generator held before it streamed."""
    written, _ = _generate(tmp_path_factory.mktemp("whole") / "erp.sqlite", 10**9)
    return written


@pytest.mark.parametrize("chunk_rows", [97, 500])
def test_chunk_size_never_changes_the_rows(whole: Written, tmp_path: Path, chunk_rows: int) -> None:
    written, calls = _generate(tmp_path / "erp.sqlite", chunk_rows)
    assert written.counts == whole.counts
    assert whole.counts["stock_movements"] > 10 * chunk_rows  # many chunks, not one
    for name in TABLES:
        assert written.rows[name] == whole.rows[name], name
        # progress after every chunk: 0, then the rows written so far
        rows = whole.counts[name]
        expected = [0, *range(chunk_rows, rows, chunk_rows), rows]
        assert [n for table, n in calls if table == name] == expected


def test_a_chunk_can_end_between_a_double_posting(whole: Written, tmp_path: Path) -> None:
    movements = whole.rows["stock_movements"]
    ids = [row[0] for row in movements]
    # the copy of a double posting sits right after its original, with the same id
    copy = next(k for k in range(1, len(ids)) if ids[k] == ids[k - 1])
    assert movements[copy] == movements[copy - 1]
    written, _ = _generate(tmp_path / "erp.sqlite", copy)  # the first chunk ends at the original
    assert written.rows["stock_movements"] == movements


def test_chunk_rows_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="chunk_rows"):
        generate_demo(f"sqlite:///{tmp_path / 'erp.sqlite'}", SMALL, chunk_rows=0)
