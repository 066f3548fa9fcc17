// Paths of the routes issue 12 adds, in one place (they are not in openapi.json yet).
export const ROUTES = {
  login: "/api/v1/auth/login",
  logout: "/api/v1/auth/logout",
  me: "/api/v1/auth/me",
  actions: "/api/v1/actions",
  alertAck: (id: string) => `/api/v1/alerts/${encodeURIComponent(id)}/ack`,
  alertSnooze: (id: string) => `/api/v1/alerts/${encodeURIComponent(id)}/snooze`,
  alertResolve: (id: string) => `/api/v1/alerts/${encodeURIComponent(id)}/resolve`,
  orders: "/api/v1/orders",
  order: (id: string) => `/api/v1/orders/${encodeURIComponent(id)}`,
  // The CSV export's path is not settled; this is the one place to change it.
  orderCsv: (id: string) => `/api/v1/orders/${encodeURIComponent(id)}/csv`,
  series: "/api/v1/series",
  kpis: "/api/v1/kpis",
  runs: "/api/v1/runs",
  run: (id: string) => `/api/v1/runs/${encodeURIComponent(id)}`,
  alertsSocket: "/ws/alerts",
} as const;
