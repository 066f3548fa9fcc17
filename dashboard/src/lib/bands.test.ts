import { describe, expect, it } from "vitest";
import { bandSeries, bandWidths } from "./bands";

describe("bands", () => {
  it("stacks the width on the lower bound, so the fill spans [lower, upper]", () => {
    const [lower, width] = bandSeries("95%", [[1, 5], [2, 3], [null, 4]], "#000");
    expect(lower?.data).toEqual([1, 2, null]);
    expect(width?.data).toEqual([4, 1, null]);
    expect(lower?.stack).toBe(width?.stack);
    expect(width?.areaStyle).toBeDefined();
    expect(lower && "areaStyle" in lower).toBe(false);
  });
  it("never draws a negative width", () => {
    expect(bandWidths([[5, 4]])).toEqual([0]);
  });
});
