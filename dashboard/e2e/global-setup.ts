// Starts the real backend (dashboard/e2e/harness.py: small gold lake, Tansu, `nova serve`)
// and the production dashboard server (`next build` must have run) in front of it.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, openSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startDashboard, waitFor } from "./dashboard-server";
import { HARNESS_STATE, PIDS, REPO_ROOT, STATE_DIR } from "./state";

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
  await startDashboard();
}
