import { describe, expect, it } from "vitest";
import { orderRequest, toActionRow, toCreatedOrders, toKpis, toLiveAlert, toMe, toPage, toRun, toSeries, workListParams } from "./adapters";

const contractRow = {
  action_id: "A1", as_of_date: "2026-10-31", item_id: "ITM001", item_name: "Antena", category: "antenna",
  depot_id: "DEP01", supplier_id: "SUP1", supplier_name: "Acme", action: "order", quantity: 24, severity: "critical",
  alert_id: "AL1", reason_code: "below_rop", reason: "Estoque abaixo do ponto de pedido.", days_to_stockout: 2,
  stockout_date: "2026-11-02", on_hand: 3, on_order: 0, approved_on_order: 0, reorder_point: 10, safety_stock: 5,
  order_up_to: 27, min_order_qty: 12, unit_cost: 12.5, expedite_po_id: null, expedite_expected_date: null,
  transfer_from_depot_id: null, towers_exposed: 4, sla_tiers: ["gold", "silver"], worst_sla_tier: "gold",
  value_at_risk: 1500, order_value: 300, priority: 0.9,
};

describe("work list", () => {
  it("reads a contract row", () => {
    const row = toActionRow(contractRow);
    expect(row).toMatchObject({ actionId: "A1", itemId: "ITM001", depotId: "DEP01", action: "order", quantity: 24, severity: "critical", slaTiers: ["gold", "silver"], valueAtRisk: 1500 });
  });
  it("falls back on safe values for unknown actions and severities", () => {
    const row = toActionRow({ item_id: "X", depot_id: "D", action: "teleport", severity: "meh" });
    expect(row.action).toBe("watch");
    expect(row.severity).toBeNull();
    expect(row.actionId).toBe("X|D");
  });
  it("reads a page", () => {
    const page = toPage({ data: [contractRow], count: 40, limit: 1, offset: 5 }, toActionRow);
    expect(page.count).toBe(40);
    expect(page.offset).toBe(5);
    expect(page.data[0]?.itemId).toBe("ITM001");
  });
  it("asks for filters and a descending sort in the API's names", () => {
    const params = workListParams({ depotId: "DEP01", severity: "critical", acknowledged: false, sort: { column: "valueAtRisk", descending: true }, limit: 50, offset: 100 });
    expect(params.toString()).toBe("depot_id=DEP01&severity=critical&acknowledged=false&sort=-value_at_risk&limit=50&offset=100");
  });
  it("sends only order lines with a positive quantity to POST /orders", () => {
    const order = toActionRow(contractRow);
    const watch = toActionRow({ ...contractRow, action_id: "A2", action: "watch", quantity: 0 });
    expect(orderRequest([order, watch])).toEqual({ lines: [{ action_id: "A1", item_id: "ITM001", depot_id: "DEP01", quantity: 24 }] });
  });
});

describe("series", () => {
  it("merges history, on hand and forecast with bands into one row per date", () => {
    const series = toSeries({
      item_id: "ITM001", depot_id: "DEP01", reorder_point: 10, safety_stock: 5,
      history: [{ date: "2026-10-30", demand: 3 }, { date: "2026-10-31", demand: 4 }],
      on_hand: [{ date: "2026-10-31", on_hand: 20 }],
      forecast: [{ date: "2026-11-01", yhat: 4, yhat_lo_80: 2, yhat_hi_80: 6, yhat_lo_95: 1, yhat_hi_95: 8 }],
    });
    expect(series.points.map((p) => p.date)).toEqual(["2026-10-30", "2026-10-31", "2026-11-01"]);
    expect(series.points[1]).toMatchObject({ demand: 4, onHand: 20, forecast: null });
    expect(series.points[2]).toMatchObject({ forecast: 4, lo80: 2, hi80: 6, lo95: 1, hi95: 8 });
    expect(series.reorderPoint).toBe(10);
  });
  it("reads one array of points too", () => {
    const series = toSeries({ points: [{ date: "2026-11-01", forecast: 4, lo_80: 3, hi_80: 5, lo_95: 2, hi_95: 6 }] });
    expect(series.points[0]).toMatchObject({ forecast: 4, lo80: 3, hi95: 6 });
  });
});

describe("kpis, runs, orders, alerts, me", () => {
  it("reads KPIs with nested open alerts", () => {
    const kpis = toKpis({
      stock_value: 1234.5, open_alerts: { critical: 3, warning: 7, by_sla_tier: [{ sla_tier: "gold", depot_id: "DEP01", count: 2 }] },
      fill_rate: 0.97, accuracy_by_week: [{ week: "2026-10-26", wape: 0.3, bias: -0.05 }],
      freshness: [{ source: "erp", loaded_at: "2026-10-31T06:00:00Z", age_hours: 2 }], last_run: { run_id: "r1", status: "success" },
    });
    expect(kpis).toMatchObject({ stockValue: 1234.5, openCritical: 3, openWarning: 7, fillRate: 0.97 });
    expect(kpis.alertsByTier).toEqual([{ tier: "gold", depotId: "DEP01", count: 2 }]);
    expect(kpis.accuracyByWeek[0]).toEqual({ week: "2026-10-26", wape: 0.3, bias: -0.05 });
    expect(kpis.lastRun?.runId).toBe("r1");
  });
  it("sums quarantine counts over the steps when the run has no total", () => {
    const run = toRun({ run_id: "r1", steps: [{ name: "extract", seconds: 1.4, quarantined: 2 }, { name: "validate", seconds: 4.7, quarantined: 3 }], notes: "late INMET" });
    expect(run.quarantined).toBe(5);
    expect(run.steps.map((s) => s.name)).toEqual(["extract", "validate"]);
    expect(run.notes).toEqual(["late INMET"]);
  });
  it("reads the drafts POST /orders made, in any of its shapes", () => {
    const one = { order_id: "PO1", supplier_id: "SUP1", status: "draft", lines: [{ item_id: "I", depot_id: "D", quantity: 2, unit_cost: 10 }] };
    expect(toCreatedOrders(one)[0]).toMatchObject({ orderId: "PO1", status: "draft", total: 20 });
    expect(toCreatedOrders({ data: [one, { ...one, order_id: "PO2" }] }).map((o) => o.orderId)).toEqual(["PO1", "PO2"]);
    expect(toCreatedOrders([one])).toHaveLength(1);
  });
  it("reads a live alert and the signed-in user", () => {
    expect(toLiveAlert({ alert_id: "A", item_id: "I", depot_id: "D", severity: "critical", message: "m" })).toMatchObject({ alertId: "A", severity: "critical", message: "m" });
    expect(toMe({ email: "p@x", role: "planner", depots: ["DEP01"], csrf_token: "t" })).toEqual({ email: "p@x", role: "planner", depots: ["DEP01"], csrfToken: "t" });
  });
});
