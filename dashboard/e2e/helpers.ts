import { execFileSync } from "node:child_process";
import { join } from "node:path";
import AxeBuilder from "@axe-core/playwright";
import { expect, type Page } from "@playwright/test";
import { REPO_ROOT, harness, type User } from "./state";

export const SCREENSHOTS = join(REPO_ROOT, "docs", "dashboard");

/** Produce an alert to Kafka as the stream would (returns once the broker has it). */
export function produceAlert(alert: Record<string, unknown>): void {
  const state = harness();
  execFileSync(join(REPO_ROOT, ".venv", "bin", "python"), [
    "dashboard/e2e/produce_alert.py", "--bootstrap", state.kafka_bootstrap, "--topic", state.alerts_topic, "--alert", JSON.stringify(alert),
  ], { cwd: REPO_ROOT, stdio: "pipe" });
}

export function user(predicate: (u: User) => boolean): User {
  const found = harness().users.find(predicate);
  if (!found) throw new Error("the harness created no such user (is `nova user create` in the API?)");
  return found;
}

export const planner = () => user((u) => u.depots.length === 0);
export const scopedPlanner = () => user((u) => u.depots.length === 1);

export async function signIn(page: Page, who: User): Promise<void> {
  await page.goto("/login");
  await page.getByLabel("E-mail").fill(who.email);
  await page.getByLabel("Senha").fill(who.password);
  await page.getByRole("button", { name: "Entrar" }).click();
  await expect(page).toHaveURL(/\/$/);
}

/** No serious or critical WCAG 2 A/AA violation (labels, names, contrast, roles) on the page. */
export async function expectAccessible(page: Page): Promise<void> {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa"]).analyze();
  const serious = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(serious.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)).toEqual([]);
}
