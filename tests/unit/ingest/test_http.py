"""The shared HTTP client against a real local server replaying scripted responses."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from backend.ingest.http import RetryPolicy, SourceClient, SourceHTTPError, retry_after_seconds
from tests.services.http_replay import Reply, Script, replay_server


def _client(base_url: str, waits: list[float], **kwargs: object) -> SourceClient:
    return SourceClient(
        source="bacen",
        base_url=base_url,
        sleep=waits.append,
        seed=1,
        **kwargs,  # type: ignore[arg-type]
    )


def test_server_errors_are_retried_with_growing_jittered_waits():
    script = Script({"/series": [Reply(503), Reply(502), Reply(500), Reply(200, '[{"v": 1}]')]})
    waits: list[float] = []
    with replay_server(script) as url, _client(url, waits) as client:
        assert client.get_json("/series") == [{"v": 1}]

    assert len(script.requests) == 4
    assert len(waits) == 3
    for attempt, wait in enumerate(waits, start=1):
        assert 0 <= wait <= 0.5 * 2 ** (attempt - 1)


def test_retry_after_is_honoured():
    script = Script({"/s": [Reply(429, "slow down", {"Retry-After": "7"}), Reply(200, "[]")]})
    waits: list[float] = []
    with replay_server(script) as url, _client(url, waits) as client:
        assert client.get_json("/s") == []
    assert waits == [7.0]


def test_a_client_error_fails_at_once_naming_source_url_and_status():
    script = Script({"/missing": [Reply(404, "no such series")]})
    waits: list[float] = []
    with (
        replay_server(script) as url,
        _client(url, waits) as client,
        pytest.raises(SourceHTTPError) as caught,
    ):
        client.get("/missing", params={"codigo": 433})

    error = caught.value
    assert (error.status, error.attempts) == (404, 1)
    assert "bacen" in str(error) and "/missing?codigo=433" in str(error)
    assert "no such series" in str(error)
    assert waits == []


def test_timeouts_are_retried_then_reported():
    script = Script({"/slow": [Reply(200, "[]", delay=1.0)]})
    waits: list[float] = []
    with replay_server(script) as url:
        client = _client(url, waits, read_timeout=0.2, retry=RetryPolicy(attempts=3))
        with client, pytest.raises(SourceHTTPError, match="ReadTimeout") as caught:
            client.get("/slow")
    assert caught.value.status is None and caught.value.attempts == 3
    assert len(script.requests) == 3 and len(waits) == 2


def test_requests_in_flight_never_exceed_the_source_limit():
    script = Script({"/page": [Reply(200, "[]", delay=0.15)]})
    with replay_server(script) as url:
        client = _client(url, [], max_concurrency=2)
        with client, ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda _: client.get("/page"), range(8)))
    assert len(script.requests) == 8
    assert script.max_in_flight == 2


def test_retry_after_parses_seconds_and_http_dates():
    now = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds("Mon, 23 Nov 2026 12:00:30 GMT", now) == 30.0
    assert retry_after_seconds("Mon, 23 Nov 2026 11:00:00 GMT", now) == 0.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None
