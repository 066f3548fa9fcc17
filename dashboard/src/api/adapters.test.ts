import { describe, expect, it } from "vitest";
import type { components } from "./schema";
import { hasCsv, orderRequest, splitTiers, toActionRow, toKpis, toLiveAlert, toPage, toRun, toSeries, workListParams } from "./adapters";

type Schemas = components["schemas"];

const contractRow: Schemas["ActionWithState"] = {
  action_id: "A1", as_of_date: "2026-10-31", item_id: "ITM001", item_name: "Antena", category: "antenna",
  depot_id: "DEP01", supplier_id: "SUP1", supplier_name: "Acme", action: "order", quantity: 24, severity: "critical",
  alert_id: "AL1", reason_code: "below_rop", reason: "Estoque abaixo do ponto de pedido.", days_to_stockout: 2,
  stockout_date: "2026-11-02", on_hand: 3, on_order: 0, approved_on_order: 0, reorder_point: 10, safety_stock: 5,
  order_up_to: 27, min_order_qty: 12, unit_cost: 12.5, expedite_po_id: null, expedite_expected_date: null,
  transfer_from_depot_id: null, towers_exposed: 4, sla_tiers: "gold, silver", worst_sla_tier: "gold",
  value_at_risk: 1500, order_value: 300, priority: 0.9, state: "snoozed", state_by: "p@nova.test",
  state_at: "2026-10-31T12:00:00Z", state_note: "waiting", snoozed_until: "2026-11-03",
};

describe("work list", () => {
  it("reads a row of /actions, its alert's state and its SLA tiers", () => {
    const row = toActionRow(contractRow);
    expect(row).toMatchObject({ actionId: "A1", itemId: "ITM001", depotId: "DEP01", action: "order", quantity: 24, severity: "critical", slaTiers: ["gold", "silver"], valueAtRisk: 1500, state: "snoozed", snoozedUntil: "2026-11-03" });
  });
  it("names an item by its id when gold has no name, and ignores an unknown severity", () => {
    const row = toActionRow({ ...contractRow, item_name: null, severity: "meh" as "warning" });
    expect(row.itemName).toBe("ITM001");
    expect(row.severity).toBeNull();
    expect(splitTiers(null)).toEqual([]);
  });
  it("reads a page", () => {
    const page = toPage({ data: [contractRow], count: 40, limit: 1, offset: 5 }, toActionRow);
    expect(page).toMatchObject({ count: 40, offset: 5, limit: 1 });
    expect(page.data[0]?.itemId).toBe("ITM001");
  });
  it("asks for the set filters only and a descending sort in the API's names", () => {
    expect(workListParams({ depotId: "DEP01", severity: "critical", state: "open", sort: { column: "valueAtRisk", descending: true }, limit: 50, offset: 100 }))
      .toEqual({ depot_id: "DEP01", severity: "critical", state: "open", sort: "-value_at_risk", limit: 50, offset: 100 });
    expect(workListParams({ category: "", limit: 10, offset: 0 })).toEqual({ limit: 10, offset: 0 });
  });
  it("sends only order lines with a positive whole quantity to POST /orders, with their action and alert", () => {
    const order = toActionRow({ ...contractRow, quantity: 24.0 });
    const watch = toActionRow({ ...contractRow, action_id: "A2", action: "watch", quantity: 0 });
    const nothing = toActionRow({ ...contractRow, action_id: "A3", quantity: 0.2 });
    expect(orderRequest([order, watch, nothing])).toEqual({ lines: [{ item_id: "ITM001", depot_id: "DEP01", quantity: 24, action_id: "A1", alert_id: "AL1" }] });
  });
});

describe("series", () => {
  it("merges history and forecast into one point per period", () => {
    const series = toSeries({
      group: "pair", grain: "day", series_count: 1, start_date: "2026-10-30", end_date: "2026-11-01", band_method: "model",
      item_id: "ITM001", depot_id: "DEP01", reorder_point: 10, safety_stock: 5, forecast_date: "2026-10-31",
      history: [{ period_start: "2026-10-31", days: 1, demand_qty: 4, on_hand: 9 }, { period_start: "2026-10-30", days: 1, demand_qty: 2 }],
      forecast: [{ period_start: "2026-11-01", days: 1, series: 1, yhat: 5, yhat_lo_80: 4, yhat_hi_80: 6, yhat_lo_95: 3, yhat_hi_95: 7 }],
    });
    expect(series.points.map((p) => p.date)).toEqual(["2026-10-30", "2026-10-31", "2026-11-01"]);
    expect(series.points[1]).toMatchObject({ demand: 4, onHand: 9, forecast: null });
    expect(series.points[2]).toMatchObject({ demand: null, forecast: 5, lo80: 4, hi80: 6, lo95: 3, hi95: 7 });
    expect(series).toMatchObject({ reorderPoint: 10, safetyStock: 5, bandMethod: "model", forecastDate: "2026-10-31" });
  });
});

describe("KPIs and runs", () => {
  const run: Schemas["RunSummary"] = { run_id: "r1", kind: "daily", status: "success", start: "2026-10-31", end: "2026-10-31", errors: 0, seconds: 42, started_at: "2026-10-31T03:00:00Z" };
  it("reads /kpis", () => {
    const kpis = toKpis({
      as_of_date: "2026-10-31", stock_value: 1234.5, open_alerts: { critical: 3, warning: 7, total: 10 },
      open_alerts_by_sla_tier: [{ sla_tier: "gold", critical: 1, warning: 2, total: 3 }, { sla_tier: null, critical: 0, warning: 1, total: 1 }],
      at_risk: { pairs: 4, value_at_risk: 99 }, fill_rate: { fill_rate: 0.97, issued_qty: 97, lost_qty: 3, stockout_days: 2 },
      stock_value_by_month: [{ month: "2026-10", snapshot_date: "2026-10-31", stock_value: 1234.5, on_hand: 10 }],
      accuracy_by_week: [{ week_start: "2026-10-26", points: 7, wape: 0.2, bias: -0.1 }],
      freshness: [{ source: "erp", tables: 5, latest_ingested_at: "2026-10-31T02:00:00Z", latest_ingest_date: "2026-10-31" }],
      last_run: run,
    });
    expect(kpis).toMatchObject({ stockValue: 1234.5, openCritical: 3, openWarning: 7, fillRate: 0.97, atRiskPairs: 4, valueAtRisk: 99 });
    expect(kpis.alertsByTier).toEqual([{ tier: "gold", critical: 1, warning: 2, total: 3 }, { tier: null, critical: 0, warning: 1, total: 1 }]);
    expect(kpis.stockValueSeries).toEqual([{ date: "2026-10-31", value: 1234.5 }]);
    expect(kpis.accuracyByWeek).toEqual([{ week: "2026-10-26", wape: 0.2, bias: -0.1 }]);
    expect(kpis.freshness[0]).toEqual({ source: "erp", tables: 5, ingestedAt: "2026-10-31T02:00:00Z", ingestDate: "2026-10-31" });
    expect(kpis.lastRun).toMatchObject({ runId: "r1", durationSeconds: 42, errors: 0 });
  });
  it("reads a run report with its steps", () => {
    const report = toRun({
      ...run, steps: [{ name: "bronze", seconds: 1.5, rows: 10, status: "success" }], tables: {}, quarantined: 2, dbt_tests: {},
      error_messages: [], notes: ["ok"],
    });
    expect(report.steps).toEqual([{ name: "bronze", seconds: 1.5, rows: 10, status: "success" }]);
    expect(report).toMatchObject({ quarantined: 2, notes: ["ok"] });
  });
});

describe("orders and live alerts", () => {
  it("offers the CSV of approved and sent orders only", () => {
    expect(["draft", "approved", "sent", "cancelled"].map((status) => hasCsv({ status: status as "draft" }))).toEqual([false, true, true, false]);
  });
  it("reads an alert from the socket", () => {
    expect(toLiveAlert({ alert_id: "X", item_id: "ITM1", depot_id: "DEP1", severity: "critical", message: "low", alert_date: "2026-10-31" }))
      .toEqual({ alertId: "X", itemId: "ITM1", depotId: "DEP1", severity: "critical", message: "low", alertDate: "2026-10-31" });
    expect(toLiveAlert("nonsense").alertId).toBe("?");
  });
});
