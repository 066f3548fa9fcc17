import { describe, expect, it } from "vitest";
import { csvCell, toCsv } from "./csv";

describe("csv", () => {
  it("quotes separators, quotes and line breaks", () => {
    expect(csvCell('a "b", c')).toBe('"a ""b"", c"');
    expect(csvCell("line\nbreak")).toBe('"line\nbreak"');
  });
  it("defuses cells a spreadsheet would run as formulas", () => {
    expect(csvCell("=HYPERLINK(1)")).toBe("'=HYPERLINK(1)");
    expect(csvCell("@cmd")).toBe("'@cmd");
  });
  it("leaves negative numbers as numbers", () => {
    expect(csvCell(-3)).toBe("-3");
  });
  it("writes a header, rows and CRLF line ends", () => {
    expect(toCsv(["a", "b"], [[1, null], ["x", true]])).toBe("a,b\r\n1,\r\nx,true\r\n");
  });
});
