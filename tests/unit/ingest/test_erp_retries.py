"""The ERP source retries what a later try can fix, and only that."""

from __future__ import annotations

from datetime import date

import pytest

from backend.ingest.base import ExtractWindow
from backend.ingest.erp import ErpSource
from backend.ingest.retry import RetriesExhausted, RetryPolicy
from tests.services.postgres import free_port


def test_a_refused_connection_is_retried_then_reported(settings):
    down = settings.model_copy(
        update={"erp_url": f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/erp"}
    )
    waits: list[float] = []
    source = ErpSource(retry=RetryPolicy(attempts=3, base_delay=1.0), sleep=waits.append)

    with pytest.raises(RetriesExhausted, match="after 3 attempt") as caught:
        source.extract(ExtractWindow(date(2026, 10, 1), date(2026, 10, 1), "b", down))

    assert "Connection refused" in str(caught.value)
    assert len(waits) == 2 and all(0 <= w <= 2.0 for w in waits)


def test_a_query_error_is_not_retried(settings):
    # An empty SQLite database: the tables are missing, which no retry can fix.
    waits: list[float] = []
    source = ErpSource(retry=RetryPolicy(attempts=3), sleep=waits.append)

    with pytest.raises(Exception, match=r"erp\.suppliers.*no such table"):
        source.extract(ExtractWindow(date(2026, 10, 1), date(2026, 10, 1), "b", settings))
    assert waits == []
