import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

export const STATE_DIR = join(here, ".state");
export const HARNESS_STATE = join(STATE_DIR, "harness.json");
export const PIDS = join(STATE_DIR, "pids.json");
export const REPO_ROOT = join(here, "..", "..");

export interface User {
  email: string;
  password: string;
  role: string;
  depots: string[];
}

export interface HarnessState {
  api_url: string;
  kafka_bootstrap: string;
  alerts_topic: string;
  service_key: string;
  users: User[];
  depots: string[];
  api_log: string;
}

export function harness(): HarnessState {
  return JSON.parse(readFileSync(HARNESS_STATE, "utf8")) as HarnessState;
}
