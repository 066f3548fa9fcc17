// From the API's typed bodies (src/api/schema.d.ts, generated from backend/api/openapi.json)
// to the screens' view models: camelCase, numbers as numbers, lists as lists. A renamed
// field in the API fails the type check here, not silently in a screen.
import type { components, operations } from "./schema";

type Schemas = components["schemas"];

export interface Page<T> {
  data: T[];
  count: number;
  limit: number;
  offset: number;
}

export function toPage<R, T>(body: { data: R[]; count: number; limit: number; offset: number }, row: (value: R) => T): Page<T> {
  return { data: body.data.map(row), count: body.count, limit: body.limit, offset: body.offset };
}

// --- work list -------------------------------------------------------------------------------

export const ACTIONS = ["order", "expedite", "transfer", "watch"] as const;
export type Action = Schemas["ActionWithState"]["action"];
export const SEVERITIES = ["critical", "warning"] as const;
export type Severity = (typeof SEVERITIES)[number];
export const ALERT_STATES = ["open", "acknowledged", "snoozed", "resolved"] as const;
export type AlertState = Schemas["ActionWithState"]["state"];

export interface ActionRow {
  actionId: string;
  asOfDate: string;
  itemId: string;
  itemName: string;
  category: string | null;
  depotId: string;
  supplierId: string | null;
  supplierName: string | null;
  action: Action;
  quantity: number | null;
  severity: Severity | null;
  alertId: string | null;
  state: AlertState;
  stateNote: string | null;
  snoozedUntil: string | null;
  reason: string;
  daysToStockout: number | null;
  stockoutDate: string | null;
  onHand: number | null;
  onOrder: number | null;
  reorderPoint: number | null;
  safetyStock: number | null;
  minOrderQty: number | null;
  expeditePoId: string | null;
  expediteExpectedDate: string | null;
  transferFromDepotId: string | null;
  towersExposed: number | null;
  slaTiers: string[];
  valueAtRisk: number | null;
  orderValue: number | null;
}

function severityOf(value: string | null | undefined): Severity | null {
  return value === "critical" || value === "warning" ? value : null;
}

/** gold keeps an action's SLA tiers as one comma-separated text. */
export function splitTiers(value: string | null | undefined): string[] {
  return (value ?? "").split(",").map((tier) => tier.trim()).filter(Boolean);
}

export function toActionRow(r: Schemas["ActionWithState"]): ActionRow {
  return {
    actionId: r.action_id,
    asOfDate: r.as_of_date,
    itemId: r.item_id,
    itemName: r.item_name ?? r.item_id,
    category: r.category ?? null,
    depotId: r.depot_id,
    supplierId: r.supplier_id ?? null,
    supplierName: r.supplier_name ?? null,
    action: r.action,
    quantity: r.quantity ?? null,
    severity: severityOf(r.severity),
    alertId: r.alert_id ?? null,
    state: r.state ?? "open",
    stateNote: r.state_note ?? null,
    snoozedUntil: r.snoozed_until ?? null,
    reason: r.reason ?? "",
    daysToStockout: r.days_to_stockout ?? null,
    stockoutDate: r.stockout_date ?? null,
    onHand: r.on_hand ?? null,
    onOrder: r.on_order ?? null,
    reorderPoint: r.reorder_point ?? null,
    safetyStock: r.safety_stock ?? null,
    minOrderQty: r.min_order_qty ?? null,
    expeditePoId: r.expedite_po_id ?? null,
    expediteExpectedDate: r.expedite_expected_date ?? null,
    transferFromDepotId: r.transfer_from_depot_id ?? null,
    towersExposed: r.towers_exposed ?? null,
    slaTiers: splitTiers(r.sla_tiers),
    valueAtRisk: r.value_at_risk ?? null,
    orderValue: r.order_value ?? null,
  };
}

/** The columns the work list sorts on, as the API names them (`sort=col` or `-col`). */
export const SORTABLE = {
  priority: "priority",
  item: "item_id",
  depot: "depot_id",
  action: "action",
  quantity: "quantity",
  severity: "severity",
  daysToStockout: "days_to_stockout",
  valueAtRisk: "value_at_risk",
  orderValue: "order_value",
} as const;
export type SortColumn = keyof typeof SORTABLE;

export interface WorkListQuery {
  depotId?: string;
  category?: string;
  severity?: Severity;
  action?: Action;
  state?: AlertState;
  sort?: { column: SortColumn; descending: boolean };
  limit: number;
  offset: number;
}

type ActionsQuery = NonNullable<operations["list_actions"]["parameters"]["query"]>;

/** GET /actions' query: only the filters set, the sort in the API's column names. */
export function workListParams(query: WorkListQuery): ActionsQuery {
  const params: ActionsQuery = { limit: query.limit, offset: query.offset };
  if (query.depotId) params.depot_id = query.depotId;
  if (query.category) params.category = query.category;
  if (query.severity) params.severity = query.severity;
  if (query.action) params.action = query.action;
  if (query.state) params.state = query.state;
  if (query.sort) params.sort = `${query.sort.descending ? "-" : ""}${SORTABLE[query.sort.column]}`;
  return params;
}

/** The body of POST /orders: the selected order lines, each with the quantity it suggests
 * (whole units: the API takes integers) and the action and alert it answers. */
export function orderRequest(rows: ActionRow[]): Schemas["OrdersCreate"] {
  return {
    lines: rows
      .filter((row) => row.action === "order" && row.quantity !== null && Math.round(row.quantity) > 0)
      .map((row) => ({ item_id: row.itemId, depot_id: row.depotId, quantity: Math.round(row.quantity ?? 0), action_id: row.actionId, alert_id: row.alertId })),
  };
}

// --- series ----------------------------------------------------------------------------------

export interface SeriesPoint {
  date: string;
  demand: number | null;
  onHand: number | null;
  forecast: number | null;
  lo80: number | null;
  hi80: number | null;
  lo95: number | null;
  hi95: number | null;
}

export interface Series {
  grain: Schemas["SeriesPublic"]["grain"];
  bandMethod: Schemas["SeriesPublic"]["band_method"];
  points: SeriesPoint[];
  reorderPoint: number | null;
  safetyStock: number | null;
  forecastDate: string | null;
}

function emptyPoint(date: string): SeriesPoint {
  return { date, demand: null, onHand: null, forecast: null, lo80: null, hi80: null, lo95: null, hi95: null };
}

/** One point per period: the history's demand and stock, then the forecast with its bands. */
export function toSeries(body: Schemas["SeriesPublic"]): Series {
  const byDate = new Map<string, SeriesPoint>();
  const at = (date: string) => {
    const point = byDate.get(date) ?? emptyPoint(date);
    byDate.set(date, point);
    return point;
  };
  for (const h of body.history) {
    const point = at(h.period_start);
    point.demand = h.demand_qty;
    point.onHand = h.on_hand ?? null;
  }
  for (const f of body.forecast) {
    Object.assign(at(f.period_start), { forecast: f.yhat, lo80: f.yhat_lo_80, hi80: f.yhat_hi_80, lo95: f.yhat_lo_95, hi95: f.yhat_hi_95 });
  }
  return {
    grain: body.grain,
    bandMethod: body.band_method,
    points: [...byDate.values()].sort((a, b) => a.date.localeCompare(b.date)),
    reorderPoint: body.reorder_point ?? null,
    safetyStock: body.safety_stock ?? null,
    forecastDate: body.forecast_date ?? null,
  };
}

// --- KPIs ------------------------------------------------------------------------------------

export interface Freshness {
  source: string;
  ingestedAt: string | null;
  ingestDate: string | null;
  tables: number;
}

export interface RunSummary {
  runId: string;
  kind: string;
  start: string;
  end: string;
  status: Schemas["RunSummary"]["status"];
  startedAt: string | null;
  durationSeconds: number | null;
  errors: number;
}

export interface Kpis {
  asOfDate: string | null;
  stockValue: number;
  openCritical: number;
  openWarning: number;
  atRiskPairs: number;
  valueAtRisk: number;
  fillRate: number | null;
  alertsByTier: { tier: string | null; critical: number; warning: number; total: number }[];
  stockValueSeries: { date: string; value: number }[];
  accuracyByWeek: { week: string; wape: number | null; bias: number | null }[];
  freshness: Freshness[];
  lastRun: RunSummary | null;
}

export function toKpis(body: Schemas["KpisPublic"]): Kpis {
  return {
    asOfDate: body.as_of_date ?? null,
    stockValue: body.stock_value,
    openCritical: body.open_alerts.critical,
    openWarning: body.open_alerts.warning,
    atRiskPairs: body.at_risk.pairs,
    valueAtRisk: body.at_risk.value_at_risk,
    fillRate: body.fill_rate.fill_rate ?? null,
    alertsByTier: body.open_alerts_by_sla_tier.map((r) => ({ tier: r.sla_tier ?? null, critical: r.critical, warning: r.warning, total: r.total })),
    stockValueSeries: body.stock_value_by_month.map((p) => ({ date: p.snapshot_date, value: p.stock_value })),
    accuracyByWeek: body.accuracy_by_week.map((w) => ({ week: w.week_start, wape: w.wape ?? null, bias: w.bias ?? null })),
    freshness: body.freshness.map((f) => ({ source: f.source, ingestedAt: f.latest_ingested_at ?? null, ingestDate: f.latest_ingest_date ?? null, tables: f.tables })),
    lastRun: body.last_run ? toRunSummary(body.last_run) : null,
  };
}

// --- runs ------------------------------------------------------------------------------------

export interface RunStep {
  name: string;
  seconds: number;
  rows: number | null;
  status: Schemas["RunStep"]["status"];
}

export interface Run extends RunSummary {
  steps: RunStep[];
  quarantined: number;
  notes: string[];
  errorMessages: string[];
}

export function toRunSummary(r: Schemas["RunSummary"]): RunSummary {
  return { runId: r.run_id, kind: r.kind, start: r.start, end: r.end, status: r.status, startedAt: r.started_at ?? null, durationSeconds: r.seconds ?? null, errors: r.errors };
}

export function toRun(r: Schemas["RunReportPublic"]): Run {
  return {
    ...toRunSummary(r),
    steps: r.steps.map((s) => ({ name: s.name, seconds: s.seconds, rows: s.rows ?? null, status: s.status })),
    quarantined: r.quarantined,
    notes: r.notes,
    errorMessages: r.error_messages,
  };
}

// --- orders ----------------------------------------------------------------------------------

export const ORDER_STATUSES = ["draft", "approved", "sent", "cancelled"] as const;
export type OrderStatus = Schemas["OrderPublic"]["status"];
export type Order = Schemas["OrderPublic"];

/** The API exports an order's CSV only once it is approved (or sent). */
export function hasCsv(order: Pick<Order, "status">): boolean {
  return order.status === "approved" || order.status === "sent";
}

// --- live alerts (the WebSocket's messages are not in the OpenAPI schema) ---------------------

export interface LiveAlert {
  alertId: string;
  itemId: string;
  depotId: string;
  severity: Severity | null;
  message: string;
  alertDate: string | null;
}

type Json = Record<string, unknown>;
const text = (r: Json, name: string): string | null => (typeof r[name] === "string" ? (r[name] as string) : null);

export function toLiveAlert(raw: unknown): LiveAlert {
  const r = raw && typeof raw === "object" ? (raw as Json) : {};
  return {
    alertId: text(r, "alert_id") ?? "?",
    itemId: text(r, "item_id") ?? "?",
    depotId: text(r, "depot_id") ?? "?",
    severity: severityOf(text(r, "severity")),
    message: text(r, "message") ?? "",
    alertDate: text(r, "alert_date"),
  };
}
