"""Notifications end to end: a real SMTP server (aiosmtpd) and a local webhook receiver
get what `nova run`'s publish step and its end send; the send ledger keeps re-runs quiet;
a mail server that refuses never fails the run."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from backend.demo.erp import DemoConfig, generate_demo
from backend.lake import delta
from backend.notify import ledger
from backend.pipeline import runner, steps
from backend.pipeline.context import RunContext
from backend.settings import Settings
from tests.services.gold import RUN_DATE, SCHEMAS, _action, action_rows, build_gold, write_gold
from tests.services.smtp import Mailbox, free_port, smtp_server
from tests.services.webhook import Hook, webhook_receiver

pytestmark = pytest.mark.integration


@dataclass
class Outbox:
    """Where the run's notifications land, and settings that send there."""

    mailbox: Mailbox
    hook: Hook
    settings: Settings


def _settings(tmp_path: Path, smtp: str | None, webhook: str | None, **extra: Any) -> Settings:
    return Settings(
        env="test",
        lake_root=str(tmp_path / "lake"),
        warehouse_dir=tmp_path / "warehouse",
        erp_url=f"sqlite:///{tmp_path / 'erp.sqlite'}",
        notify_smtp_url=smtp,
        notify_email_to="ops@nova.example,DEP01:dep01@nova.example",
        notify_webhook_url=webhook,
        notify_backoff_seconds=0.01,
        notify_timeout_seconds=5,
        **extra,
    )


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    mailbox, hook = Mailbox(), Hook()
    with smtp_server(mailbox) as smtp, webhook_receiver(hook) as url:
        yield Outbox(mailbox, hook, _settings(tmp_path, f"smtp://{smtp}", url))


def _run(settings: Settings, calls: Callable[[RunContext], list[tuple[str, Any]]]) -> RunContext:
    """The runner (lake lock, report, notifications at the end) over the given steps: the
    tests choose the steps so they need no dbt build."""
    ctx = RunContext(start=RUN_DATE, end=RUN_DATE, settings=settings, kind="run")
    original = runner.plan
    runner.plan = lambda c, observer: calls(c)  # type: ignore[assignment]
    try:
        # a failing run is what some tests want: its report says so
        with contextlib.suppress(Exception):
            runner.run(ctx)
    finally:
        runner.plan = original  # type: ignore[assignment]
    return ctx


def _publish(ctx: RunContext) -> list[tuple[str, Any]]:
    return [("publish", lambda: steps.publish(ctx))]


PLATINUM = [
    _action("ITM003", "DEP01", "order", action_id="ACT-P1", quantity=12.0, severity="critical",
            alert_id="AL-P1", days_to_stockout=0, towers_exposed=3,
            sla_tiers="platinum,gold", worst_sla_tier="platinum", value_at_risk=900.0,
            priority=5.0),
    _action("ITM003", "DEP02", "expedite", action_id="ACT-P2", quantity=4.0,
            severity="critical", alert_id="AL-P2", days_to_stockout=1, towers_exposed=1,
            sla_tiers="platinum", worst_sla_tier="platinum", value_at_risk=80.0, priority=3.0),
]  # fmt: skip


def _gold_with_alerts(settings: Settings) -> None:
    build_gold(settings)
    write_gold(settings, "fct_actions", action_rows() + PLATINUM, SCHEMAS["fct_actions"])


def _body(message: EmailMessage) -> str:
    return str(message.get_content())


def _saved_report(ctx: RunContext) -> dict[str, Any]:
    return json.loads(Path(ctx.report_uri).read_text())


def test_publish_sends_platinum_criticals_at_once_then_a_ranked_digest_per_depot(
    outbox: Outbox,
):
    _gold_with_alerts(outbox.settings)
    ctx = _run(outbox.settings, _publish)

    assert ctx.report.status == "success"
    subjects = outbox.mailbox.subjects()
    # critical ones on platinum towers first, one message per depot, then the digests
    assert [s.split(":")[0] for s in subjects] == [
        "[Nova] CRITICAL", "[Nova] CRITICAL", "[Nova] DEP01", "[Nova] DEP02",
    ]  # fmt: skip
    critical = _body(outbox.mailbox.messages[0])
    assert "AL-P1" in critical and "platinum" in critical and "out of stock now" in critical
    assert "acknowledge" in critical  # says what to do next
    # DEP01's messages reach its own address and everyone's; DEP02's only everyone's
    assert outbox.mailbox.envelopes[0] == ["ops@nova.example", "dep01@nova.example"]
    assert outbox.mailbox.envelopes[3] == ["ops@nova.example"]
    # the digest ranks as the work list does (priority descending, nulls last) and leaves
    # out the critical platinum alert already sent
    digest = _body(outbox.mailbox.messages[2])
    assert "AL-P1" not in digest
    assert digest.index("AL-1") < digest.index("AL-3") < digest.index("AL-4")
    assert "AL-2" in _body(outbox.mailbox.messages[3])
    # the webhook got the same four, as {"text": ...}
    assert len(outbox.hook.bodies) == 4
    assert all(set(body) == {"text"} for body in outbox.hook.bodies)
    assert "CRITICAL" in outbox.hook.texts()[0] and "AL-P1" in outbox.hook.texts()[0]
    assert _saved_report(ctx)["notifications"] == {"sent": 8, "failed": 0}


def test_a_rerun_sends_nothing_new_and_a_worsening_to_platinum_critical_is_sent(
    outbox: Outbox,
):
    _gold_with_alerts(outbox.settings)
    _run(outbox.settings, _publish)
    sent = (len(outbox.mailbox.messages), len(outbox.hook.bodies))

    again = _run(outbox.settings, _publish)
    assert (len(outbox.mailbox.messages), len(outbox.hook.bodies)) == sent
    assert again.report.notifications == {"sent": 0, "failed": 0}

    # AL-4 (warning, in DEP01's digest) turns critical on a platinum tower: announced once more
    rows = action_rows() + PLATINUM
    worse = next(r for r in rows if r["alert_id"] == "AL-4")
    worse.update(severity="critical", worst_sla_tier="platinum", sla_tiers="platinum")
    write_gold(outbox.settings, "fct_actions", rows, SCHEMAS["fct_actions"])
    _run(outbox.settings, _publish)
    assert outbox.mailbox.subjects()[sent[0] :] == [
        f"[Nova] CRITICAL: 1 stockout alert(s) on platinum towers at DEP01 ({RUN_DATE})"
    ]
    assert len(outbox.hook.bodies) == sent[1] + 1


def test_a_degraded_run_sends_one_email_and_one_webhook_once(tmp_path: Path, outbox: Outbox):
    # A real extract: the demo ERP, and BACEN "live" at an address where nothing listens.
    settings = outbox.settings.model_copy(
        update={
            "sources_mode": "live",
            "bacen_base_url": f"http://127.0.0.1:{free_port()}",
            "http_attempts": 1,
        }
    )
    generate_demo(
        settings.erp_url,
        DemoConfig(items=5, depots=2, towers=4, years=1, end_date=RUN_DATE, seed=3),
    )

    def extract(ctx: RunContext) -> list[tuple[str, Any]]:
        ctx.sources = ("erp", "bacen")
        return [("extract", lambda: steps.extract(ctx))]

    ctx = _run(settings, extract)
    assert ctx.report.status == "degraded"
    assert ctx.report.freshness["erp"]["status"] == "fresh"
    assert ctx.report.freshness["bacen"]["status"] == "failed"
    assert len(outbox.mailbox.messages) == 1 and len(outbox.hook.bodies) == 1
    subject = outbox.mailbox.subjects()[0]
    assert subject.startswith(f"[Nova] run {RUN_DATE} degraded: source 'bacen' failed")
    body = _body(outbox.mailbox.messages[0])
    assert "DEGRADED" in body and "re-run `nova run --date 2026-10-31`" in body
    assert ctx.report_uri in body
    assert "DEGRADED" in outbox.hook.texts()[0]
    assert _saved_report(ctx)["notifications"] == {"sent": 2, "failed": 0}

    again = _run(settings, extract)  # the same date, degraded the same way: nothing new
    assert again.report.status == "degraded"
    assert len(outbox.mailbox.messages) == 1 and len(outbox.hook.bodies) == 1


def test_a_failed_run_is_announced_with_its_reason(outbox: Outbox):
    def broken(ctx: RunContext) -> list[tuple[str, Any]]:
        def fail() -> None:
            raise RuntimeError("dbt build failed: model.nova.fct_daily_demand (error)")

        return [("transform", fail)]

    ctx = _run(outbox.settings, broken)
    assert ctx.report.status == "failed"
    (subject,) = outbox.mailbox.subjects()
    assert subject.startswith(f"[Nova] run {RUN_DATE} failed: transform: dbt build failed")
    assert "No new gold version" in _body(outbox.mailbox.messages[0])


def test_a_refusing_mail_server_leaves_the_run_successful_with_a_note(tmp_path: Path):
    mailbox = Mailbox(replies=["554 5.7.1 relay refused"])
    with smtp_server(mailbox) as smtp:
        settings = _settings(tmp_path, f"smtp://{smtp}", None)
        _gold_with_alerts(settings)
        ctx = _run(settings, _publish)
    assert ctx.report.status == "success"
    assert mailbox.messages == []
    assert mailbox.attempts == 4  # a refusal is not retried: one try per message
    report = _saved_report(ctx)
    assert report["status"] == "success"
    assert report["notifications"] == {"sent": 0, "failed": 4}
    notes = [n for n in report["notes"] if n.startswith("notification not sent")]
    assert len(notes) == 4 and "554" in notes[0] and "next run tries again" in notes[0]
    assert ledger.sent_keys(settings, "email") == set()  # so the next run tries again


def test_a_mail_server_that_is_down_is_retried_and_never_fails_the_run(tmp_path: Path):
    settings = _settings(tmp_path, f"smtp://127.0.0.1:{free_port()}", None, notify_attempts=3)
    _gold_with_alerts(settings)
    ctx = _run(settings, _publish)
    assert ctx.report.status == "success"
    assert ctx.report.notifications["failed"] == 4
    assert any("after 3 tries" in n for n in ctx.report.notes)


def test_a_busy_mail_server_is_retried_until_it_accepts_and_credentials_come_from_the_url(
    tmp_path: Path,
):
    mailbox = Mailbox(replies=["451 4.3.0 try again later", "250 OK"])
    with smtp_server(mailbox, credentials=("ops@nova", "p@ss:w/rd")) as smtp:
        settings = _settings(tmp_path, f"smtp://ops%40nova:p%40ss%3Aw%2Frd@{smtp}", None)
        report = {
            "run_id": "20261031-20261031-20261101T050000Z-abcdef", "kind": "run",
            "start": "2026-10-31", "end": "2026-10-31", "status": "failed",
            "errors": ["extract: source 'erp' failed"], "freshness": {},
        }  # fmt: skip
        from backend.notify import notify_run

        result = notify_run(settings, report)
    assert (result.sent, result.failed) == (1, 0)
    assert mailbox.attempts == 2 and len(mailbox.messages) == 1
    assert mailbox.logins[-1] == ("ops@nova", "p@ss:w/rd")


def test_a_failing_webhook_reason_does_not_leak_its_url(tmp_path: Path):
    hook = Hook(statuses=[503])
    with webhook_receiver(hook) as url:
        settings = _settings(tmp_path, None, url, notify_attempts=2)
        from backend.notify import notify_run

        result = notify_run(
            settings,
            {"run_id": "r", "kind": "run", "start": "2026-10-31", "end": "2026-10-31",
             "status": "degraded", "errors": ["x"]},
        )  # fmt: skip
    assert (result.sent, result.failed) == (0, 1) and hook.attempts == 2
    assert "HTTP 503" in result.notes[0]
    assert "s3cr3tT0k3n" not in " ".join(result.notes)


def test_without_a_channel_nothing_is_read_or_written(settings: Settings):
    _gold_with_alerts(settings)
    ctx = _run(settings, _publish)
    assert ctx.report.notifications == {"sent": 0, "failed": 0}
    assert not delta.table_exists(ledger.ledger_uri(settings), settings)


def test_the_next_day_announces_only_new_episodes(outbox: Outbox):
    _gold_with_alerts(outbox.settings)
    _run(outbox.settings, _publish)
    before = len(outbox.mailbox.messages)
    next_day = RUN_DATE + timedelta(days=1)
    rows = [
        {**r, "as_of_date": next_day}
        for r in action_rows() + PLATINUM
        if r["as_of_date"] == RUN_DATE
    ]
    rows.append(
        _action("ITM001", "DEP02", "order", action_id="ACT-N", as_of_date=next_day,
                quantity=5.0, severity="warning", alert_id="AL-NEW", priority=0.2)
    )  # fmt: skip
    write_gold(outbox.settings, "fct_actions", rows, SCHEMAS["fct_actions"])
    ctx = RunContext(start=next_day, end=next_day, settings=outbox.settings, kind="run")
    steps.notify_alerts(ctx)
    new = outbox.mailbox.messages[before:]
    assert [str(m["Subject"]) for m in new] == [
        f"[Nova] DEP02: 1 new stock alert(s) (0 critical) on {next_day}"
    ]
    assert "AL-NEW" in _body(new[0])
