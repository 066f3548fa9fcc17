// Same-origin calls to the API (through the dashboard's proxy) with the session cookie.
import createClient, { type Middleware } from "openapi-fetch";
import { ROUTES } from "./routes";
import type { paths } from "./schema";

export const CSRF_COOKIE = "nova_csrf";
export const CSRF_HEADER = "X-CSRF-Token";
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** RFC 9457 problem details, as every API error is shaped. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  instance?: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
    this.name = "ApiError";
  }
}

/** The value of one cookie in a `document.cookie` string. */
export function readCookie(cookieHeader: string, name: string): string | null {
  for (const part of cookieHeader.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return null;
}

function csrfToken(): string | null {
  return typeof document === "undefined" ? null : readCookie(document.cookie, CSRF_COOKIE);
}

/** Writes carry the CSRF token the API set in a readable cookie at sign-in. */
export function withCsrf(method: string, headers: Headers, token: string | null = csrfToken()): Headers {
  if (!SAFE_METHODS.has(method.toUpperCase()) && token) headers.set(CSRF_HEADER, token);
  return headers;
}

const csrfMiddleware: Middleware = {
  onRequest({ request }) {
    withCsrf(request.method, request.headers);
    return request;
  },
};

function origin(): string {
  return typeof window === "undefined" ? "http://127.0.0.1" : window.location.origin;
}

/** The typed client for every route in backend/api/openapi.json. */
export const api = createClient<paths>({ baseUrl: origin(), credentials: "same-origin" });
api.use(csrfMiddleware);

async function problemOf(response: Response): Promise<Problem> {
  const text = await response.text();
  try {
    const body = JSON.parse(text) as unknown;
    if (body && typeof body === "object") return body as Problem;
  } catch {
    // not JSON: keep the status line
  }
  return { status: response.status, title: response.statusText, detail: text.slice(0, 200) || undefined };
}

/**
 * Routes that the committed schema does not have yet (issue 12 is adding them): plain JSON
 * over fetch, parsed by the adapters. Once a route is in openapi.json, move its caller to
 * `api` and the generated types.
 */
export async function requestJson(path: string, init: RequestInit = {}): Promise<unknown> {
  const method = init.method ?? "GET";
  const headers = withCsrf(method, new Headers(init.headers));
  if (init.body !== undefined && !headers.has("content-type")) headers.set("content-type", "application/json");
  headers.set("accept", "application/json, application/problem+json");
  const response = await fetch(path, { ...init, method, headers, credentials: "same-origin" });
  if (response.status === 401 && typeof window !== "undefined" && path !== ROUTES.login) {
    // The session expired or was revoked: sign in again, then come back here. A full load on
    // purpose: nothing the previous session fetched stays in memory.
    // eslint-disable-next-line @next/next/no-location-assign-relative-destination
    window.location.assign(`/login?next=${encodeURIComponent(window.location.pathname + window.location.search)}`);
  }
  if (!response.ok) throw new ApiError(response.status, await problemOf(response));
  if (response.status === 204) return null;
  return (await response.json()) as unknown;
}

/** A fresh key per approval click: retrying the same click repeats the same key. */
export function idempotencyKey(): string {
  return crypto.randomUUID();
}
