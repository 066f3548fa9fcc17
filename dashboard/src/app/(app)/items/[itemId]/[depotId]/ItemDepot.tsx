"use client";

import { useMemo } from "react";
import { toActionRow, toPage, toSeries, type ActionRow, type Series } from "@/api/adapters";
import { api, ok } from "@/api/http";
import { EChart } from "@/components/EChart";
import { LoadState } from "@/components/LoadState";
import { useI18n } from "@/i18n/I18nProvider";
import { formatDate, formatMoney, formatNumber } from "@/i18n/format";
import { bandSeries } from "@/lib/bands";
import { useLoad } from "@/lib/useLoad";

export function ItemDepot({ itemId, depotId }: { itemId: string; depotId: string }) {
  const { t } = useI18n();
  const query = { item_id: itemId, depot_id: depotId };
  const key = `${itemId}|${depotId}`;
  const series = useLoad(async () => toSeries(await ok(api.GET("/api/v1/series", { params: { query } }))), key);
  const action = useLoad(async () => {
    const page = toPage(await ok(api.GET("/api/v1/actions", { params: { query: { ...query, limit: 1 } } })), toActionRow);
    return page.data[0] ?? null;
  }, key);
  return (
    <>
      <h1>{t("item.title", { item: itemId, depot: depotId })}</h1>
      <LoadState state={action} reload={action.reload}>
        {(row) => (row ? <Suggestion row={row} /> : null)}
      </LoadState>
      <section className="card">
        <LoadState state={series} reload={series.reload}>
          {(data) => <SeriesChart series={data} />}
        </LoadState>
      </section>
    </>
  );
}

function SeriesChart({ series }: { series: Series }) {
  const { t, locale } = useI18n();
  const option = useMemo(() => {
    const dates = series.points.map((p) => formatDate(locale, p.date));
    const lines = (name: string, value: number | null, color: string) =>
      value === null ? [] : [{ name, yAxis: value, lineStyle: { color, type: "dashed" as const }, label: { position: "insideEndTop" as const, formatter: `${name}: ${formatNumber(locale, value, 1)}` } }];
    return {
      grid: { left: 56, right: 24, top: 48, bottom: 40 },
      legend: { top: 0, type: "scroll" },
      tooltip: { trigger: "axis", valueFormatter: (v: number) => formatNumber(locale, v, 1) },
      xAxis: { type: "category", data: dates, boundaryGap: false },
      // Demand (units a day) on the left; stock and its thresholds (units held) on the right,
      // so a large stock does not flatten the forecast's bands.
      yAxis: [
        { type: "value", name: locale === "en" ? "units/day" : "unidades/dia" },
        { type: "value", name: locale === "en" ? "units in stock" : "unidades em estoque", splitLine: { show: false } },
      ],
      series: [
        ...bandSeries(t("item.band95"), series.points.map((p) => [p.lo95, p.hi95]), "#9ec5fe"),
        ...bandSeries(t("item.band80"), series.points.map((p) => [p.lo80, p.hi80]), "#5b9bf5"),
        { type: "line", name: t("item.history"), data: series.points.map((p) => p.demand), showSymbol: false, lineStyle: { color: "#1f2937" }, itemStyle: { color: "#1f2937" } },
        { type: "line", name: t("item.forecast"), data: series.points.map((p) => p.forecast), showSymbol: false, lineStyle: { color: "#0b4fb3", width: 2 }, itemStyle: { color: "#0b4fb3" } },
        { type: "line", name: t("item.onHand"), yAxisIndex: 1, data: series.points.map((p) => p.onHand), showSymbol: false, step: "end", lineStyle: { color: "#047857" }, itemStyle: { color: "#047857" } },
        {
          // The reorder point and safety stock as labelled horizontal lines (no data of their own).
          type: "line", name: t("item.reorderPoint"), yAxisIndex: 1, data: [], showSymbol: false, lineStyle: { color: "#b91c1c", type: "dashed" }, itemStyle: { color: "#b91c1c" },
          markLine: { symbol: "none", silent: true, data: [...lines(t("item.reorderPoint"), series.reorderPoint, "#b91c1c"), ...lines(t("item.safetyStock"), series.safetyStock, "#7c3aed")] },
        },
      ],
    };
  }, [series, locale, t]);
  return (
    <>
      <EChart label={t("item.chart")} option={option} height={380} testId="series-chart" />
      <dl className="facts inline">
        <dt>{t("item.reorderPoint")}</dt>
        <dd data-testid="reorder-point">{formatNumber(locale, series.reorderPoint, 1)}</dd>
        <dt>{t("item.safetyStock")}</dt>
        <dd data-testid="safety-stock">{formatNumber(locale, series.safetyStock, 1)}</dd>
        <dt>{t("item.forecastDate")}</dt>
        <dd>{formatDate(locale, series.forecastDate)}</dd>
        <dt>{t("item.bandMethod", { method: "" }).replace(/:\s*$/, "")}</dt>
        <dd data-testid="band-method">{t(series.bandMethod === "model" ? "item.bandModel" : "item.bandMoments")}</dd>
      </dl>
    </>
  );
}

function Suggestion({ row }: { row: ActionRow }) {
  const { t, locale } = useI18n();
  return (
    <section className="card suggestion" aria-labelledby="suggestion-title">
      <h2 id="suggestion-title">
        <span className={`badge action-${row.action}`}>{t(`action.${row.action}`)}</span> {formatNumber(locale, row.quantity)} · {row.itemName}
      </h2>
      <dl className="facts">
        <dt>{t("item.reason")}</dt>
        <dd data-testid="reason">{row.reason}</dd>
        <dt>{t("work.daysToStockout")}</dt>
        <dd>{formatNumber(locale, row.daysToStockout)} ({formatDate(locale, row.stockoutDate)})</dd>
        <dt>{t("item.towers")}</dt>
        <dd>{formatNumber(locale, row.towersExposed)}</dd>
        <dt>{t("item.slaTiers")}</dt>
        <dd>{row.slaTiers.join(", ") || "—"}</dd>
        <dt>{t("work.valueAtRisk")}</dt>
        <dd>{formatMoney(locale, row.valueAtRisk)}</dd>
        <dt>{t("work.supplier")}</dt>
        <dd>{row.supplierName ?? row.supplierId ?? "—"}</dd>
      </dl>
    </section>
  );
}
