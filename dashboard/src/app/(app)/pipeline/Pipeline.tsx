"use client";

import { useState } from "react";
import { toKpis, toPage, toRun, toRunSummary } from "@/api/adapters";
import { api, requestJson } from "@/api/http";
import { ROUTES } from "@/api/routes";
import { LoadState } from "@/components/LoadState";
import { useI18n } from "@/i18n/I18nProvider";
import { formatDate, formatNumber, formatSeconds } from "@/i18n/format";
import { useLoad } from "@/lib/useLoad";
import { FreshnessTable, StatusBadge } from "./parts";

export function Pipeline() {
  const { t, locale } = useI18n();
  const [open, setOpen] = useState<string | null>(null);
  const runs = useLoad(async () => toPage(await requestJson(`${ROUTES.runs}?limit=30`), toRunSummary), "runs");
  const kpis = useLoad(async () => toKpis(await requestJson(ROUTES.kpis)), "kpis");
  const health = useLoad(async () => (await api.GET("/health")).data ?? null, "health");
  return (
    <>
      <h1>{t("pipeline.title")}</h1>
      <div className="grid2">
        <section className="card">
          <h2>{t("pipeline.runs")}</h2>
          <LoadState state={runs} reload={runs.reload}>
            {(page) => (
              <table>
                <thead>
                  <tr>
                    <th scope="col">{t("pipeline.run")}</th>
                    <th scope="col">{t("pipeline.date")}</th>
                    <th scope="col">{t("pipeline.status")}</th>
                    <th scope="col" className="num">{t("pipeline.duration")}</th>
                    <th scope="col" className="num">{t("pipeline.quarantined")}</th>
                  </tr>
                </thead>
                <tbody>
                  {page.data.map((run) => (
                    <tr key={run.runId} data-testid="run-row">
                      <th scope="row">
                        <button type="button" className="link" aria-expanded={open === run.runId} onClick={() => setOpen(open === run.runId ? null : run.runId)}>{run.runId}</button>
                      </th>
                      <td>{formatDate(locale, run.runDate)}</td>
                      <td><StatusBadge status={run.status} /></td>
                      <td className="num">{formatSeconds(locale, run.durationSeconds)}</td>
                      <td className="num">{formatNumber(locale, run.quarantined)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </LoadState>
          {open && <RunSteps runId={open} />}
        </section>
        <section className="card">
          <h2>{t("overview.freshness")}</h2>
          <LoadState state={kpis} reload={kpis.reload}>
            {(data) => <FreshnessTable rows={data.freshness} />}
          </LoadState>
          <h2>{t("pipeline.api")}</h2>
          <LoadState state={health} reload={health.reload}>
            {(data) => <p><StatusBadge status={data?.status ?? null} /></p>}
          </LoadState>
        </section>
      </div>
    </>
  );
}

function RunSteps({ runId }: { runId: string }) {
  const { t, locale } = useI18n();
  const run = useLoad(async () => toRun(await requestJson(ROUTES.run(runId))), runId);
  return (
    <LoadState state={run} reload={run.reload}>
      {(data) => (
        <>
          <h3>{t("pipeline.steps")}: {data.runId}</h3>
          <table data-testid="run-steps">
            <thead>
              <tr>
                <th scope="col">{t("pipeline.step")}</th>
                <th scope="col" className="num">{t("pipeline.duration")}</th>
                <th scope="col" className="num">{t("pipeline.rows")}</th>
                <th scope="col" className="num">{t("pipeline.quarantined")}</th>
                <th scope="col">{t("pipeline.status")}</th>
              </tr>
            </thead>
            <tbody>
              {data.steps.map((step) => (
                <tr key={step.name}>
                  <th scope="row">{step.name}</th>
                  <td className="num">{formatSeconds(locale, step.seconds)}</td>
                  <td className="num">{formatNumber(locale, step.rows)}</td>
                  <td className="num">{formatNumber(locale, step.quarantined)}</td>
                  <td><StatusBadge status={step.status} /></td>
                </tr>
              ))}
            </tbody>
          </table>
          {data.notes.length > 0 && <ul>{data.notes.map((note) => <li key={note}>{note}</li>)}</ul>}
        </>
      )}
    </LoadState>
  );
}
