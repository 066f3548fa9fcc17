// Same-origin calls to the API (through the dashboard's proxy) with the session cookie, all
// through the client generated from backend/api/openapi.json.
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";

export const CSRF_COOKIE = "nova_csrf";
export const CSRF_HEADER = "X-CSRF-Token";
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
const LOGIN_PATH = "/api/v1/auth/login";

/** RFC 9457 problem details, as every API error is shaped. */
export type Problem = Partial<components["schemas"]["Problem"]>;

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

/** Where a 401 sends the planner: sign in, then back to the page they were on. */
export function signInAgainUrl(location: Pick<Location, "pathname" | "search">): string {
  return `/login?next=${encodeURIComponent(location.pathname + location.search)}`;
}

const sessionMiddleware: Middleware = {
  onRequest({ request }) {
    withCsrf(request.method, request.headers);
    request.headers.set("accept", "application/json, application/problem+json");
    return request;
  },
  onResponse({ request, response }) {
    if (response.status === 401 && typeof window !== "undefined" && new URL(request.url).pathname !== LOGIN_PATH) {
      // The session expired or was revoked. A full load on purpose: nothing the previous
      // session fetched stays in memory.
      window.location.assign(signInAgainUrl(window.location));
    }
    return response;
  },
};

function origin(): string {
  return typeof window === "undefined" ? "http://127.0.0.1" : window.location.origin;
}

/** The typed client for every route in backend/api/openapi.json. */
export const api = createClient<paths>({ baseUrl: origin(), credentials: "same-origin" });
api.use(sessionMiddleware);

/** A problem body, or what can be said about a response that has none. */
export function toProblem(status: number, error: unknown): Problem {
  if (error && typeof error === "object") return error as Problem;
  return { status, detail: typeof error === "string" && error ? error.slice(0, 200) : undefined };
}

/** The body of a successful call, or an ApiError with the API's problem details. */
export async function ok<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) throw new ApiError(response.status, toProblem(response.status, error));
  return data as T;
}

/** A fresh key per approval: retrying the same selection repeats the same key. */
export function idempotencyKey(): string {
  return crypto.randomUUID();
}
