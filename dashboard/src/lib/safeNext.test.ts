import { describe, expect, it } from "vitest";
import { safeNext } from "./safeNext";

describe("safeNext", () => {
  it("keeps a path on this site", () => {
    expect(safeNext("/work?severity=critical")).toBe("/work?severity=critical");
  });
  it("refuses other origins and missing values", () => {
    for (const next of ["//evil.example", "https://evil.example", "/\\evil.example", "", null]) expect(safeNext(next)).toBe("/");
  });
});
