"""Structured logs: one JSON object per event in services, readable lines in a terminal.

Modules keep using ``logging.getLogger(__name__)``; the handler installed here renders
their records with structlog's ``ProcessorFormatter``. What a run is doing is bound with
:func:`log_context` (structlog's context variables), so every line logged inside a step
carries ``run_id``, ``step`` and, in a source's extract, ``source``. Airflow 3's task
logging merges the same context variables into its task logs, so the tasks' lines carry
them too without this module configuring Airflow's handlers.

Secrets never reach a line: passwords in URLs (``scheme://user:secret@host``), secret
query parameters and fields named like secrets are replaced by ``***``.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import logging.config
import re
import sys
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import Any, Concatenate, Literal, ParamSpec, TypeVar, cast

import structlog
from structlog.contextvars import bound_contextvars, merge_contextvars

from backend.settings import Settings

P = ParamSpec("P")
T = TypeVar("T")
Format = Literal["json", "console"]

REDACTED = "***"
# scheme://user:password@host -> scheme://user:***@host (the user name is kept: it helps).
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@]*:)[^\s@/]+@")
_SECRET_PARAM = re.compile(
    r"(?P<head>(?<![A-Za-z0-9_\-])(?:password|passwd|pwd|token|access_token|api_key|apikey|key|"
    r"secret|signature|sig)=)[^&;\s#]+",
    re.IGNORECASE,
)
_SECRET_FIELD = re.compile(r"password|passwd|secret|token|api_key|apikey|authorization", re.I)
# Marks the handler this module installed, so configuring twice replaces it and leaves
# other handlers (pytest's capture, a host application's) alone.
_OURS = "_nova_observability"
# Libraries that log routine chatter at INFO (one line per HTTP request, per migration
# context): kept at WARNING unless DEBUG is asked for.
CHATTY = ("httpx", "httpcore", "alembic", "urllib3", "py4j", "cmdstanpy", "numexpr")


def redact_text(text: str) -> str:
    """The text with URL passwords and secret query parameters replaced by ``***``."""
    text = _URL_PASSWORD.sub(lambda m: f"{m.group('head')}{REDACTED}@", text)
    return _SECRET_PARAM.sub(lambda m: f"{m.group('head')}{REDACTED}", text)


def _redact_value(key: str, value: Any) -> Any:
    if _SECRET_FIELD.search(key) and value is not None:
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    return value


def redact(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: no secret leaves in any field (message, traceback, context)."""
    for key, value in list(event_dict.items()):
        event_dict[key] = _redact_value(key, value)
    return event_dict


def drop_color_message(
    _: Any, __: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """uvicorn adds a copy of each message with terminal colour codes: not for a log line."""
    event_dict.pop("color_message", None)
    return event_dict


def resolve_format(setting: str, stream: Any = None) -> Format:
    """``auto`` is console for a person at a terminal, JSON for anything else."""
    if setting in ("json", "console"):
        return cast(Format, setting)
    stream = stream if stream is not None else sys.stderr
    isatty = getattr(stream, "isatty", None)
    return "console" if callable(isatty) and isatty() else "json"


def formatter(fmt: Format = "json") -> logging.Formatter:
    """The formatter of every handler: JSON objects or coloured console lines."""
    renderer: Any = (
        structlog.processors.JSONRenderer(sort_keys=False)
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            merge_contextvars,
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.ExtraAdder(),  # a record's `extra=` fields
            structlog.processors.TimeStamper(fmt="iso", utc=True),
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            drop_color_message,
            redact,
            renderer,
        ],
    )


class _CurrentStderr(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time, so a live progress display that
    redirects stderr (rich, in `nova run`) draws the lines above its bars."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _: Any) -> None:
        pass


def handler(fmt: Format = "json", stream: Any = None) -> logging.Handler:
    """A handler rendering records as :func:`formatter` does (to stderr by default)."""
    made: logging.Handler = _CurrentStderr() if stream is None else logging.StreamHandler(stream)
    made.setFormatter(formatter(fmt))
    setattr(made, _OURS, True)
    return made


def configure_logging(settings: Settings, stream: Any = None) -> Format:
    """Route the root logger through one handler of ours at the configured level.

    Idempotent: a second call replaces the handler the first one installed. Returns the
    format chosen (``auto`` resolved against ``stream`` or stderr).
    """
    fmt = resolve_format(settings.log_format, stream)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _OURS, False)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler(fmt, stream))
    root.setLevel(settings.log_level)
    for name in CHATTY:
        logging.getLogger(name).setLevel(
            logging.DEBUG if settings.log_level == "DEBUG" else logging.WARNING
        )
    return fmt


def uvicorn_log_config(settings: Settings) -> dict[str, Any]:
    """uvicorn's ``log_config``: its own loggers and the app's through our handler.

    A dictConfig rather than a configured handler: uvicorn applies it in every worker
    process it starts, where nothing this process configured exists.
    """
    fmt = resolve_format(settings.log_format)
    chatty = "DEBUG" if settings.log_level == "DEBUG" else "WARNING"
    target = {"handlers": ["nova"], "level": settings.log_level, "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {"nova": {"()": f"{__name__}.handler", "fmt": fmt}},
        "root": {"handlers": ["nova"], "level": settings.log_level},
        "loggers": {
            **{name: {"level": chatty} for name in CHATTY},
            "uvicorn": target,
            "uvicorn.error": {"level": settings.log_level},  # propagates to "uvicorn"
            "uvicorn.access": target,
        },
    }


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Every log line inside the block carries ``fields`` (None values are left out)."""
    with bound_contextvars(**{k: v for k, v in fields.items() if v is not None}):
        yield


def in_context(fn: Callable[P, T], **fields: Any) -> Callable[P, T]:
    """``fn`` to run in another thread with the caller's log context plus ``fields``.

    Threads of a pool start with an empty context; this carries the run id and step over
    (a copy taken now, one fresh copy per call, as a Context runs in one thread at a time).
    """
    captured = contextvars.copy_context()

    def call(*args: P.args, **kwargs: P.kwargs) -> T:
        def inner() -> T:
            with log_context(**fields):
                return fn(*args, **kwargs)

        return captured.copy().run(inner)

    return call


# --- the pipeline's run and steps -------------------------------------------------------

log = logging.getLogger("backend.pipeline")


@contextmanager
def logged_run(ctx: Any) -> Iterator[None]:
    """Bind the run's id to every line of the run, and log its start and its outcome.

    ``ctx`` is a RunContext (typed loosely: the pipeline imports this module).
    """
    with log_context(run_id=ctx.run_id, kind=ctx.kind):
        log.info("run started", extra={"start": str(ctx.start), "end": str(ctx.end)})
        try:
            yield
        finally:
            report = ctx.report
            level = logging.ERROR if report.status == "failed" else logging.INFO
            log.log(
                level,
                "run finished: %s in %.1fs",
                report.status,
                report.seconds,
                extra={"errors": list(report.errors)},
            )


def logged_step(fn: Callable[Concatenate[Any, str, P], T]) -> Callable[Concatenate[Any, str, P], T]:
    """Decorate ``fn(ctx, name, ...)`` (one Airflow task's step): its lines carry the run
    id, the step and, for a task of one source, the source."""

    @functools.wraps(fn)
    def wrapper(ctx: Any, name: str, *args: P.args, **kwargs: P.kwargs) -> T:
        source = ctx.sources[0] if len(ctx.sources) == 1 else None
        with log_context(run_id=ctx.run_id, step=name, source=source):
            return fn(ctx, name, *args, **kwargs)

    return wrapper


class StepLogging:
    """A runner observer that binds the current step to the log context and logs each
    step's outcome, then hands every event on to ``inner`` (the progress display).

    The runner calls ``step_started`` and ``step_finished`` around each step in one
    thread, in order, whatever the step's outcome.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self._bound: Mapping[str, contextvars.Token[Any]] | None = None

    def step_started(self, name: str, total: int | None) -> None:
        self._bound = structlog.contextvars.bind_contextvars(step=name)
        log.info("step started")
        self.inner.step_started(name, total)

    def step_total(self, name: str, total: int) -> None:
        self.inner.step_total(name, total)

    def step_advanced(self, name: str, label: str) -> None:
        self.inner.step_advanced(name, label)

    def step_finished(self, name: str, result: Any) -> None:
        level = logging.ERROR if result.status == "failed" else logging.INFO
        log.log(
            level,
            "step %s: %s in %.2fs, %d rows",
            name,
            result.status,
            result.seconds,
            result.rows,
            extra={"status": result.status, "seconds": round(result.seconds, 3),
                   "rows": result.rows, **{k: str(v) for k, v in result.detail.items()}},
        )  # fmt: skip
        if self._bound is not None:
            structlog.contextvars.reset_contextvars(**self._bound)
            self._bound = None
        self.inner.step_finished(name, result)
