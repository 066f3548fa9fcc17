import { describe, expect, it } from "vitest";
import { formatDate, formatDateTime, formatMoney, formatNumber, formatPercent, formatSeconds } from "./format";

describe("pt-BR formatting", () => {
  it("writes money as R$ with a dot for thousands and a comma for cents", () => {
    expect(formatMoney("pt-BR", 1234.56).replace(/\s/g, " ")).toBe("R$ 1.234,56");
  });
  it("keeps reais in English, with English separators", () => {
    expect(formatMoney("en", 1234.56)).toBe("R$1,234.56");
  });
  it("writes a calendar date day first, without a time zone shifting it", () => {
    expect(formatDate("pt-BR", "2026-10-31")).toBe("31/10/2026");
    expect(formatDate("en", "2026-10-31")).toBe("10/31/2026");
  });
  it("shows an instant in Bahia's time (UTC-3)", () => {
    expect(formatDateTime("pt-BR", "2026-10-31T02:30:00Z")).toBe("30/10/2026, 23:30");
  });
  it("formats numbers, percentages and seconds", () => {
    expect(formatNumber("pt-BR", 12345.678, 1)).toBe("12.345,7");
    expect(formatPercent("pt-BR", 0.953).replace(/\s/g, " ")).toBe("95,3%");
    expect(formatSeconds("pt-BR", 4.25)).toBe("4,3 s");
    expect(formatSeconds("pt-BR", 165)).toBe("165 s");
  });
  it("shows a dash for what is missing", () => {
    expect(formatMoney("pt-BR", null)).toBe("—");
    expect(formatNumber("pt-BR", Number.NaN)).toBe("—");
    expect(formatDate("pt-BR", undefined)).toBe("—");
  });
});
