// Thin adapters from the API's JSON to the screens' view models. Field names of series,
// KPIs, runs and orders are still being settled in issue 12: a rename is fixed here only.
// Each reader accepts the contract's name first, then the likely alternatives.

type Json = Record<string, unknown>;

function obj(value: unknown): Json {
  return value && typeof value === "object" && !Array.isArray(value) ? (value as Json) : {};
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function pick(source: Json, ...names: string[]): unknown {
  for (const name of names) if (source[name] !== undefined && source[name] !== null) return source[name];
  return undefined;
}

function num(source: Json, ...names: string[]): number | null {
  const value = pick(source, ...names);
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) return Number(value);
  return null;
}

function str(source: Json, ...names: string[]): string | null {
  const value = pick(source, ...names);
  return typeof value === "string" ? value : typeof value === "number" ? String(value) : null;
}

function strings(source: Json, ...names: string[]): string[] {
  const value = pick(source, ...names);
  if (typeof value === "string") return value.split(/[,;]\s*/).filter(Boolean);
  return list(value).filter((entry): entry is string => typeof entry === "string");
}

export interface Page<T> {
  data: T[];
  count: number;
  limit: number;
  offset: number;
}

export function toPage<T>(raw: unknown, row: (value: unknown) => T): Page<T> {
  const body = obj(raw);
  const data = list(body.data).map(row);
  return { data, count: num(body, "count", "total") ?? data.length, limit: num(body, "limit") ?? data.length, offset: num(body, "offset") ?? 0 };
}

// --- work list -------------------------------------------------------------------------------

export const ACTIONS = ["order", "expedite", "transfer", "watch"] as const;
export type Action = (typeof ACTIONS)[number];
export const SEVERITIES = ["critical", "warning"] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface ActionRow {
  actionId: string;
  asOfDate: string | null;
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
  acknowledged: boolean;
  reasonCode: string | null;
  reason: string;
  daysToStockout: number | null;
  stockoutDate: string | null;
  onHand: number | null;
  onOrder: number | null;
  reorderPoint: number | null;
  safetyStock: number | null;
  orderUpTo: number | null;
  minOrderQty: number | null;
  unitCost: number | null;
  expeditePoId: string | null;
  expediteExpectedDate: string | null;
  transferFromDepotId: string | null;
  towersExposed: number | null;
  slaTiers: string[];
  worstSlaTier: string | null;
  valueAtRisk: number | null;
  orderValue: number | null;
  priority: number | null;
}

function oneOf<T extends string>(allowed: readonly T[], value: string | null): T | null {
  return value !== null && (allowed as readonly string[]).includes(value) ? (value as T) : null;
}

export function toActionRow(raw: unknown): ActionRow {
  const r = obj(raw);
  const itemId = str(r, "item_id") ?? "";
  const depotId = str(r, "depot_id") ?? "";
  const ack = pick(r, "acknowledged", "ack_state", "alert_state");
  return {
    actionId: str(r, "action_id") ?? `${itemId}|${depotId}`,
    asOfDate: str(r, "as_of_date"),
    itemId,
    itemName: str(r, "item_name") ?? itemId,
    category: str(r, "category"),
    depotId,
    supplierId: str(r, "supplier_id"),
    supplierName: str(r, "supplier_name"),
    action: oneOf(ACTIONS, str(r, "action")) ?? "watch",
    quantity: num(r, "quantity"),
    severity: oneOf(SEVERITIES, str(r, "severity")),
    alertId: str(r, "alert_id"),
    acknowledged: ack === true || ack === "acknowledged" || ack === "snoozed",
    reasonCode: str(r, "reason_code"),
    reason: str(r, "reason") ?? "",
    daysToStockout: num(r, "days_to_stockout"),
    stockoutDate: str(r, "stockout_date"),
    onHand: num(r, "on_hand"),
    onOrder: num(r, "on_order"),
    reorderPoint: num(r, "reorder_point"),
    safetyStock: num(r, "safety_stock"),
    orderUpTo: num(r, "order_up_to"),
    minOrderQty: num(r, "min_order_qty"),
    unitCost: num(r, "unit_cost"),
    expeditePoId: str(r, "expedite_po_id"),
    expediteExpectedDate: str(r, "expedite_expected_date"),
    transferFromDepotId: str(r, "transfer_from_depot_id"),
    towersExposed: num(r, "towers_exposed"),
    slaTiers: strings(r, "sla_tiers"),
    worstSlaTier: str(r, "worst_sla_tier"),
    valueAtRisk: num(r, "value_at_risk"),
    orderValue: num(r, "order_value"),
    priority: num(r, "priority"),
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
  acknowledged?: boolean;
  sort?: { column: SortColumn; descending: boolean };
  limit: number;
  offset: number;
}

export function workListParams(query: WorkListQuery): URLSearchParams {
  const params = new URLSearchParams();
  if (query.depotId) params.set("depot_id", query.depotId);
  if (query.category) params.set("category", query.category);
  if (query.severity) params.set("severity", query.severity);
  if (query.action) params.set("action", query.action);
  if (query.acknowledged !== undefined) params.set("acknowledged", String(query.acknowledged));
  if (query.sort) params.set("sort", `${query.sort.descending ? "-" : ""}${SORTABLE[query.sort.column]}`);
  params.set("limit", String(query.limit));
  params.set("offset", String(query.offset));
  return params;
}

/** The body of POST /orders: the selected lines, each with the quantity it suggests. */
export function orderRequest(rows: ActionRow[]): { lines: { action_id: string; item_id: string; depot_id: string; quantity: number }[] } {
  return {
    lines: rows
      .filter((row) => row.action === "order" && row.quantity !== null && row.quantity > 0)
      .map((row) => ({ action_id: row.actionId, item_id: row.itemId, depot_id: row.depotId, quantity: row.quantity ?? 0 })),
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
  projected: number | null;
}

export interface Series {
  itemId: string | null;
  depotId: string | null;
  frequency: string;
  points: SeriesPoint[];
  reorderPoint: number | null;
  safetyStock: number | null;
  nextArrival: string | null;
  refreshedAt: string | null;
}

function emptyPoint(date: string): SeriesPoint {
  return { date, demand: null, onHand: null, forecast: null, lo80: null, hi80: null, lo95: null, hi95: null, projected: null };
}

/**
 * One row per date, merged from the series' parts (history, on hand, forecast, projected
 * stock), whether the API sends them as separate arrays or as one array of points.
 */
export function toSeries(raw: unknown): Series {
  const body = obj(raw);
  const byDate = new Map<string, SeriesPoint>();
  const at = (date: string) => {
    let point = byDate.get(date);
    if (!point) {
      point = emptyPoint(date);
      byDate.set(date, point);
    }
    return point;
  };
  const dateOf = (r: Json) => str(r, "date", "ds", "day", "week", "forecast_date", "target_date");
  for (const entry of list(pick(body, "history", "demand"))) {
    const r = obj(entry);
    const date = dateOf(r);
    if (date) at(date).demand = num(r, "demand", "quantity", "y", "value");
  }
  for (const entry of list(pick(body, "on_hand", "stock", "on_hand_history"))) {
    const r = obj(entry);
    const date = dateOf(r);
    if (date) at(date).onHand = num(r, "on_hand", "value", "quantity");
  }
  for (const entry of list(pick(body, "forecast", "forecasts"))) {
    const r = obj(entry);
    const date = dateOf(r);
    if (!date) continue;
    const point = at(date);
    point.forecast = num(r, "forecast", "yhat", "mean", "value");
    point.lo80 = num(r, "lo_80", "yhat_lo_80", "lower_80", "p10");
    point.hi80 = num(r, "hi_80", "yhat_hi_80", "upper_80", "p90");
    point.lo95 = num(r, "lo_95", "yhat_lo_95", "lower_95", "p025");
    point.hi95 = num(r, "hi_95", "yhat_hi_95", "upper_95", "p975");
  }
  for (const entry of list(pick(body, "projected", "projected_stock", "projection"))) {
    const r = obj(entry);
    const date = dateOf(r);
    if (date) at(date).projected = num(r, "projected", "projected_on_hand", "on_hand", "value");
  }
  for (const entry of list(pick(body, "points", "data"))) {
    const r = obj(entry);
    const date = dateOf(r);
    if (!date) continue;
    const point = at(date);
    point.demand ??= num(r, "demand", "y");
    point.onHand ??= num(r, "on_hand");
    point.forecast ??= num(r, "forecast", "yhat");
    point.lo80 ??= num(r, "lo_80", "yhat_lo_80");
    point.hi80 ??= num(r, "hi_80", "yhat_hi_80");
    point.lo95 ??= num(r, "lo_95", "yhat_lo_95");
    point.hi95 ??= num(r, "hi_95", "yhat_hi_95");
    point.projected ??= num(r, "projected", "projected_on_hand");
  }
  return {
    itemId: str(body, "item_id"),
    depotId: str(body, "depot_id"),
    frequency: str(body, "freq", "frequency", "grain") ?? "daily",
    points: [...byDate.values()].sort((a, b) => a.date.localeCompare(b.date)),
    reorderPoint: num(body, "reorder_point"),
    safetyStock: num(body, "safety_stock"),
    nextArrival: str(body, "next_arrival_date", "next_arrival", "expected_date"),
    refreshedAt: str(body, "refreshed_at", "as_of_date", "generated_at"),
  };
}

// --- KPIs ------------------------------------------------------------------------------------

export interface Freshness {
  source: string;
  loadedAt: string | null;
  ageHours: number | null;
  status: string | null;
}

export interface RunSummary {
  runId: string;
  runDate: string | null;
  status: string | null;
  startedAt: string | null;
  durationSeconds: number | null;
  quarantined: number | null;
}

export interface Kpis {
  asOfDate: string | null;
  stockValue: number | null;
  openCritical: number | null;
  openWarning: number | null;
  atRisk: number | null;
  fillRate: number | null;
  alertsByTier: { tier: string; depotId: string; count: number }[];
  stockValueSeries: { date: string; value: number }[];
  accuracyByWeek: { week: string; wape: number | null; bias: number | null }[];
  freshness: Freshness[];
  lastRun: RunSummary | null;
}

export function toFreshness(raw: unknown): Freshness {
  const r = obj(raw);
  return {
    source: str(r, "source", "name") ?? "?",
    loadedAt: str(r, "loaded_at", "last_loaded_at", "max_loaded_at"),
    ageHours: num(r, "age_hours", "lag_hours"),
    status: str(r, "status", "state"),
  };
}

export function toKpis(raw: unknown): Kpis {
  const body = obj(raw);
  const open = obj(pick(body, "open_alerts", "alerts"));
  const bySeverity = obj(pick(open, "by_severity") ?? open);
  const byTier = list(pick(body, "alerts_by_tier", "open_alerts_by_tier", "alerts_by_sla_tier") ?? pick(open, "by_tier", "by_sla_tier"));
  const lastRun = pick(body, "last_run");
  return {
    asOfDate: str(body, "as_of_date", "date"),
    stockValue: num(body, "stock_value"),
    openCritical: num(bySeverity, "critical"),
    openWarning: num(bySeverity, "warning"),
    atRisk: num(body, "pairs_at_risk", "at_risk", "pairs_at_risk_within_lead_time"),
    fillRate: num(body, "fill_rate", "fill_rate_30d"),
    alertsByTier: byTier.map((entry) => {
      const r = obj(entry);
      return { tier: str(r, "sla_tier", "tier") ?? "?", depotId: str(r, "depot_id", "depot") ?? "?", count: num(r, "count", "alerts", "n") ?? 0 };
    }),
    stockValueSeries: list(pick(body, "stock_value_series", "stock_value_history")).flatMap((entry) => {
      const r = obj(entry);
      const date = str(r, "date", "snapshot_date");
      const value = num(r, "stock_value", "value");
      return date && value !== null ? [{ date, value }] : [];
    }),
    accuracyByWeek: list(pick(body, "accuracy_by_week", "forecast_accuracy", "accuracy")).flatMap((entry) => {
      const r = obj(entry);
      const week = str(r, "week", "week_start", "date");
      return week ? [{ week, wape: num(r, "wape"), bias: num(r, "bias") }] : [];
    }),
    freshness: list(pick(body, "freshness", "sources")).map(toFreshness),
    lastRun: lastRun === undefined ? null : toRunSummary(lastRun),
  };
}

// --- runs ------------------------------------------------------------------------------------

export interface RunStep {
  name: string;
  seconds: number | null;
  rows: number | null;
  quarantined: number | null;
  status: string | null;
}

export interface Run extends RunSummary {
  steps: RunStep[];
  notes: string[];
}

export function toRunSummary(raw: unknown): RunSummary {
  const r = obj(raw);
  const steps = list(r.steps).map(toRunStep);
  const quarantined = num(r, "quarantined", "quarantine_count", "quarantined_rows");
  return {
    runId: str(r, "run_id", "id") ?? "?",
    runDate: str(r, "run_date", "date"),
    status: str(r, "status", "state"),
    startedAt: str(r, "started_at", "start"),
    durationSeconds: num(r, "duration_seconds", "seconds", "duration_s", "elapsed_seconds"),
    quarantined: quarantined ?? (steps.length ? steps.reduce((sum, step) => sum + (step.quarantined ?? 0), 0) : null),
  };
}

export function toRunStep(raw: unknown): RunStep {
  const r = obj(raw);
  return {
    name: str(r, "name", "step") ?? "?",
    seconds: num(r, "seconds", "duration_seconds", "duration_s", "elapsed_seconds"),
    rows: num(r, "rows", "rows_out", "row_count"),
    quarantined: num(r, "quarantined", "quarantine_count", "quarantined_rows"),
    status: str(r, "status", "state"),
  };
}

export function toRun(raw: unknown): Run {
  const r = obj(raw);
  const notes = pick(r, "notes");
  return {
    ...toRunSummary(raw),
    steps: list(r.steps).map(toRunStep),
    notes: typeof notes === "string" ? [notes] : list(notes).filter((n): n is string => typeof n === "string"),
  };
}

// --- orders ----------------------------------------------------------------------------------

export const ORDER_STATUSES = ["draft", "approved", "sent", "cancelled"] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export interface OrderLine {
  itemId: string;
  depotId: string;
  quantity: number | null;
  unitCost: number | null;
}

export interface Order {
  orderId: string;
  supplierId: string | null;
  supplierName: string | null;
  status: OrderStatus | null;
  createdBy: string | null;
  createdAt: string | null;
  lines: OrderLine[];
  total: number | null;
}

export function toOrder(raw: unknown): Order {
  const r = obj(raw);
  const lines = list(r.lines).map((entry) => {
    const line = obj(entry);
    return { itemId: str(line, "item_id") ?? "?", depotId: str(line, "depot_id") ?? "?", quantity: num(line, "quantity", "qty"), unitCost: num(line, "unit_cost") };
  });
  const summed = lines.reduce((sum, line) => sum + (line.quantity ?? 0) * (line.unitCost ?? 0), 0);
  return {
    orderId: str(r, "order_id", "id") ?? "?",
    supplierId: str(r, "supplier_id"),
    supplierName: str(r, "supplier_name"),
    status: oneOf(ORDER_STATUSES, str(r, "status")),
    createdBy: str(r, "created_by", "author"),
    createdAt: str(r, "created_at"),
    lines,
    total: num(r, "total", "total_value", "order_value") ?? (lines.length ? summed : null),
  };
}

/** POST /orders may answer one order, a list, or a page of the drafts it made. */
export function toCreatedOrders(raw: unknown): Order[] {
  if (Array.isArray(raw)) return raw.map(toOrder);
  const body = obj(raw);
  if (Array.isArray(body.data)) return body.data.map(toOrder);
  if (Array.isArray(body.orders)) return body.orders.map(toOrder);
  return [toOrder(raw)];
}

// --- live alerts -----------------------------------------------------------------------------

export interface LiveAlert {
  alertId: string;
  itemId: string;
  depotId: string;
  severity: Severity | null;
  message: string;
  alertDate: string | null;
}

export function toLiveAlert(raw: unknown): LiveAlert {
  const r = obj(raw);
  return {
    alertId: str(r, "alert_id", "id") ?? "?",
    itemId: str(r, "item_id") ?? "?",
    depotId: str(r, "depot_id") ?? "?",
    severity: oneOf(SEVERITIES, str(r, "severity")),
    message: str(r, "reason", "message") ?? "",
    alertDate: str(r, "alert_date", "as_of_date"),
  };
}

// --- the session -----------------------------------------------------------------------------

export interface Me {
  email: string;
  role: string;
  depots: string[];
  csrfToken: string | null;
}

export function toMe(raw: unknown): Me {
  const r = obj(raw);
  return { email: str(r, "email") ?? "", role: str(r, "role") ?? "viewer", depots: strings(r, "depots"), csrfToken: str(r, "csrf_token") };
}
