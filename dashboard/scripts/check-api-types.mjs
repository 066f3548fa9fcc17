// Fails when src/api/schema.d.ts is not what openapi-typescript makes of the committed
// backend/api/openapi.json (fix: npm run api:generate).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dir = mkdtempSync(join(tmpdir(), "nova-api-types-"));
try {
  const fresh = join(dir, "schema.d.ts");
  execFileSync(process.execPath, ["node_modules/openapi-typescript/bin/cli.js", "../backend/api/openapi.json", "-o", fresh], { stdio: "pipe" });
  if (readFileSync(fresh, "utf8") !== readFileSync("src/api/schema.d.ts", "utf8")) {
    console.error("src/api/schema.d.ts is stale: run `npm run api:generate` and commit it");
    process.exit(1);
  }
  console.log("src/api/schema.d.ts matches backend/api/openapi.json");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
