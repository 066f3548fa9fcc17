// The production dashboard server the browser tests talk to: started by global-setup, and
// restarted by the live-feed test to drop every open WebSocket for real.
import { spawn } from "node:child_process";
import { openSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { DASHBOARD_PORT } from "../playwright.config";
import { PIDS, STATE_DIR, harness } from "./state";

const DASHBOARD_DIR = join(dirname(fileURLToPath(import.meta.url)), "..");

export async function waitFor(check: () => Promise<boolean> | boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${what} not ready after ${timeoutMs / 1000} s`);
}

function recordPid(name: string, pid: number | undefined): void {
  let pids: Record<string, number | undefined> = {};
  try {
    pids = JSON.parse(readFileSync(PIDS, "utf8")) as Record<string, number | undefined>;
  } catch {
    // first record
  }
  writeFileSync(PIDS, JSON.stringify({ ...pids, [name]: pid }));
}

async function healthy(): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${DASHBOARD_PORT}/healthz`)).ok;
  } catch {
    return false;
  }
}

/** Start `node server.mjs` in front of the harness's API; resolves once /healthz answers. */
export async function startDashboard(): Promise<void> {
  const server = spawn(process.execPath, ["server.mjs"], {
    cwd: DASHBOARD_DIR,
    env: { ...process.env, NODE_ENV: "production", PORT: String(DASHBOARD_PORT), HOSTNAME: "127.0.0.1", NOVA_API_URL: harness().api_url },
    stdio: ["ignore", openSync(join(STATE_DIR, "dashboard.log"), "a"), "inherit"],
  });
  recordPid("dashboard", server.pid);
  await waitFor(healthy, "the dashboard server", 60_000);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stop the dashboard server this run started (by its recorded PID) and wait until it is gone. */
export async function stopDashboard(): Promise<void> {
  const pid = (JSON.parse(readFileSync(PIDS, "utf8")) as { dashboard?: number }).dashboard;
  if (!pid || !alive(pid)) return;
  process.kill(pid, "SIGTERM");
  await waitFor(() => !alive(pid), "the dashboard server's exit", 20_000);
}
