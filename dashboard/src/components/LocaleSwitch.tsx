"use client";

import { useRouter } from "next/navigation";
import { useI18n } from "@/i18n/I18nProvider";
import { LOCALES, LOCALE_COOKIE, type Locale } from "@/i18n/messages";

const NAMES: Record<Locale, string> = { "pt-BR": "Português (Brasil)", en: "English" };

export function LocaleSwitch() {
  const { locale, t } = useI18n();
  const router = useRouter();
  return (
    <label className="locale">
      <span>{t("nav.language")}</span>
      <select
        value={locale}
        onChange={(event) => {
          document.cookie = `${LOCALE_COOKIE}=${event.target.value}; path=/; max-age=31536000; samesite=lax`;
          router.refresh();
        }}
      >
        {LOCALES.map((code) => (
          <option key={code} value={code} lang={code}>{NAMES[code]}</option>
        ))}
      </select>
    </label>
  );
}
