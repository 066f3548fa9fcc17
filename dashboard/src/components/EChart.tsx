"use client";

// ECharts, loaded only when a chart is on screen (its modules stay out of the first page's
// JavaScript), drawn as SVG (sharp at any zoom, and the browser tests can find its shapes),
// with ECharts' aria description so a screen reader gets a summary of the series.
import { useEffect, useRef } from "react";
import type { EChartsCoreOption } from "echarts/core";

async function loadECharts() {
  const [core, charts, components, renderers] = await Promise.all([
    import("echarts/core"),
    import("echarts/charts"),
    import("echarts/components"),
    import("echarts/renderers"),
  ]);
  core.use([
    charts.LineChart, charts.BarChart, components.GridComponent, components.TooltipComponent,
    components.LegendComponent, components.MarkLineComponent, components.AriaComponent, renderers.SVGRenderer,
  ]);
  return core;
}

export function EChart({ option, label, height = 320, testId }: { option: EChartsCoreOption; label: string; height?: number; testId?: string }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    let disposed = false;
    let chart: { setOption: (o: EChartsCoreOption) => void; dispose: () => void; resize: () => void } | null = null;
    const observer = new ResizeObserver(() => chart?.resize());
    void loadECharts().then((echarts) => {
      if (disposed || !box.current) return;
      chart = echarts.init(box.current, null, { renderer: "svg" });
      chart.setOption({ aria: { enabled: true }, animation: false, ...option });
      observer.observe(box.current);
    });
    return () => {
      disposed = true;
      observer.disconnect();
      chart?.dispose();
    };
  }, [option]);
  return (
    <figure className="chart">
      <figcaption>{label}</figcaption>
      <div ref={box} role="img" aria-label={label} data-testid={testId} style={{ height }} />
    </figure>
  );
}
