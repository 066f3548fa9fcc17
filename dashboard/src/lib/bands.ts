// An interval band in ECharts: an invisible line at the lower bound, and the band's width
// stacked on it with a filled area, so the fill spans exactly [lower, upper].
export function bandSeries(name: string, bounds: [number | null, number | null][], color: string) {
  const stack = `band:${name}`;
  return [
    {
      type: "line", name, stack, data: bounds.map(([lo, hi]) => (lo === null || hi === null ? null : lo)),
      showSymbol: false, lineStyle: { opacity: 0 }, itemStyle: { color }, tooltip: { show: false }, silent: true,
    },
    {
      type: "line", name, stack, data: bandWidths(bounds),
      showSymbol: false, lineStyle: { opacity: 0 }, areaStyle: { color, opacity: 0.45 }, itemStyle: { color }, silent: true,
    },
  ];
}

/** upper - lower per point; null where either bound is missing (no band drawn there). */
export function bandWidths(bounds: [number | null, number | null][]): (number | null)[] {
  return bounds.map(([lo, hi]) => (lo === null || hi === null ? null : Math.max(0, hi - lo)));
}
