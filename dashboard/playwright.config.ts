import { defineConfig, devices } from "@playwright/test";

// Playwright cannot download its browsers here: Debian's Chromium (apt-get install chromium).
const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const DASHBOARD_PORT = Number(process.env.DASHBOARD_E2E_PORT ?? 3100);

export default defineConfig({
  testDir: "e2e",
  globalSetup: "./e2e/global-setup.ts",
  globalTeardown: "./e2e/global-teardown.ts",
  // One API, one broker, one lake: tests that write (ack, orders) must not race each other.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${DASHBOARD_PORT}`,
    locale: "pt-BR",
    timezoneId: "America/Bahia",
    viewport: { width: 1366, height: 768 },
    launchOptions: { executablePath: chromium, args: ["--no-sandbox"] },
    trace: "off",
  },
  projects: [
    { name: "desktop", use: { ...devices["Desktop Chrome"], viewport: { width: 1366, height: 768 }, launchOptions: { executablePath: chromium, args: ["--no-sandbox"] } } },
  ],
});
