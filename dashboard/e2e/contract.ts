// Browser tests for routes issue 12 is adding are skipped, with the reason, until the route
// is in the committed backend/api/openapi.json. After merging the API they run by themselves.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "@playwright/test";
import { REPO_ROOT } from "./state";

type Method = "get" | "post";
const schema = JSON.parse(readFileSync(join(REPO_ROOT, "backend", "api", "openapi.json"), "utf8")) as { paths: Record<string, Partial<Record<Method, unknown>>> };

// Path parameters may be named differently ({id} or {alert_id}): compare the templates.
const template = (path: string) => path.replace(/\{[^}]+\}/g, "{}");
const routes = new Set(Object.entries(schema.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method} ${template(path)}`)));

export function hasRoute(method: Method, path: string): boolean {
  return routes.has(`${method} ${template(path)}`);
}

/** Skip the current test unless every route is in openapi.json. */
export function needsRoutes(...routes: `${Uppercase<Method>} ${string}`[]): void {
  const missing = routes.filter((route) => {
    const [method, path] = route.split(" ") as [Uppercase<Method>, string];
    return !hasRoute(method.toLowerCase() as Method, path);
  });
  test.skip(missing.length > 0, `waiting for the API (issue 12): ${missing.join(", ")} not in backend/api/openapi.json`);
}
