"""The two ways a notification goes out: email over SMTP and a chat webhook.

Each send is one try; :func:`send_with_retries` retries what may pass later (a server
down, a timeout, a 4xx SMTP reply, HTTP 429 or 5xx) with doubling waits, and gives up at
once on a refusal (a 5xx SMTP reply, another HTTP 4xx). Error texts never carry the
SMTP password or the webhook URL: both are secrets.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from email import policy as email_policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit

import httpx

from backend.settings import Settings

log = logging.getLogger("nova.notify")

SMTP_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
SMTP_POLICY = email_policy.SMTP.clone(max_line_length=998)


@dataclass(frozen=True)
class Message:
    """One notification. ``keys`` are what the send ledger records once it went out: the
    alert episodes it announces, or the run outcome."""

    kind: str  # critical, digest or run
    subject: str
    text: str
    keys: tuple[str, ...]
    depot_id: str | None = None


class SendFailed(RuntimeError):
    """A send that did not go out; ``retry``: whether a later try may succeed."""

    def __init__(self, reason: str, *, retry: bool) -> None:
        super().__init__(reason)
        self.retry = retry


@dataclass(frozen=True)
class SmtpServer:
    scheme: str
    host: str
    port: int
    username: str | None
    password: str | None

    def __repr__(self) -> str:  # never show the password
        return f"SmtpServer({self.scheme}://{self.host}:{self.port})"


def parse_smtp_url(url: str) -> SmtpServer:
    """``smtp://``, ``smtp+starttls://`` or ``smtps://`` ``[user:password@]host[:port]``;
    the user and password are percent-decoded (``%40`` for an ``@`` in a user name)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in SMTP_PORTS:
        raise ValueError(
            f"NOVA_NOTIFY_SMTP_URL must start with smtp://, smtp+starttls:// or smtps://, "
            f"not {scheme or 'nothing'}://"
        )
    try:
        port = parts.port or SMTP_PORTS[scheme]
    except ValueError:
        raise ValueError("NOVA_NOTIFY_SMTP_URL has a port that is not a number") from None
    if not parts.hostname:
        raise ValueError("NOVA_NOTIFY_SMTP_URL names no host")
    return SmtpServer(
        scheme,
        parts.hostname,
        port,
        unquote(parts.username) if parts.username else None,
        unquote(parts.password) if parts.password else None,
    )


def parse_recipients(value: str) -> tuple[list[str], dict[str, list[str]]]:
    """``ops@x,DEP-SSA:ssa@x`` -> (["ops@x"], {"DEP-SSA": ["ssa@x"]}): an address alone
    gets every notification, ``DEPOT:address`` that depot's alerts."""
    everyone: list[str] = []
    by_depot: dict[str, list[str]] = {}
    for raw in value.split(","):
        entry = raw.strip()
        if not entry:
            continue
        depot, sep, address = entry.rpartition(":")
        address = address.strip()
        if "@" not in address or any(c.isspace() for c in address) or address.count("@") != 1:
            raise ValueError(f"NOVA_NOTIFY_EMAIL_TO: {entry!r} is not an address")
        if sep:
            if not depot.strip():
                raise ValueError(f"NOVA_NOTIFY_EMAIL_TO: {entry!r} names no depot")
            by_depot.setdefault(depot.strip(), []).append(address)
        else:
            everyone.append(address)
    return everyone, by_depot


def recipients_for(message: Message, settings: Settings) -> list[str]:
    """Who gets ``message``: everyone's addresses, plus its depot's for an alert. A run
    outcome goes to everyone, or to every depot address when no one is set for all."""
    everyone, by_depot = parse_recipients(settings.notify_email_to)
    if message.depot_id is not None:
        chosen = everyone + by_depot.get(message.depot_id, [])
    else:
        chosen = everyone or [a for addresses in by_depot.values() for a in addresses]
    return list(dict.fromkeys(chosen))


def send_email(settings: Settings, message: Message, recipients: list[str]) -> None:
    """One try at sending ``message`` to ``recipients`` through NOVA_NOTIFY_SMTP_URL."""
    assert settings.notify_smtp_url is not None
    server = parse_smtp_url(settings.notify_smtp_url.get_secret_value())
    # Lines up to RFC 5322's 998 characters: a subject folded at 78 arrives in some
    # clients with a leading space, and work-list lines stay readable in the raw source.
    email = EmailMessage(policy=SMTP_POLICY)
    email["Subject"] = message.subject
    email["From"] = settings.notify_email_from
    email["To"] = ", ".join(recipients)
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = make_msgid(domain="nova.local")
    email.set_content(message.text)
    timeout = settings.notify_timeout_seconds
    try:
        client: smtplib.SMTP
        if server.scheme == "smtps":
            client = smtplib.SMTP_SSL(
                server.host, server.port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(server.host, server.port, timeout=timeout)
        with client:
            if server.scheme == "smtp+starttls":
                client.starttls(context=ssl.create_default_context())
            if server.username:
                client.login(server.username, server.password or "")
            client.send_message(email)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = sorted({code for code, _ in exc.recipients.values()})
        raise SendFailed(
            f"the mail server refused every recipient ({codes})", retry=False
        ) from None
    except smtplib.SMTPResponseException as exc:
        reply = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        raise SendFailed(
            f"the mail server answered {exc.smtp_code} {reply.strip()}",
            retry=400 <= exc.smtp_code < 500,
        ) from None
    except (OSError, smtplib.SMTPException) as exc:
        # connection refused or lost, timeout, TLS failure: the server may come back
        raise SendFailed(
            f"mail server {server.host}:{server.port} unreachable: {type(exc).__name__}: {exc}",
            retry=True,
        ) from None


def post_webhook(settings: Settings, message: Message) -> None:
    """One POST of ``{"text": ...}`` to NOVA_NOTIFY_WEBHOOK_URL: the field Slack's and
    Teams' incoming webhooks both display."""
    assert settings.notify_webhook_url is not None
    url = settings.notify_webhook_url.get_secret_value()
    body = {"text": f"*{message.subject}*\n{message.text}"}
    try:
        response = httpx.post(url, json=body, timeout=settings.notify_timeout_seconds)
    except httpx.HTTPError as exc:
        # the exception's text may hold the URL (a secret): only its kind is said
        raise SendFailed(f"webhook unreachable: {type(exc).__name__}", retry=True) from None
    if response.is_success:
        return
    status = response.status_code
    raise SendFailed(f"webhook answered HTTP {status}", retry=status == 429 or status >= 500)


def send_with_retries(
    settings: Settings,
    what: str,
    send: Callable[[], None],
    sleep: Callable[[float], None] = time.sleep,
) -> str | None:
    """Call ``send`` up to NOVA_NOTIFY_ATTEMPTS times while it fails with a reason to
    retry, waiting NOVA_NOTIFY_BACKOFF_SECONDS, then twice that, ...; None when it went
    out, else why not."""
    delay = settings.notify_backoff_seconds
    for attempt in range(1, settings.notify_attempts + 1):
        try:
            send()
            return None
        except SendFailed as exc:
            if not exc.retry or attempt == settings.notify_attempts:
                reason = f"{exc} (after {attempt} {'try' if attempt == 1 else 'tries'})"
                log.warning("notification %s not sent: %s", what, reason)
                return reason
            log.info("notification %s: try %d failed (%s); retrying", what, attempt, exc)
        sleep(delay)
        delay *= 2
    return "no try made"  # unreachable: notify_attempts >= 1
