"use client";

import Link from "next/link";
import { useI18n } from "@/i18n/I18nProvider";
import { formatDate } from "@/i18n/format";
import { useLiveAlerts } from "@/live/LiveAlerts";

export function AlertsFeed() {
  const { t, locale } = useI18n();
  const { alerts, state } = useLiveAlerts();
  const stateText =
    state.kind === "open" ? t("alerts.connected")
    : state.kind === "connecting" ? t("alerts.connecting")
    : state.kind === "reconnecting" ? t("alerts.reconnecting", { attempt: state.attempt })
    : t("alerts.closed");
  return (
    <>
      <h1>{t("alerts.title")}</h1>
      <p role="status" data-testid="feed-state" data-state={state.kind} className={`badge ${state.kind === "open" ? "ok" : "neutral"}`}>{stateText}</p>
      {alerts.length === 0 ? (
        <p>{t("common.none")}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t("work.severity")}</th>
              <th scope="col">{t("work.item")}</th>
              <th scope="col">{t("work.depot")}</th>
              <th scope="col">{t("alerts.message")}</th>
              <th scope="col">{t("pipeline.date")}</th>
            </tr>
          </thead>
          <tbody>
            {alerts.map((alert) => (
              <tr key={`${alert.alertId}|${alert.severity}`} data-testid="live-alert" data-alert-id={alert.alertId}>
                <td>{alert.severity ? <span className={`badge ${alert.severity}`}>{t(`severity.${alert.severity}`)}</span> : "—"}</td>
                <td><Link href={`/items/${encodeURIComponent(alert.itemId)}/${encodeURIComponent(alert.depotId)}`}>{alert.itemId}</Link></td>
                <td>{alert.depotId}</td>
                <td>{alert.message}</td>
                <td>{formatDate(locale, alert.alertDate)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
