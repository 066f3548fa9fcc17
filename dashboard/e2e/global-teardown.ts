import { existsSync, readFileSync } from "node:fs";
import { PIDS } from "./state";

// Stop what global-setup started, by its own PIDs (the harness then stops the API and Tansu).
export default async function globalTeardown(): Promise<void> {
  if (!existsSync(PIDS)) return;
  const pids = JSON.parse(readFileSync(PIDS, "utf8")) as Record<string, number | undefined>;
  for (const pid of [pids.dashboard, pids.backend]) {
    if (!pid) continue;
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      continue; // already gone
    }
    for (let i = 0; i < 80; i++) {
      try {
        process.kill(pid, 0);
      } catch {
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
