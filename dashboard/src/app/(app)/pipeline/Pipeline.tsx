"use client";

import { useState } from "react";
import { toKpis, toPage, toRun, toRunSummary } from "@/api/adapters";
import { api, ok } from "@/api/http";
import { LoadState } from "@/components/LoadState";
import { useI18n } from "@/i18n/I18nProvider";
import { formatNumber, formatSeconds } from "@/i18n/format";
import { useLoad } from "@/lib/useLoad";
import { FreshnessTable, RunDates, StatusBadge } from "./parts";

export function Pipeline() {
  const { t, locale } = useI18n();
  const [open, setOpen] = useState<string | null>(null);
  const runs = useLoad(async () => toPage(await ok(api.GET("/api/v1/runs", { params: { query: { limit: 30 } } })), toRunSummary), "runs");
  const kpis = useLoad(async () => toKpis(await ok(api.GET("/api/v1/kpis"))), "kpis");
  const health = useLoad(async () => await ok(api.GET("/health")), "health");
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
                    <th scope="col">{t("pipeline.kind")}</th>
                    <th scope="col" className="num">{t("pipeline.duration")}</th>
                    <th scope="col" className="num">{t("pipeline.errors")}</th>
                  </tr>
                </thead>
                <tbody>
                  {page.data.map((run) => (
                    <tr key={run.runId} data-testid="run-row">
                      <th scope="row">
                        <button type="button" className="link" aria-expanded={open === run.runId} onClick={() => setOpen(open === run.runId ? null : run.runId)}>{run.runId}</button>
                      </th>
                      <td><RunDates run={run} /></td>
                      <td><StatusBadge status={run.status} /></td>
                      <td>{run.kind}</td>
                      <td className="num">{formatSeconds(locale, run.durationSeconds)}</td>
                      <td className="num">{formatNumber(locale, run.errors)}</td>
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
            {(data) => <p><StatusBadge status={data.status} /></p>}
          </LoadState>
        </section>
      </div>
    </>
  );
}

function RunSteps({ runId }: { runId: string }) {
  const { t, locale } = useI18n();
  const run = useLoad(async () => toRun(await ok(api.GET("/api/v1/runs/{run_id}", { params: { path: { run_id: runId } } }))), runId);
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
                <th scope="col">{t("pipeline.status")}</th>
              </tr>
            </thead>
            <tbody>
              {data.steps.map((step) => (
                <tr key={step.name}>
                  <th scope="row">{step.name}</th>
                  <td className="num">{formatSeconds(locale, step.seconds)}</td>
                  <td className="num">{formatNumber(locale, step.rows)}</td>
                  <td><StatusBadge status={step.status} /></td>
                </tr>
              ))}
            </tbody>
          </table>
          <p>{t("pipeline.quarantined")}: {formatNumber(locale, data.quarantined)}</p>
          {data.errorMessages.length > 0 && <ul className="error">{data.errorMessages.map((message) => <li key={message}>{message}</li>)}</ul>}
          {data.notes.length > 0 && <ul>{data.notes.map((note) => <li key={note}>{note}</li>)}</ul>}
        </>
      )}
    </LoadState>
  );
}
