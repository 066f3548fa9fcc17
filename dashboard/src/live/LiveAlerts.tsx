"use client";

// One feed per signed-in page: the alerts screen lists it, and every screen shows a notice
// for each critical alert (role="alert", so screen readers announce it).
import Link from "next/link";
import { createContext, useContext, useEffect, useState, type ReactNode } from "react";
import type { LiveAlert } from "@/api/adapters";
import { ROUTES } from "@/api/routes";
import { useI18n } from "@/i18n/I18nProvider";
import { AlertFeed, socketUrl, type FeedState } from "./alertSocket";

interface LiveAlerts {
  alerts: LiveAlert[];
  state: FeedState;
}

const LiveAlertsContext = createContext<LiveAlerts>({ alerts: [], state: { kind: "closed" } });
const KEEP = 200;

export function LiveAlertsProvider({ children }: { children: ReactNode }) {
  const { t } = useI18n();
  const [alerts, setAlerts] = useState<LiveAlert[]>([]);
  const [notices, setNotices] = useState<LiveAlert[]>([]);
  const [state, setState] = useState<FeedState>({ kind: "connecting" });

  useEffect(() => {
    const feed = new AlertFeed({
      url: (since) => socketUrl(window.location, ROUTES.alertsSocket, since),
      connect: (url) => new WebSocket(url),
      onState: setState,
      onAlert: (alert) => {
        setAlerts((previous) => [alert, ...previous].slice(0, KEEP));
        if (alert.severity === "critical") setNotices((previous) => [...previous, alert].slice(-5));
      },
    });
    feed.start();
    return () => feed.stop();
  }, []);

  return (
    <LiveAlertsContext.Provider value={{ alerts, state }}>
      {children}
      <div className="notices" aria-live="assertive">
        {notices.map((alert) => (
          <div key={alert.alertId} role="alert" className="notice critical">
            <Link href={`/items/${encodeURIComponent(alert.itemId)}/${encodeURIComponent(alert.depotId)}`}>
              {t("alerts.criticalNotice", { item: alert.itemId, depot: alert.depotId })}
            </Link>
            <button type="button" aria-label={t("common.close")} onClick={() => setNotices((all) => all.filter((n) => n !== alert))}>×</button>
          </div>
        ))}
      </div>
    </LiveAlertsContext.Provider>
  );
}

export function useLiveAlerts(): LiveAlerts {
  return useContext(LiveAlertsContext);
}
