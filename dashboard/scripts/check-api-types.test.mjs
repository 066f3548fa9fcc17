import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const script = new URL("./check-api-types.mjs", import.meta.url).pathname;
const types = new URL("../src/api/schema.d.ts", import.meta.url).pathname;
const openapi = new URL("../../backend/api/openapi.json", import.meta.url).pathname;

// openapi-typescript takes a few seconds on a busy machine.
describe("generated API types", { timeout: 60_000 }, () => {
  it("match the committed openapi.json", () => {
    expect(execFileSync(process.execPath, [script], { encoding: "utf8" })).toContain("matches");
  });
  it("are reported stale when they differ", () => {
    const dir = mkdtempSync(join(tmpdir(), "nova-stale-"));
    try {
      const stale = join(dir, "schema.d.ts");
      copyFileSync(types, stale);
      appendFileSync(stale, "export type Extra = 1;\n");
      const run = spawnSync(process.execPath, [script, openapi, stale], { encoding: "utf8" });
      expect(run.status).toBe(1);
      expect(run.stderr).toContain("stale");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
