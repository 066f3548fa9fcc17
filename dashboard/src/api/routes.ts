// The two paths the typed client does not call: the CSV export is a plain download link, and
// the alert feed is a WebSocket. Every JSON route goes through `api` (src/api/http.ts).
export const ROUTES = {
  orderCsv: (id: string) => `/api/v1/orders/${encodeURIComponent(id)}/csv`,
  alertsSocket: "/ws/alerts",
} as const;
