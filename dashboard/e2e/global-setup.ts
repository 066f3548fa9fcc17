// Starts the real backend (dashboard/e2e/harness.py: small gold lake, Tansu, `nova serve`)
// and the production dashboard server (`next build` must have run) in front of it.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, openSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { DASHBOARD_PORT } from "../playwright.config";
import { HARNESS_STATE, PIDS, REPO_ROOT, STATE_DIR, harness } from "./state";

async function waitFor(check: () => Promise<boolean> | boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${what} not ready after ${timeoutMs / 1000} s`);
}

export default async function globalSetup(): Promise<void> {
  if (!existsSync(join(dirname(fileURLToPath(import.meta.url)), "..", ".next", "BUILD_ID"))) throw new Error("run `npm run build` before the browser tests");
  rmSync(STATE_DIR, { recursive: true, force: true });
  mkdirSync(STATE_DIR, { recursive: true });
  const python = join(REPO_ROOT, ".venv", "bin", "python");
  const backend = spawn(python, ["dashboard/e2e/harness.py", "--state", HARNESS_STATE], {
    cwd: REPO_ROOT, stdio: ["ignore", openSync(join(STATE_DIR, "harness.log"), "w"), "inherit"],
  });
  writeFileSync(PIDS, JSON.stringify({ backend: backend.pid }));
  await waitFor(() => existsSync(HARNESS_STATE), "the API harness", 120_000);
  const server = spawn(process.execPath, ["server.mjs"], {
    cwd: join(dirname(fileURLToPath(import.meta.url)), ".."),
    env: { ...process.env, NODE_ENV: "production", PORT: String(DASHBOARD_PORT), HOSTNAME: "127.0.0.1", NOVA_API_URL: harness().api_url },
    stdio: ["ignore", openSync(join(STATE_DIR, "dashboard.log"), "w"), "inherit"],
  });
  writeFileSync(PIDS, JSON.stringify({ backend: backend.pid, dashboard: server.pid }));
  await waitFor(async () => {
    try {
      return (await fetch(`http://127.0.0.1:${DASHBOARD_PORT}/healthz`)).ok;
    } catch {
      return false;
    }
  }, "the dashboard server", 60_000);
}
