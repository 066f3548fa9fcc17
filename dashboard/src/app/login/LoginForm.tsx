"use client";

import { useRouter, useSearchParams } from "next/navigation";
import { useState, type FormEvent } from "react";
import { ApiError, api, ok } from "@/api/http";
import { LocaleSwitch } from "@/components/LocaleSwitch";
import { useI18n } from "@/i18n/I18nProvider";
import type { MessageKey } from "@/i18n/messages";
import { safeNext } from "@/lib/safeNext";

export function LoginForm() {
  const { t } = useI18n();
  const router = useRouter();
  const params = useSearchParams();
  const [error, setError] = useState<MessageKey | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      await ok(api.POST("/api/v1/auth/login", { body: { email: String(form.get("email")), password: String(form.get("password")) } }));
      router.replace(safeNext(params.get("next")));
      router.refresh();
    } catch (caught) {
      const status = caught instanceof ApiError ? caught.status : 0;
      setError(status === 429 ? "login.locked" : status === 404 || status === 405 ? "login.unavailable" : "login.failed");
      setBusy(false);
    }
  }

  return (
    <main id="main" className="login">
      <form onSubmit={submit} className="card login-card" aria-labelledby="login-title">
        <h1 id="login-title">{t("login.title")}</h1>
        <p className="muted">{t("app.title")}</p>
        <label htmlFor="email">{t("login.email")}</label>
        <input id="email" name="email" type="email" autoComplete="username" required autoFocus />
        <label htmlFor="password">{t("login.password")}</label>
        <input id="password" name="password" type="password" autoComplete="current-password" required />
        {error && <p role="alert" className="error">{t(error)}</p>}
        <button type="submit" className="primary" disabled={busy}>{t("login.submit")}</button>
        <LocaleSwitch />
      </form>
    </main>
  );
}
