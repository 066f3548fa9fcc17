// Numbers, money and dates with Intl, in the page's locale. Money is always BRL: the
// English screen shows reais too, only with English separators.
import type { Locale } from "./messages";

const cache = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat>();

function numberFormat(locale: Locale, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `n|${locale}|${JSON.stringify(options)}`;
  let format = cache.get(key) as Intl.NumberFormat | undefined;
  if (!format) {
    format = new Intl.NumberFormat(locale, options);
    cache.set(key, format);
  }
  return format;
}

function dateFormat(locale: Locale, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `d|${locale}|${JSON.stringify(options)}`;
  let format = cache.get(key) as Intl.DateTimeFormat | undefined;
  if (!format) {
    format = new Intl.DateTimeFormat(locale, options);
    cache.set(key, format);
  }
  return format;
}

const DASH = "—";

export function formatMoney(locale: Locale, value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return DASH;
  return numberFormat(locale, { style: "currency", currency: "BRL" }).format(value);
}

export function formatNumber(locale: Locale, value: number | null | undefined, digits = 0): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return DASH;
  return numberFormat(locale, { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(value);
}

/** `ratio` 0.953 -> "95,3%" (pt-BR). */
export function formatPercent(locale: Locale, ratio: number | null | undefined, digits = 1): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return DASH;
  return numberFormat(locale, { style: "percent", minimumFractionDigits: digits, maximumFractionDigits: digits }).format(ratio);
}

/**
 * A calendar date from the API ("2026-10-31") -> "31/10/2026" in pt-BR. Parsed as a
 * calendar day, not as an instant, so no time zone can move it to the day before.
 */
export function formatDate(locale: Locale, isoDate: string | null | undefined): string {
  if (!isoDate) return DASH;
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(isoDate);
  if (!match) return isoDate;
  const [, y, m, d] = match;
  const day = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)));
  return dateFormat(locale, { timeZone: "UTC", day: "2-digit", month: "2-digit", year: "numeric" }).format(day);
}

/** An instant ("2026-10-31T06:12:00Z") in Bahia's time (America/Bahia, UTC-3). */
export function formatDateTime(locale: Locale, iso: string | null | undefined): string {
  if (!iso) return DASH;
  const instant = new Date(iso);
  if (Number.isNaN(instant.getTime())) return iso;
  return dateFormat(locale, {
    timeZone: "America/Bahia", day: "2-digit", month: "2-digit", year: "numeric", hour: "2-digit", minute: "2-digit",
  }).format(instant);
}

export function formatSeconds(locale: Locale, seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return DASH;
  return `${formatNumber(locale, seconds, seconds < 10 ? 1 : 0)} s`;
}
