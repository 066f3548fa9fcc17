"use client";

import type { ReactNode } from "react";
import { useI18n } from "@/i18n/I18nProvider";
import type { Loaded } from "@/lib/useLoad";

/** Loading and error states for a panel; renders `children(data)` once loaded. */
export function LoadState<T>({ state, reload, children }: { state: Loaded<T>; reload: () => void; children: (data: T) => ReactNode }) {
  const { t } = useI18n();
  if (state.status === "loading") return <p role="status" className="muted">{t("common.loading")}</p>;
  if (state.status === "error")
    return (
      <div role="alert" className="error">
        <p>{t("common.error", { detail: state.error.message })}</p>
        <button type="button" onClick={reload}>{t("common.retry")}</button>
      </div>
    );
  return <>{children(state.data)}</>;
}
