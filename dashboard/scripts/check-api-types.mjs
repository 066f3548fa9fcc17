// Fails when the generated client types are not what openapi-typescript makes of the
// committed schema (fix: npm run api:generate). Arguments, for the tests: [openapi] [types].
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const [openapi = join(root, "../backend/api/openapi.json"), types = join(root, "src/api/schema.d.ts")] = process.argv.slice(2);
const cli = join(root, "node_modules/openapi-typescript/bin/cli.js");

const dir = mkdtempSync(join(tmpdir(), "nova-api-types-"));
try {
  const fresh = join(dir, "schema.d.ts");
  execFileSync(process.execPath, [cli, openapi, "-o", fresh], { stdio: "pipe" });
  if (readFileSync(fresh, "utf8") !== readFileSync(types, "utf8")) {
    console.error(`${types} is stale against ${openapi}: run \`npm run api:generate\` and commit it`);
    process.exit(1);
  }
  console.log(`${types} matches ${openapi}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
