"use client";

import type { Freshness, RunSummary } from "@/api/adapters";
import { useI18n } from "@/i18n/I18nProvider";
import { formatDate, formatDateTime, formatNumber, formatSeconds } from "@/i18n/format";

const KNOWN_STATUSES = ["success", "failed", "running", "ok", "degraded", "skipped"] as const;

export function StatusBadge({ status }: { status: string | null }) {
  const { t } = useI18n();
  const known = (KNOWN_STATUSES as readonly string[]).includes(status ?? "") ? (status as (typeof KNOWN_STATUSES)[number]) : null;
  const tone = status === "success" || status === "ok" ? "ok" : status === "failed" || status === "error" ? "bad" : "neutral";
  return <span className={`badge ${tone}`}>{known ? t(`status.${known}`) : (status ?? "—")}</span>;
}

/** A run's dates: one day, or the first and last of a backfill. */
export function RunDates({ run }: { run: Pick<RunSummary, "start" | "end"> }) {
  const { locale } = useI18n();
  return <>{run.start === run.end ? formatDate(locale, run.start) : `${formatDate(locale, run.start)} – ${formatDate(locale, run.end)}`}</>;
}

export function RunStatus({ run }: { run: RunSummary }) {
  const { t, locale } = useI18n();
  return (
    <dl className="facts">
      <dt>{t("pipeline.run")}</dt>
      <dd>{run.runId}</dd>
      <dt>{t("pipeline.date")}</dt>
      <dd><RunDates run={run} /></dd>
      <dt>{t("pipeline.status")}</dt>
      <dd><StatusBadge status={run.status} /></dd>
      <dt>{t("pipeline.duration")}</dt>
      <dd>{formatSeconds(locale, run.durationSeconds)}</dd>
      <dt>{t("pipeline.errors")}</dt>
      <dd>{formatNumber(locale, run.errors)}</dd>
    </dl>
  );
}

export function FreshnessTable({ rows }: { rows: Freshness[] }) {
  const { t, locale } = useI18n();
  if (!rows.length) return <p>{t("common.none")}</p>;
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">{t("overview.source")}</th>
          <th scope="col">{t("overview.loadedAt")}</th>
          <th scope="col">{t("overview.ingestDate")}</th>
          <th scope="col" className="num">{t("overview.tables")}</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.source}>
            <th scope="row">{row.source}</th>
            <td>{formatDateTime(locale, row.ingestedAt)}</td>
            <td>{formatDate(locale, row.ingestDate)}</td>
            <td className="num">{formatNumber(locale, row.tables)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
