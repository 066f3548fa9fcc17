import { describe, expect, it } from "vitest";
import { en, isLocale, ptBR, translate } from "./messages";

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe("catalogues", () => {
  it("has the same keys in English as in Portuguese", () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(ptBR).sort());
  });
  it("uses the same placeholders in both languages", () => {
    for (const key of Object.keys(ptBR) as (keyof typeof ptBR)[]) {
      expect(placeholders(en[key]), key).toEqual(placeholders(ptBR[key]));
    }
  });
  it("fills placeholders and leaves unknown ones visible", () => {
    expect(translate("pt-BR", "item.title", { item: "ITM001", depot: "DEP01" })).toBe("ITM001 em DEP01");
    expect(translate("en", "item.title", { item: "ITM001" })).toBe("ITM001 at {depot}");
  });
  it("accepts only the locales it has", () => {
    expect(isLocale("pt-BR")).toBe(true);
    expect(isLocale("fr")).toBe(false);
    expect(isLocale(undefined)).toBe(false);
  });
});
