"""What the notifications say: critical alerts on platinum towers, one digest per depot,
and a run that failed or ended degraded. Plain text that reads the same in an email, in
Slack and in Teams; each message ends with what to do next."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from backend.notify.channels import Message

WORK_LIST = "Open the work list in the workbench (or GET /api/v1/actions) to act on them"


def is_platinum_critical(alert: Mapping[str, Any]) -> bool:
    return alert.get("severity") == "critical" and alert.get("worst_sla_tier") == "platinum"


def critical_key(alert: Mapping[str, Any]) -> str:
    return f"critical:{alert['alert_id']}"


def alert_key(alert: Mapping[str, Any]) -> str:
    return f"alert:{alert['alert_id']}"


def _number(value: Any) -> str:
    return f"{float(value):,.0f}" if value is not None else "-"


def alert_line(rank: int, alert: Mapping[str, Any]) -> str:
    """One work-list line: what to do, when it runs out, what is exposed."""
    action = str(alert.get("action") or "watch")
    if alert.get("quantity") is not None:
        action += f" {_number(alert['quantity'])} units"
    days = alert.get("days_to_stockout")
    stockout = "out of stock now" if days == 0 else (
        f"stockout in {days} days" if days is not None else "no stockout in the horizon"
    )  # fmt: skip
    towers = alert.get("towers_exposed") or 0
    tier = alert.get("worst_sla_tier") or "no"
    return (
        f"{rank}. [{alert.get('severity')}] {alert.get('item_id')} {alert.get('item_name') or ''}"
        f" at {alert.get('depot_id')}: {action}; {stockout}; {towers} tower(s), worst SLA "
        f"{tier}; value at risk R$ {_number(alert.get('value_at_risk'))} "
        f"({alert.get('reason_code') or 'alert'}; alert {alert.get('alert_id')})"
    )


def _lines(alerts: list[Mapping[str, Any]], limit: int) -> str:
    lines = [alert_line(n, a) for n, a in enumerate(alerts[:limit], start=1)]
    if len(alerts) > limit:
        lines.append(f"... and {len(alerts) - limit} more in the work list.")
    return "\n".join(lines)


def alert_messages(
    alerts: Iterable[Mapping[str, Any]], sent: set[str], *, run_date: str, limit: int
) -> list[Message]:
    """Messages for the alerts not yet announced (``sent``: the ledger's keys), in the
    work list's order: first, per depot, the critical alerts on platinum towers (sent at
    once), then one digest per depot of the others. An episode announced in a digest
    that turns critical on a platinum tower is announced again, as critical."""
    critical: dict[str, list[Mapping[str, Any]]] = {}
    digest: dict[str, list[Mapping[str, Any]]] = {}
    for alert in alerts:
        if not alert.get("alert_id"):
            continue
        depot = str(alert.get("depot_id"))
        if is_platinum_critical(alert):
            if critical_key(alert) not in sent:
                critical.setdefault(depot, []).append(alert)
        elif alert_key(alert) not in sent and critical_key(alert) not in sent:
            digest.setdefault(depot, []).append(alert)
    messages = []
    for depot, group in critical.items():
        messages.append(
            Message(
                kind="critical",
                subject=f"[Nova] CRITICAL: {len(group)} stockout alert(s) on platinum towers "
                f"at {depot} ({run_date})",
                text=f"Critical stock alerts of {run_date} on parts that platinum-SLA towers "
                f"of {depot} use, most urgent first:\n{_lines(group, limit)}\n\n"
                f"{WORK_LIST}: order, expedite or transfer now, then acknowledge each alert.",
                keys=tuple(critical_key(a) for a in group) + tuple(alert_key(a) for a in group),
                depot_id=depot,
            )
        )
    for depot, group in digest.items():
        severe = sum(1 for a in group if a.get("severity") == "critical")
        messages.append(
            Message(
                kind="digest",
                subject=f"[Nova] {depot}: {len(group)} new stock alert(s) ({severe} critical) "
                f"on {run_date}",
                text=f"New stock alerts of {run_date} at {depot}, ranked as the work list "
                f"ranks them (risk x value):\n{_lines(group, limit)}\n\n{WORK_LIST}.",
                keys=tuple(alert_key(a) for a in group),
                depot_id=depot,
            )
        )
    return messages


def run_key(report: Mapping[str, Any]) -> str:
    """A run outcome is announced once per date range and status: a re-run of the same
    date that ends the same way, or another task of the same Airflow run, adds nothing."""
    return f"run:{report['kind']}:{report['start']}:{report['end']}:{report['status']}"


def run_message(report: Mapping[str, Any], report_uri: str | None) -> Message:
    """A run that failed or ended degraded, with the report's reasons."""
    status, kind = str(report["status"]), str(report["kind"])
    dates = (
        str(report["start"])
        if report["start"] == report["end"]
        else f"{report['start']}..{report['end']}"
    )
    reasons = list(report.get("errors") or []) or ["no reason recorded"]
    stale = [
        f"{source}: {check.get('status')}, newest data {check.get('newest') or 'none'}"
        + (f" ({check.get('age_days')} days old)" if check.get("age_days") is not None else "")
        for source, check in sorted((report.get("freshness") or {}).items())
        if check.get("status") != "fresh"
    ]
    command = f"nova run --date {report['end']}" if kind == "run" else (
        f"nova backfill --start {report['start']} --end {report['end']}"
    )  # fmt: skip
    if status == "failed":
        effect = "No new gold version was published: the API keeps serving the last published run."
        todo = f"Fix the cause above, then re-run `{command}` (or clear the failed Airflow task)."
    else:
        effect = "Gold was published, built without the sources named above."
        todo = (
            f"Check the sources above; once they answer, re-run `{command}` so gold includes them."
        )
    text = "\n".join(
        [
            f"The {kind} of {dates} (run {report['run_id']}) ended {status.upper()}.",
            "Reason:",
            *(f"- {r}" for r in reasons),
            *(["Source freshness:", *(f"- {s}" for s in stale)] if stale else []),
            effect,
            todo,
            *([f"Report: {report_uri}"] if report_uri else []),
        ]
    )
    return Message(
        kind="run",
        subject=f"[Nova] {kind} {dates} {status}: {reasons[0][:120]}",
        text=text,
        keys=(run_key(report),),
    )
