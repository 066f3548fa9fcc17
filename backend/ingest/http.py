"""The HTTP client every external source shares: timeouts, retries, a concurrency cap.

Retries cover what a later try can fix: timeouts, connection errors, 429 and 5xx. The
wait doubles each time (with full jitter, so parallel extractors do not retry in step)
unless the server says how long with ``Retry-After``. Other 4xx fail at once. Every
error names the source, the URL and the last status, so a failing run says what broke.

A secret that travels in a URL (INMET's token is a path segment) is registered with the
client: httpx logs every request's URL at INFO, so the client redacts its secrets from the
records of httpx's and httpcore's loggers, whatever handler a process installs.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from backend.ingest.retry import RetryPolicy

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDACTED = "***"


class RedactSecrets(logging.Filter):
    """Rewrites a record whose message holds a registered secret, the secret masked."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: frozenset[str] = frozenset()
        self._lock = threading.Lock()

    def add(self, secrets: tuple[str, ...]) -> None:
        with self._lock:
            self._secrets = self._secrets | {s for s in secrets if s}

    def redact(self, text: str) -> str:
        # Longest first, so a secret that contains another is masked whole.
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if self._secrets:
            message = record.getMessage()
            redacted = self.redact(message)
            if redacted != message:
                record.msg, record.args = redacted, None
        return True


_REDACT = RedactSecrets()
# The libraries that log request URLs; a filter on a logger sees the records it emits.
_URL_LOGGERS = ("httpx", "httpcore")


def redact_in_logs(*secrets: str) -> None:
    """Keep these secrets out of every record that httpx and httpcore log."""
    _REDACT.add(secrets)
    for name in _URL_LOGGERS:
        logger = logging.getLogger(name)
        if _REDACT not in logger.filters:
            logger.addFilter(_REDACT)


class SourceHTTPError(RuntimeError):
    """A request of a source failed for good (after its retries, if it was retryable)."""

    def __init__(self, source: str, url: str, status: int | None, attempts: int, reason: str):
        self.source, self.url, self.status, self.attempts = source, url, status, attempts
        self.reason = reason
        status_text = f"last status {status}" if status is not None else "no response"
        super().__init__(
            f"{source}: GET {url} failed after {attempts} attempt(s), {status_text}: {reason}"
        )


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks for: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@dataclass
class SourceClient:
    """A synchronous client for one source; safe to share between threads.

    ``max_concurrency`` caps the requests in flight to that source, whatever the number
    of threads extracting from it, so a public API is not flooded.
    """

    source: str
    base_url: str = ""
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    max_concurrency: int = 4
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    headers: Mapping[str, str] = field(default_factory=dict)
    sleep: Callable[[float], None] = time.sleep
    seed: int | None = None
    # Recorded mode serves the demo's responses through this transport, so the parsing
    # code is the same as live.
    transport: httpx.BaseTransport | None = None
    # Secrets that may appear in a URL or a header: masked in httpx's logs.
    secrets: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.secrets:
            redact_in_logs(*self.secrets)
        self._slots = threading.BoundedSemaphore(self.max_concurrency)
        self._rng = random.Random(self.seed)
        timeout = httpx.Timeout(self.read_timeout, connect=self.connect_timeout)
        self._client = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            headers=dict(self.headers),
            transport=self.transport,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> SourceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, url: str, *, params: Mapping[str, Any] | None = None) -> httpx.Response:
        """GET with retries; returns the first 2xx/3xx response or raises SourceHTTPError."""
        full_url = str(self._client.build_request("GET", url, params=params).url)
        status: int | None = None
        reason = ""
        for attempt in range(1, self.retry.attempts + 1):
            wait: float | None = None
            try:
                with self._slots:
                    response = self._client.get(url, params=params)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                status, reason = None, f"{type(exc).__name__}: {exc}"
            else:
                status = response.status_code
                if status < 400:
                    return response
                reason = response.text[:200].strip() or response.reason_phrase
                if status not in RETRY_STATUSES:
                    raise SourceHTTPError(self.source, full_url, status, attempt, reason)
                wait = retry_after_seconds(response.headers.get("Retry-After"))
            if attempt == self.retry.attempts:
                break
            if wait is None:
                wait = self.retry.backoff(attempt, self._rng)
            self.sleep(min(wait, self.retry.max_delay))
        raise SourceHTTPError(self.source, full_url, status, self.retry.attempts, reason)

    def get_json(self, url: str, *, params: Mapping[str, Any] | None = None) -> Any:
        response = self.get(url, params=params)
        try:
            return response.json()
        except ValueError as exc:
            raise SourceHTTPError(
                self.source, str(response.url), response.status_code, 1, f"not JSON: {exc}"
            ) from exc
