"use client";

import Link from "next/link";
import { usePathname, useRouter } from "next/navigation";
import type { ReactNode } from "react";
import { api } from "@/api/http";
import { LiveAlertsProvider } from "@/live/LiveAlerts";
import { useI18n } from "@/i18n/I18nProvider";
import type { MessageKey } from "@/i18n/messages";
import { LocaleSwitch } from "./LocaleSwitch";

const NAV: { href: string; label: MessageKey }[] = [
  { href: "/", label: "nav.overview" },
  { href: "/work", label: "nav.work" },
  { href: "/alerts", label: "nav.alerts" },
  { href: "/orders", label: "nav.orders" },
  { href: "/pipeline", label: "nav.pipeline" },
];

export function Shell({ children }: { children: ReactNode }) {
  const { t } = useI18n();
  const path = usePathname();
  const router = useRouter();

  async function signOut() {
    try {
      await api.POST("/api/v1/auth/logout");
    } finally {
      router.replace("/login");
      router.refresh();
    }
  }

  return (
    <LiveAlertsProvider>
      <a href="#main" className="skip">{t("app.skip")}</a>
      <header className="top">
        <span className="brand">Nova Corrente</span>
        <nav aria-label={t("nav.main")}>
          <ul>
            {NAV.map((entry) => {
              const current = entry.href === "/" ? path === "/" : path.startsWith(entry.href);
              return (
                <li key={entry.href}>
                  <Link href={entry.href} aria-current={current ? "page" : undefined}>{t(entry.label)}</Link>
                </li>
              );
            })}
          </ul>
        </nav>
        <LocaleSwitch />
        <button type="button" onClick={signOut}>{t("nav.signOut")}</button>
      </header>
      <main id="main" tabIndex={-1}>{children}</main>
    </LiveAlertsProvider>
  );
}
