"""The alert outbox's first write: two runs that find no outbox yet record each alert once."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from backend.events import outbox
from backend.lake import delta
from backend.settings import Settings

pytestmark = pytest.mark.reliability


def _rows(run_id: str) -> list[dict[str, object]]:
    return [
        {
            "alert_id": f"a{n}",
            "alert_date": date(2026, 10, 31),
            "status": "pending",
            "payload": "{}",
            "run_id": run_id,
            "recorded_at": datetime(2026, 11, 1, tzinfo=UTC),
        }
        for n in range(3)
    ]


@pytest.mark.parametrize("attempt", range(4))
def test_concurrent_first_writes_record_each_alert_once(tmp_path: Path, attempt: int):
    settings = Settings(env="test", lake_root=str(tmp_path / "lake"), warehouse_dir=tmp_path)
    uri = outbox.outbox_uri(settings)
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def first_write(run_id: str) -> None:
        start.wait()
        try:
            outbox._merge(uri, _rows(run_id), settings, update=False)
        except BaseException as exc:  # a lost commit race must surface, not vanish
            errors.append(exc)

    writers = [threading.Thread(target=first_write, args=(r,)) for r in ("run-a", "run-b")]
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    ids = delta.read_table(uri, columns=["alert_id"], settings=settings)["alert_id"].to_pylist()
    # A MERGE that lost the commit race to the other may fail (the run fails and re-runs);
    # what must never happen is an alert recorded twice.
    assert sorted(ids) == ["a0", "a1", "a2"]
    assert len(errors) <= 1
