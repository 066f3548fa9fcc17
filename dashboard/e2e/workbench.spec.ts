// The planner's day, end to end, against the real API on the harness's small lake.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "@playwright/test";
import { startDashboard, stopDashboard } from "./dashboard-server";
import { SCREENSHOTS, expectAccessible, planner, produceAlert, scopedPlanner, signIn } from "./helpers";

test("a planner signs in and signs out", async ({ page }) => {
  await signIn(page, planner());
  await expect(page.getByRole("navigation", { name: "Navegação principal" })).toBeVisible();
  const cookies = await page.context().cookies();
  expect(cookies.find((c) => c.name === "nova_session")?.httpOnly).toBe(true);
  await page.getByRole("button", { name: "Sair" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto("/work");
  await expect(page).toHaveURL(/\/login$/);
});

test("the overview shows the KPIs, freshness and the last run", async ({ page }) => {
  await signIn(page, planner());
  await expect(page.getByRole("heading", { name: "Visão geral", level: 1 })).toBeVisible();
  await expect(page.getByText("Valor em estoque").first()).toBeVisible();
  await expect(page.getByText(/R\$\s?[\d.]+,\d{2}/).first()).toBeVisible();
  await expect(page.getByRole("heading", { name: "Atualização de cada fonte" })).toBeVisible();
  await expect(page.getByTestId("chart-stock-value").locator("svg")).toBeVisible();
  await expectAccessible(page);
  await page.screenshot({ path: join(SCREENSHOTS, "overview.png"), fullPage: true });
});

test("the work list shows the day's actions, sorts and filters", async ({ page }) => {
  await signIn(page, planner());
  await page.getByRole("link", { name: "Lista de trabalho" }).click();
  const rows = page.getByTestId("work-row");
  await expect(rows.first()).toBeVisible();
  // No row ever says "order 0".
  const orderQuantities = await rows.evaluateAll((all) => all.filter((row) => row.getAttribute("data-action") === "order").map((row) => Number(row.getAttribute("data-quantity"))));
  for (const quantity of orderQuantities) expect(quantity).toBeGreaterThan(0);
  await page.getByRole("button", { name: "Ordenar por Valor em risco" }).click();
  await expect(page.getByRole("columnheader", { name: /Valor em risco/ })).toHaveAttribute("aria-sort", "descending");
  await expectAccessible(page);
  await page.screenshot({ path: join(SCREENSHOTS, "work-list.png"), fullPage: true });
  await page.getByLabel("Depósito", { exact: true }).selectOption("DEP01");
  await page.getByRole("button", { name: "Aplicar filtros" }).click();
  // The list reloads: wait for the filtered page, then every row is DEP01's.
  await expect.poll(() => rows.evaluateAll((all) => [...new Set(all.map((row) => row.getAttribute("data-depot")))])).toEqual(["DEP01"]);
});

test("a planner acknowledges an alert", async ({ page }) => {
  await signIn(page, planner());
  await page.goto("/work");
  const row = page.getByTestId("work-row").filter({ has: page.getByRole("button", { name: "Reconhecer", disabled: false }) }).first();
  await row.getByRole("button", { name: "Reconhecer" }).click();
  await page.getByRole("dialog").getByLabel("Nota").fill("Fornecedor avisado");
  await page.getByRole("dialog").getByRole("button", { name: "Reconhecer" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Alerta reconhecido." })).toBeVisible();
  // The work list reloads with the alert's new state; the API keeps it.
  const acked = page.locator('[data-testid="work-row"][data-state="acknowledged"]');
  await expect(acked).toHaveCount(1);
  await expect(acked.getByRole("button", { name: "Reconhecer" })).toBeDisabled();
  const listed = await page.request.get("/api/v1/actions?state=acknowledged");
  expect(((await listed.json()) as { data: { state_note: string }[] }).data.map((r) => r.state_note)).toEqual(["Fornecedor avisado"]);
});

test("a planner approves two lines into an order and downloads its CSV", async ({ page }) => {
  await signIn(page, planner());
  await page.goto("/work");
  await page.getByLabel("Ação", { exact: true }).selectOption("order");
  await page.getByRole("button", { name: "Aplicar filtros" }).click();
  const rows = page.getByTestId("work-row");
  await expect.poll(() => rows.evaluateAll((all) => all.map((row) => row.getAttribute("data-action")))).toEqual(["order", "order"]);
  const boxes = rows.getByRole("checkbox");
  await boxes.nth(0).check();
  await boxes.nth(1).check();
  await expect(page.getByText("2 linhas selecionadas")).toBeVisible();
  await page.getByRole("button", { name: "Aprovar em pedidos" }).click();
  await expect(page.getByText(/rascunhos? de pedido criados?/)).toBeVisible();
  // Both lines are Acme's: one draft, approved before the API exports it.
  await expect(page.getByTestId("created-order")).toHaveCount(1);
  await page.getByRole("button", { name: /Aprovar pedido/ }).click();
  await expect(page.getByRole("status").filter({ hasText: /Pedido .+ aprovado\./ })).toBeVisible();
  const download = page.waitForEvent("download");
  await page.getByRole("link", { name: /CSV do pedido/ }).first().click();
  const csv = readFileSync(await (await download).path(), "utf8").split(/\r?\n/).filter(Boolean);
  expect(csv).toHaveLength(3); // header + the two lines
  const header = csv[0]?.split(";") ?? [];
  const items = csv.slice(1).map((line) => line.split(";")[header.indexOf("item_id")]);
  expect(items.sort()).toEqual(["ITM001", "ITM001"]);
  await page.getByRole("link", { name: "Pedidos" }).click();
  await expect(page.locator('[data-testid="order-row"][data-status="approved"]').first()).toBeVisible();
  await expectAccessible(page);
  await page.screenshot({ path: join(SCREENSHOTS, "orders.png"), fullPage: true });
});

test("an item at a depot shows its demand with the forecast's 80% and 95% bands", async ({ page }) => {
  await signIn(page, planner());
  await page.goto("/items/ITM001/DEP01");
  await expect(page.getByRole("heading", { name: "ITM001 em DEP01" })).toBeVisible();
  const chart = page.getByTestId("series-chart");
  await expect(chart.locator("svg")).toBeVisible();
  // The bands are filled areas; the legend names both.
  await expect(chart.getByText("Faixa de 80%")).toBeVisible();
  await expect(chart.getByText("Faixa de 95%")).toBeVisible();
  expect(await chart.locator("path[fill-opacity]").count()).toBeGreaterThanOrEqual(2);
  await expect(page.getByTestId("reorder-point")).not.toHaveText("—");
  await expectAccessible(page);
  await page.screenshot({ path: join(SCREENSHOTS, "item-depot.png"), fullPage: true });
});

test("a critical alert produced to Kafka appears within 2 s, with a notice, and survives a reconnect", async ({ page }) => {
  await signIn(page, planner());
  await page.goto("/alerts");
  await expect(page.getByTestId("feed-state")).toHaveAttribute("data-state", "open");
  const first = `E2E-UI-${Date.now()}`;
  produceAlert({ alert_id: first, alert_date: "2026-10-31", item_id: "ITM003", depot_id: "DEP01", severity: "critical", message: "ITM003 em DEP01 abaixo do ponto de pedido" });
  await expect(page.locator(`[data-alert-id="${first}"]`)).toBeVisible({ timeout: 2_000 });
  await expect(page.getByRole("alert").filter({ hasText: "Alerta crítico: ITM003 em DEP01" })).toBeVisible();
  await expectAccessible(page);
  await page.screenshot({ path: join(SCREENSHOTS, "live-alerts.png"), fullPage: true });
  // Drop the connection for real (the server in front of the API restarts): the feed
  // reconnects and resumes after the last alert it saw, so one produced meanwhile arrives.
  await stopDashboard();
  await expect(page.getByTestId("feed-state")).toHaveAttribute("data-state", "reconnecting");
  const second = `E2E-UI-${Date.now()}-2`;
  produceAlert({ alert_id: second, alert_date: "2026-10-31", item_id: "ITM002", depot_id: "DEP01", severity: "warning", message: "ITM002 em DEP01 abaixo do ponto de pedido" });
  await startDashboard();
  await expect(page.getByTestId("feed-state")).toHaveAttribute("data-state", "open", { timeout: 30_000 });
  await expect(page.locator(`[data-alert-id="${second}"]`)).toBeVisible();
  await expect(page.locator(`[data-alert-id="${first}"]`)).toHaveCount(1); // not shown twice
});

test("a planner scoped to one depot sees no other depot", async ({ page }) => {
  const who = scopedPlanner();
  await signIn(page, who);
  await page.goto("/work");
  const rows = page.getByTestId("work-row");
  await expect(rows.first()).toBeVisible();
  for (const depot of await rows.evaluateAll((all) => all.map((row) => row.getAttribute("data-depot")))) expect(depot).toBe(who.depots[0]);
  const other = await page.request.get("/api/v1/actions?depot_id=DEP02");
  const body = (await other.json()) as { data?: unknown[] };
  expect(other.status() === 403 || other.status() === 404 || (body.data ?? []).length === 0).toBe(true);
});

test("the pipeline screen shows recent runs and their steps", async ({ page }) => {
  await signIn(page, planner());
  await page.goto("/pipeline");
  await expect(page.getByRole("heading", { name: "Execuções recentes" })).toBeVisible();
  const run = page.getByTestId("run-row").first();
  await expect(run).toBeVisible();
  await run.getByRole("button").click();
  await expect(page.getByTestId("run-steps")).toBeVisible();
  await expectAccessible(page);
  await page.screenshot({ path: join(SCREENSHOTS, "pipeline.png"), fullPage: true });
});
