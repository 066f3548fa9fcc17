"""Deliver messages on every configured channel, once each (the send ledger)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from backend.notify import ledger
from backend.notify.channels import (
    Message,
    parse_recipients,
    post_webhook,
    recipients_for,
    send_email,
    send_with_retries,
)
from backend.notify.messages import alert_messages, run_key, run_message
from backend.settings import Settings

log = logging.getLogger("nova.notify")

# The work list's default order (backend/api/routes/actions.py: -priority, then action_id).
ALERTS_SQL = """
    select * from delta_scan($t_fct_actions)
    where as_of_date = $run_date and alert_id is not null
    order by priority desc nulls last, action_id
"""


@dataclass
class NotifyResult:
    sent: int = 0  # emails and webhook posts that went out
    failed: int = 0  # given up after their retries
    notes: list[str] = field(default_factory=list)

    def add(self, other: NotifyResult) -> None:
        self.sent += other.sent
        self.failed += other.failed
        self.notes.extend(other.notes)


Sender = Callable[[Message], None]


def channels(settings: Settings) -> dict[str, Sender]:
    """The configured channels by name: email needs an SMTP URL and a recipient."""
    found: dict[str, Sender] = {}
    if settings.notify_smtp_url is not None and any(parse_recipients(settings.notify_email_to)):
        found["email"] = lambda message: send_email(
            settings, message, recipients_for(message, settings)
        )
    if settings.notify_webhook_url is not None:
        found["webhook"] = lambda message: post_webhook(settings, message)
    return found


def enabled(settings: Settings) -> bool:
    return bool(channels(settings))


def _deliver(
    settings: Settings,
    channel: str,
    send: Sender,
    messages: list[Message],
    *,
    run_id: str,
    run_date: date,
) -> NotifyResult:
    result = NotifyResult()
    for message in messages:
        if channel == "email" and not recipients_for(message, settings):
            continue  # a depot's alerts, with addresses set only for other depots
        what = f"{channel} {message.kind} {message.depot_id or ''}".strip()
        failure = send_with_retries(settings, what, lambda m=message: send(m))  # type: ignore[misc]
        if failure is not None:
            result.failed += 1
            result.notes.append(
                f"notification not sent ({what}): {failure}; the run goes on and the next "
                "run tries again"
            )
            continue
        result.sent += 1
        try:
            ledger.record(
                settings, channel, message.kind, message.keys, run_id=run_id, run_date=run_date
            )
        except Exception as exc:  # sent, but may be sent again by the next run
            result.notes.append(f"notification sent ({what}) but not recorded: {exc}")
    return result


def _safely(what: str, call: Callable[[], NotifyResult]) -> NotifyResult:
    """Notifications never fail a run: any error becomes a note."""
    try:
        return call()
    except Exception as exc:
        log.warning("notifications (%s) failed: %s", what, exc)
        return NotifyResult(notes=[f"notifications ({what}) failed: {exc}; the run goes on"])


def notify_alerts(settings: Settings, *, run_id: str, run_date: date) -> NotifyResult:
    """Announce D's alerts not yet announced: critical ones on platinum towers, then one
    digest per depot (the publish step, once fct_actions is in gold)."""

    def run() -> NotifyResult:
        from backend.lake.reader import GoldReader

        found = channels(settings)
        result = NotifyResult()
        if not found:
            return result
        alerts = GoldReader(settings).rows(
            ALERTS_SQL, tables=["fct_actions"], params={"run_date": run_date}
        )
        for name, send in found.items():
            messages = alert_messages(
                alerts,
                ledger.sent_keys(settings, name),
                run_date=run_date.isoformat(),
                limit=settings.notify_digest_lines,
            )
            result.add(_deliver(settings, name, send, messages, run_id=run_id, run_date=run_date))
        return result

    return _safely("alerts", run)


def notify_run(
    settings: Settings, report: Mapping[str, Any], report_uri: str | None = None
) -> NotifyResult:
    """Announce a run that failed or ended degraded (``report``: a run report as a dict),
    once per date range and outcome."""

    def run() -> NotifyResult:
        found = channels(settings)
        result = NotifyResult()
        if not found or report.get("status") not in ("failed", "degraded"):
            return result
        message = run_message(report, report_uri)
        run_date = date.fromisoformat(str(report["end"]))
        for name, send in found.items():
            if run_key(report) in ledger.sent_keys(settings, name):
                continue
            result.add(
                _deliver(
                    settings, name, send, [message], run_id=str(report["run_id"]), run_date=run_date
                )
            )
        return result

    return _safely("run outcome", run)
