"""Notifications by email (SMTP) and chat webhook (Slack, Teams): critical alerts on
platinum towers at once, one digest per depot per run, and runs that fail or end degraded.

`nova run` and Airflow send through the same two functions: :func:`notify_alerts` from the
publish step (once the day's alerts are in gold) and :func:`notify_run` once a run's
outcome is known (the runner's end, the Airflow run report and every task's failure
callback). Off unless NOVA_NOTIFY_SMTP_URL (with NOVA_NOTIFY_EMAIL_TO) or
NOVA_NOTIFY_WEBHOOK_URL is set. A send that fails after its retries never fails the run:
the result carries a note for the report, and the next run tries again.
"""

from backend.notify.service import NotifyResult, enabled, notify_alerts, notify_run

__all__ = ["NotifyResult", "enabled", "notify_alerts", "notify_run"]
