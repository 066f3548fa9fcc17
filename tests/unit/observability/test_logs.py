"""Structured logs: JSON lines bound to the run, step and source, and no secret in them."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import pytest

from backend.observability import logs
from backend.pipeline import runner, steps
from backend.pipeline.context import RunContext
from backend.settings import Settings


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """Each test leaves the process's logging as it found it."""
    root = logging.getLogger()
    level = root.level
    chatty = {name: logging.getLogger(name).level for name in logs.CHATTY}
    yield
    for handler in [h for h in root.handlers if getattr(h, logs._OURS, False)]:
        root.removeHandler(handler)
    root.setLevel(level)
    for name, was in chatty.items():
        logging.getLogger(name).setLevel(was)


@pytest.fixture
def captured(settings: Settings) -> Iterator[io.StringIO]:
    """Our handler on the root logger, writing JSON into a buffer; removed afterwards."""
    buffer = io.StringIO()
    root = logging.getLogger()
    level = root.level
    logs.configure_logging(settings.model_copy(update={"log_format": "json"}), stream=buffer)
    try:
        yield buffer
    finally:
        for handler in [h for h in root.handlers if getattr(h, logs._OURS, False)]:
            root.removeHandler(handler)
        root.setLevel(level)


def lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


def test_one_json_object_per_event_with_the_bound_context(captured: io.StringIO) -> None:
    log = logging.getLogger("backend.test")
    with logs.log_context(run_id="r-1", step="extract"):
        log.info("read %d rows", 3, extra={"table": "bronze.erp.items"})
        with ThreadPoolExecutor(2) as pool:  # pool threads start with an empty context
            pool.submit(logs.in_context(log.warning, source="inmet"), "slow source").result()
            pool.submit(log.info, "outside the context").result()
    log.info("after the step")
    first, threaded, bare, after = lines(captured)
    assert first["event"] == "read 3 rows"
    assert (first["run_id"], first["step"], first["table"]) == (
        "r-1",
        "extract",
        "bronze.erp.items",
    )
    assert (first["level"], first["logger"]) == ("info", "backend.test")
    assert first["timestamp"].endswith("Z")
    assert (threaded["run_id"], threaded["step"], threaded["source"]) == ("r-1", "extract", "inmet")
    assert "run_id" not in bare and "run_id" not in after


def test_passwords_in_urls_and_secret_fields_are_redacted(captured: io.StringIO) -> None:
    log = logging.getLogger("backend.test")
    url = "postgresql+psycopg://erp:s3cret-Pass@postgres:5432/erp"
    log.warning("cannot reach %s", url, extra={"password": "hunter2", "target": url})
    try:
        raise ConnectionError("redis://:r3dis-pw@redis:6379/0 refused; see ?token=abc123&x=1")
    except ConnectionError:
        log.exception("cache down")
    text = captured.getvalue()
    for secret in ("s3cret-Pass", "hunter2", "r3dis-pw", "abc123"):
        assert secret not in text
    warning, error = lines(captured)
    assert warning["event"] == "cannot reach postgresql+psycopg://erp:***@postgres:5432/erp"
    assert warning["password"] == "***"
    assert warning["target"].startswith("postgresql+psycopg://erp:***@")
    assert "redis://:***@redis:6379/0" in error["exception"]
    assert "token=***&x=1" in error["exception"]


def test_redact_text_leaves_urls_without_a_password_alone() -> None:
    assert logs.redact_text("http://api:8000/metrics?limit=5") == "http://api:8000/metrics?limit=5"
    assert logs.redact_text("s3://lake/nova key=abc") == "s3://lake/nova key=***"


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_auto_format_is_console_at_a_terminal_and_json_elsewhere(settings: Settings) -> None:
    assert logs.resolve_format("auto", _Tty()) == "console"
    assert logs.resolve_format("auto", io.StringIO()) == "json"
    assert logs.resolve_format("json", _Tty()) == "json"
    buffer = _Tty()
    root = logging.getLogger()
    try:
        assert logs.configure_logging(settings, stream=buffer) == "console"
        logging.getLogger("backend.test").warning("for people")
    finally:
        for handler in [h for h in root.handlers if getattr(h, logs._OURS, False)]:
            root.removeHandler(handler)
    assert "for people" in buffer.getvalue()
    assert not buffer.getvalue().lstrip().startswith("{")


def test_configuring_twice_keeps_one_handler_of_ours(settings: Settings) -> None:
    root = logging.getLogger()
    level = root.level
    try:
        logs.configure_logging(settings, stream=io.StringIO())
        logs.configure_logging(settings, stream=io.StringIO())
        assert sum(getattr(h, logs._OURS, False) for h in root.handlers) == 1
        # One line per HTTP request is chatter at INFO, not at DEBUG.
        assert logging.getLogger("httpx").level == logging.WARNING
        logs.configure_logging(settings.model_copy(update={"log_level": "DEBUG"}), io.StringIO())
        assert logging.getLogger("httpx").level == logging.DEBUG
    finally:
        for handler in [h for h in root.handlers if getattr(h, logs._OURS, False)]:
            root.removeHandler(handler)
        root.setLevel(level)


def test_uvicorn_config_routes_its_loggers_through_our_handler(settings: Settings) -> None:
    config = logs.uvicorn_log_config(settings.model_copy(update={"log_format": "json"}))
    assert config["handlers"]["nova"] == {"()": "backend.observability.logs.handler", "fmt": "json"}
    assert config["loggers"]["uvicorn.access"]["handlers"] == ["nova"]
    assert config["root"]["handlers"] == ["nova"]


def test_every_line_of_a_run_carries_its_run_id_step_and_source(
    captured: io.StringIO, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The runner binds the run and each step; the extract's pool threads get the source."""
    step_log = logging.getLogger("backend.ingest.test")

    def extract_source(ctx: RunContext, name: str) -> dict[str, int]:
        step_log.info("extracting %s", name)
        return {}

    def failing() -> None:
        step_log.info("about to fail")
        raise RuntimeError("dbt build failed")

    def plan(ctx: RunContext, observer: Any) -> list[tuple[str, Any]]:
        return [("extract", lambda: steps.extract(ctx)), ("transform", failing)]

    monkeypatch.setattr(steps, "extract_source", extract_source)
    monkeypatch.setattr(steps, "registered_sources", lambda: ["erp", "inmet"])
    monkeypatch.setattr(steps, "ensure_bronze_tables", lambda source, settings: None)
    monkeypatch.setattr(steps, "get_source", lambda name: name)
    monkeypatch.setattr(runner, "plan", plan)
    ctx = RunContext(
        start=date(2026, 11, 1), end=date(2026, 11, 1), settings=settings, sources=("erp", "inmet")
    )
    with pytest.raises(RuntimeError, match="dbt build failed"):
        runner.run(ctx)
    records = lines(captured)
    assert records, "the run logged nothing"
    assert all(r.get("run_id") == ctx.run_id for r in records), records
    extracting = {r["source"]: r for r in records if r["event"].startswith("extracting")}
    assert set(extracting) == {"erp", "inmet"}
    assert all(r["step"] == "extract" for r in extracting.values())
    failed = next(r for r in records if r["event"].startswith("step transform"))
    assert (failed["level"], failed["status"], failed["step"]) == ("error", "failed", "transform")
    assert failed["error"] == "dbt build failed"
    finished = records[-1]
    assert finished["event"].startswith("run finished: failed")
    assert "step" not in finished  # the step's binding ended with the step
    assert finished["errors"] == ["transform: dbt build failed"]


def test_an_airflow_step_carries_its_run_step_and_one_source(
    captured: io.StringIO, settings: Settings
) -> None:
    from backend.pipeline import airflow_support

    ctx = RunContext(
        start=date(2026, 11, 1), end=date(2026, 11, 1), settings=settings, sources=("erp",)
    )
    airflow_support.run_step(ctx, "extract_erp", lambda: logging.getLogger("t").info("in the task"))
    (record,) = [r for r in lines(captured) if r["event"] == "in the task"]
    assert (record["run_id"], record["step"], record["source"]) == (
        ctx.run_id,
        "extract_erp",
        "erp",
    )
