// The workbench in headless Chromium: gzipped JavaScript of the first page, and the Largest
// Contentful Paint of Overview and Work list with a warm API cache (each page is loaded once
// to warm the API, then measured `--runs` times in fresh tabs; the median is reported).
//
//   node scripts/bench.mjs --base=http://127.0.0.1:3000 [--email=E --password=P] [--runs=5]
import { gzipSync } from "node:zlib";
import { chromium } from "@playwright/test";

const flag = (name) => process.argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
const base = flag("base") ?? "http://127.0.0.1:3000";
const email = flag("email");
const password = flag("password");
const runs = Number(flag("runs") ?? 5);
const TARGET_LCP_MS = 1500;
const TARGET_JS_KB = 250;

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

async function pageJs(context, path) {
  const page = await context.newPage();
  const scripts = new Map();
  page.on("response", async (response) => {
    if (response.request().resourceType() === "script") scripts.set(response.url(), await response.body().catch(() => Buffer.alloc(0)));
  });
  await page.goto(`${base}${path}`, { waitUntil: "networkidle" });
  await page.waitForTimeout(500); // charts load their code after the first render
  let raw = 0;
  let gzipped = 0;
  for (const body of scripts.values()) {
    raw += body.length;
    gzipped += gzipSync(body, { level: 9 }).length;
  }
  await page.close();
  return { path, scripts: scripts.size, raw_kb: raw / 1024, gzipped_kb: gzipped / 1024 };
}

async function lcp(context, path) {
  const page = await context.newPage();
  await page.addInitScript(() => {
    window.__lcp = 0;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) window.__lcp = entry.startTime;
    }).observe({ type: "largest-contentful-paint", buffered: true });
  });
  await page.goto(`${base}${path}`, { waitUntil: "networkidle" });
  if (path !== "/login" && new URL(page.url()).pathname === "/login") throw new Error(`${path} needs a session: pass --email and --password`);
  await page.waitForTimeout(200); // let the last paint's entry arrive
  const value = await page.evaluate(() => window.__lcp);
  await page.close();
  return value;
}

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
try {
  const anonymous = await browser.newContext();
  const result = { base, first_page_js: await pageJs(anonymous, "/login"), lcp_ms: {}, targets: { lcp_ms: TARGET_LCP_MS, first_page_js_gzipped_kb: TARGET_JS_KB } };
  if (email && password) {
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: "pt-BR" });
    const login = await context.request.post(`${base}/api/v1/auth/login`, { data: { email, password } });
    if (!login.ok()) throw new Error(`sign-in failed: HTTP ${login.status()}`);
    // The first page a planner sees after signing in: the overview, charts included.
    result.overview_js = await pageJs(context, "/");
    for (const [name, path] of [["overview", "/"], ["work_list", "/work"]]) {
      await lcp(context, path); // warm the API cache and the server
      const samples = [];
      for (let i = 0; i < runs; i++) samples.push(await lcp(context, path));
      result.lcp_ms[name] = { median: median(samples), samples };
    }
    await context.close();
  } else {
    result.lcp_ms.note = "no account given: Overview and Work list need a session (pass --email and --password)";
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    await lcp(context, "/login");
    const samples = [];
    for (let i = 0; i < runs; i++) samples.push(await lcp(context, "/login"));
    result.lcp_ms.sign_in = { median: median(samples), samples };
    await context.close();
  }
  await anonymous.close();
  console.log(JSON.stringify(result, null, 2));
} finally {
  await browser.close();
}
