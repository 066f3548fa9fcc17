// The sign-in page, the proxy, the alert socket and the page weight, against the real API.
import { connect } from "node:net";
import { gzipSync } from "node:zlib";
import { join } from "node:path";
import { expect, test } from "@playwright/test";
import { DASHBOARD_PORT } from "../playwright.config";
import { SCREENSHOTS, expectAccessible, planner, produceAlert, signIn } from "./helpers";
import { harness } from "./state";

test("the sign-in page is in Portuguese by default and in English on request", async ({ page }) => {
  await page.goto("/login");
  await expect(page.locator("html")).toHaveAttribute("lang", "pt-BR");
  await expect(page.getByRole("heading", { name: "Entrar" })).toBeVisible();
  await expect(page.getByLabel("E-mail")).toBeFocused();
  await expectAccessible(page);
  await page.screenshot({ path: join(SCREENSHOTS, "login.png") });
  await page.getByLabel("Idioma").selectOption("en");
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  await page.getByLabel("Language").selectOption("pt-BR");
  await expect(page.getByRole("heading", { name: "Entrar" })).toBeVisible();
});

test("the sign-in form is usable from the keyboard", async ({ page }) => {
  await page.goto("/login");
  await page.keyboard.type("nobody@nova.test");
  await page.keyboard.press("Tab");
  await expect(page.getByLabel("Senha")).toBeFocused();
  await page.keyboard.type("wrong password");
  await page.keyboard.press("Enter");
  await expect(page.getByRole("alert").filter({ hasText: "E-mail ou senha incorretos." })).toBeVisible();
  await expect(page).toHaveURL(/\/login$/);
});

test("every screen but sign-in sends a visitor without a session to sign in", async ({ page }) => {
  for (const path of ["/", "/work", "/items/ITM001/DEP01", "/alerts", "/orders", "/pipeline"]) {
    await page.goto(path);
    await expect(page).toHaveURL(/\/login$/);
  }
});

test("the proxy forwards HTTP to the API on the page's own origin", async ({ request }) => {
  const refused = await request.get("/api/v1/items");
  expect(refused.status()).toBe(401);
  expect(refused.headers()["content-type"]).toContain("application/problem+json");
  expect((await refused.json()) as { status: number }).toMatchObject({ status: 401 });
  const health = await request.get("/health");
  expect(health.status()).toBe(200);
  expect(await health.json()).toMatchObject({ status: "ok", gold_version: "v1" });
  const withKey = await request.get("/api/v1/depots", { headers: { authorization: `Bearer ${harness().service_key}` } });
  expect(withKey.status()).toBe(200);
  expect(((await withKey.json()) as { data: { depot_id: string }[] }).data.map((d) => d.depot_id).sort()).toEqual(harness().depots);
});

test("the proxy forwards the alerts WebSocket: an alert produced to Kafka reaches the browser within 2 s", async ({ page }) => {
  // The browser's socket carries the session cookie: no secret in the URL.
  await signIn(page, planner());
  await page.evaluate(async () => {
    const w = window as unknown as { novaMessages: { type: string; data?: { alert_id?: string } }[] };
    w.novaMessages = [];
    await new Promise<void>((resolve, reject) => {
      const socket = new WebSocket(`${location.origin.replace(/^http/, "ws")}/ws/alerts`);
      socket.onmessage = (event) => {
        const message = JSON.parse(String(event.data)) as { type: string };
        w.novaMessages.push(message);
        if (message.type === "subscribed") resolve();
      };
      socket.onclose = (event) => reject(new Error(`socket closed ${event.code}`));
    });
  });
  const alertId = `E2E-${Date.now()}`;
  produceAlert({
    alert_id: alertId, alert_date: "2026-10-31", item_id: "ITM003", depot_id: "DEP02", severity: "critical",
    on_hand: 1, on_order: 0, reorder_point: 10, safety_stock: 5, days_to_stockout: 1, message: "ITM003 at DEP02 below its reorder point",
  });
  await expect
    .poll(() => page.evaluate(() => (window as unknown as { novaMessages: { type: string; data?: { alert_id?: string } }[] }).novaMessages.filter((m) => m.type === "alert").map((m) => m.data?.alert_id)), { timeout: 2_000, intervals: [50] })
    .toContain(alertId);
});

/** The status line the dashboard answers a WebSocket handshake with (raw socket, any Origin). */
function handshakeStatus(origin: string, key: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(DASHBOARD_PORT, "127.0.0.1", () => {
      socket.write(
        `GET /ws/alerts HTTP/1.1\r\nHost: 127.0.0.1:${DASHBOARD_PORT}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Origin: ${origin}\r\nAuthorization: Bearer ${key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
      );
    });
    socket.once("data", (chunk) => {
      resolve(String(chunk).split("\r\n")[0] ?? "");
      socket.destroy();
    });
    socket.on("error", reject);
  });
}

test("a page from another site cannot open the alerts socket through the proxy", async () => {
  const key = harness().service_key;
  expect(await handshakeStatus(`http://127.0.0.1:${DASHBOARD_PORT}`, key)).toMatch(/^HTTP\/1.1 101/);
  expect(await handshakeStatus("https://evil.example", key)).toMatch(/^HTTP\/1.1 403/);
});

test("the first page's JavaScript is at most 250 kB gzipped", async ({ page }) => {
  const scripts = new Map<string, Buffer>();
  page.on("response", async (response) => {
    if (response.request().resourceType() === "script") scripts.set(response.url(), await response.body());
  });
  await page.goto("/login", { waitUntil: "networkidle" });
  const gzipped = [...scripts.values()].reduce((sum, body) => sum + gzipSync(body, { level: 9 }).length, 0);
  test.info().annotations.push({ type: "first-page JS", description: `${scripts.size} scripts, ${(gzipped / 1024).toFixed(1)} kB gzipped` });
  expect(scripts.size).toBeGreaterThan(0);
  expect(gzipped).toBeLessThanOrEqual(250 * 1024);
});

test("the sign-in page fits a tablet without sideways scrolling", async ({ page }) => {
  await page.setViewportSize({ width: 768, height: 1024 });
  await page.goto("/login");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
});
