"use client";

import { useMemo } from "react";
import { toKpis, type Kpis } from "@/api/adapters";
import { api, ok } from "@/api/http";
import { EChart } from "@/components/EChart";
import { LoadState } from "@/components/LoadState";
import { useI18n } from "@/i18n/I18nProvider";
import { formatDate, formatDateTime, formatMoney, formatNumber, formatPercent } from "@/i18n/format";
import { FreshnessTable, RunStatus } from "./pipeline/parts";
import { useLoad } from "@/lib/useLoad";

export function Overview() {
  const { t } = useI18n();
  const kpis = useLoad(async () => toKpis(await ok(api.GET("/api/v1/kpis"))), "kpis");
  return (
    <>
      <h1>{t("overview.title")}</h1>
      <LoadState state={kpis} reload={kpis.reload}>
        {(data) => <OverviewBody kpis={data} />}
      </LoadState>
    </>
  );
}

function OverviewBody({ kpis }: { kpis: Kpis }) {
  const { t, locale } = useI18n();
  const stockOption = useMemo(
    () => ({
      grid: { left: 80, right: 16, top: 16, bottom: 32 },
      tooltip: { trigger: "axis", valueFormatter: (v: number) => formatMoney(locale, v) },
      xAxis: { type: "category", data: kpis.stockValueSeries.map((p) => formatDate(locale, p.date)) },
      yAxis: { type: "value", axisLabel: { formatter: (v: number) => formatNumber(locale, v) } },
      series: [{ type: "line", name: t("overview.stockValue"), data: kpis.stockValueSeries.map((p) => p.value), showSymbol: false }],
    }),
    [kpis, locale, t],
  );
  const accuracyOption = useMemo(
    () => ({
      grid: { left: 56, right: 16, top: 32, bottom: 32 },
      legend: { top: 0 },
      tooltip: { trigger: "axis", valueFormatter: (v: number) => formatPercent(locale, v) },
      xAxis: { type: "category", data: kpis.accuracyByWeek.map((p) => formatDate(locale, p.week)) },
      yAxis: { type: "value", axisLabel: { formatter: (v: number) => formatPercent(locale, v, 0) } },
      series: [
        { type: "bar", name: "WAPE", data: kpis.accuracyByWeek.map((p) => p.wape) },
        { type: "line", name: locale === "en" ? "Bias" : "Viés", data: kpis.accuracyByWeek.map((p) => p.bias) },
      ],
    }),
    [kpis, locale],
  );
  return (
    <>
      <p className="muted">{kpis.asOfDate && t("common.updated", { time: formatDate(locale, kpis.asOfDate) })}</p>
      <section className="kpis" aria-label={t("overview.title")}>
        <Kpi label={t("overview.stockValue")} value={formatMoney(locale, kpis.stockValue)} />
        <Kpi
          label={t("overview.openAlerts")}
          value={formatNumber(locale, kpis.openCritical + kpis.openWarning)}
          detail={`${formatNumber(locale, kpis.openCritical)} ${t("overview.critical")}`}
        />
        <Kpi label={t("overview.atRisk")} value={formatNumber(locale, kpis.atRiskPairs)} detail={t("overview.valueAtRisk", { value: formatMoney(locale, kpis.valueAtRisk) })} />
        <Kpi label={t("overview.fillRate")} value={formatPercent(locale, kpis.fillRate)} />
      </section>
      <div className="grid2">
        <section className="card">
          <h2>{t("overview.alertsByTier")}</h2>
          <table>
            <thead>
              <tr>
                <th scope="col">{t("overview.tier")}</th>
                <th scope="col" className="num">{t("severity.critical")}</th>
                <th scope="col" className="num">{t("severity.warning")}</th>
                <th scope="col" className="num">{t("orders.total")}</th>
              </tr>
            </thead>
            <tbody>
              {kpis.alertsByTier.map((row) => (
                <tr key={row.tier ?? ""}>
                  <th scope="row">{row.tier ?? t("overview.noTier")}</th>
                  <td className="num">{formatNumber(locale, row.critical)}</td>
                  <td className="num">{formatNumber(locale, row.warning)}</td>
                  <td className="num">{formatNumber(locale, row.total)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
        <section className="card">
          <h2>{t("overview.lastRun")}</h2>
          {kpis.lastRun ? <RunStatus run={kpis.lastRun} /> : <p>{t("common.none")}</p>}
          <h2>{t("overview.freshness")}</h2>
          <FreshnessTable rows={kpis.freshness} />
        </section>
        <section className="card">
          <EChart label={t("overview.stockValueOverTime")} option={stockOption} testId="chart-stock-value" />
        </section>
        <section className="card">
          <EChart label={t("overview.accuracy")} option={accuracyOption} testId="chart-accuracy" />
        </section>
      </div>
      <p className="muted">{kpis.lastRun?.startedAt && t("common.updated", { time: formatDateTime(locale, kpis.lastRun.startedAt) })}</p>
    </>
  );
}

function Kpi({ label, value, detail }: { label: string; value: string; detail?: string }) {
  return (
    <div className="card kpi">
      <div className="kpi-label">{label}</div>
      <div className="kpi-value">{value}</div>
      {detail && <div className="muted">{detail}</div>}
    </div>
  );
}
