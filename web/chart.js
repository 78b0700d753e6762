// A time-series plot (uPlot, canvas): one chart, several lines, sized to its container.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { html } from './ui.js';

export const PALETTE = [
  '#1d4ed8',
  '#b91c1c',
  '#047857',
  '#7c3aed',
  '#b45309',
  '#0e7490',
  '#be185d',
  '#4d7c0f',
  '#57534e',
];

/**
 * props: title, times (ISO strings, bucket starts), lines [{ label, values }], format (value → text),
 * summary (the text equivalent for screen readers).
 */
export function Chart({ title, times, lines, format = (v) => String(v), summary, sparse = false }) {
  const box = useRef(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return undefined;
    const xs = times.map((t) => Date.parse(t) / 1000);
    const opts = {
      width: Math.max(280, el.clientWidth),
      height: 220,
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      axes: [
        { stroke: '#374151', grid: { stroke: '#e5e7eb' } },
        {
          stroke: '#374151',
          grid: { stroke: '#e5e7eb' },
          size: 86,
          values: (_plot, vals) => vals.map((v) => format(v)),
        },
      ],
      series: [
        {},
        ...lines.map((l, i) => ({
          label: l.label,
          stroke: PALETTE[i % PALETTE.length],
          width: 2,
          spanGaps: sparse,
          // A bucket without requests has no latency: such series join their points, and show them.
          points: { show: sparse || xs.length < 60, size: 6 },
          value: (_plot, v) => (v === null || v === undefined ? '–' : format(v)),
        })),
      ],
    };
    const plot = new uPlot(opts, [xs, ...lines.map((l) => l.values)], el);
    const ro = new ResizeObserver(() => plot.setSize({ width: Math.max(280, el.clientWidth), height: 220 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [times, lines, sparse]);
  return html`<figure class="chart">
    <figcaption>${title}</figcaption>
    <div ref=${box} class="plot" role="img" aria-label=${`${title}: ${summary ?? ''}`}></div>
  </figure>`;
}
