// The latency-by-percentile chart, as HdrHistogram's plots draw it, written as SVG by hand
// (an SVG file is XML text: lines, paths and labels in a coordinate system).
//
// The x axis is the percentile, spread so that the tail gets room: x = log10(1 / (1 - p)),
// so 0%, 90%, 99%, 99.9%, 99.99% are equally far apart. On a plain percentile axis
// everything past p99 would crowd into the last pixel, and the tail is where servers
// differ. The y axis is the latency, on a log scale too, so a 40 µs median and a 200 ms
// stall both show. Each line is one histogram; a flat line is a server whose slowest
// requests are as fast as its typical ones.
import type { Histogram } from './histogram.ts';
import { formatLatency } from './format.ts';

export interface Series {
  label: string;
  color: string;
  dashed: boolean;
  latency: Histogram;
}

const WIDTH = 860;
const HEIGHT = 520;
const PLOT = { left: 80, right: 24, top: 64, bottom: 64 };
/** x steps between plotted points: 50 a decade of 1 / (1 - p). */
const X_STEP = 0.02;

/** SVG of the series' latency by percentile, with a title and a line under it. */
export function latencyChart(series: readonly Series[], title: string, subtitle: string): string {
  const drawn = series.filter((s) => s.latency.count > 0);
  // The finest percentile a run of n requests can tell apart is 1 - 1/n: x = log10(n).
  const xMax = Math.max(2, Math.ceil(Math.max(0, ...drawn.map((s) => Math.log10(s.latency.count)))));
  const lowest = Math.min(...drawn.map((s) => Math.max(1, s.latency.min)));
  const highest = Math.max(...drawn.map((s) => Math.max(1, s.latency.max)));
  const yMin = drawn.length === 0 ? 1e3 : 10 ** Math.floor(Math.log10(lowest));
  const yMax = drawn.length === 0 ? 1e6 : 10 ** Math.ceil(Math.log10(highest * 1.0001));
  const width = WIDTH - PLOT.left - PLOT.right;
  const height = HEIGHT - PLOT.top - PLOT.bottom;
  const px = (x: number) => PLOT.left + (x / xMax) * width;
  const py = (ns: number) => PLOT.top + height - ((Math.log10(Math.max(ns, yMin)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * height;

  const parts: string[] = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="16">${escapeXml(title)}</text>`,
    `<text x="${WIDTH / 2}" y="44" text-anchor="middle" fill="#555">${escapeXml(subtitle)}</text>`,
  ];
  for (let x = 0; x <= xMax; x++) {
    parts.push(`<line x1="${px(x)}" y1="${PLOT.top}" x2="${px(x)}" y2="${PLOT.top + height}" stroke="#ddd"/>`);
    parts.push(`<text x="${px(x)}" y="${PLOT.top + height + 18}" text-anchor="middle">${percentileLabel(x)}</text>`);
  }
  for (const ns of yTicks(yMin, yMax)) {
    parts.push(`<line x1="${PLOT.left}" y1="${round(py(ns))}" x2="${PLOT.left + width}" y2="${round(py(ns))}" stroke="#ddd"/>`);
    parts.push(`<text x="${PLOT.left - 8}" y="${round(py(ns) + 4)}" text-anchor="end">${escapeXml(formatLatency(ns).replace(/\.0+ /, ' '))}</text>`);
  }
  parts.push(`<rect x="${PLOT.left}" y="${PLOT.top}" width="${width}" height="${height}" fill="none" stroke="#888"/>`);
  parts.push(`<text x="${PLOT.left + width / 2}" y="${HEIGHT - 16}" text-anchor="middle">percentile (log scale of 1 / (1 - p))</text>`);
  parts.push(`<text transform="translate(18 ${PLOT.top + height / 2}) rotate(-90)" text-anchor="middle">latency (log scale)</text>`);
  for (const s of drawn) {
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    parts.push(`<path d="${pathOf(s.latency, px, py)}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>`);
  }
  drawn.forEach((s, i) => {
    const y = PLOT.top + 16 + i * 18;
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    parts.push(`<line x1="${PLOT.left + 12}" y1="${y - 4}" x2="${PLOT.left + 40}" y2="${y - 4}" stroke="${s.color}" stroke-width="2"${dash}/>`);
    parts.push(`<text x="${PLOT.left + 48}" y="${y}">${escapeXml(s.label)}</text>`);
  });
  parts.push('</svg>', '');
  return parts.join('\n');
}

/** The line of one histogram: a point every X_STEP of x up to its finest percentile, then its maximum. */
function pathOf(latency: Histogram, px: (x: number) => number, py: (ns: number) => number): string {
  const end = Math.log10(latency.count);
  const points: string[] = [];
  for (let x = 0; x < end; x += X_STEP) {
    const p = 100 * (1 - 10 ** -x);
    points.push(`${round(px(x))},${round(py(latency.percentile(p)))}`);
  }
  points.push(`${round(px(end))},${round(py(latency.max))}`);
  return 'M' + points.join(' L');
}

/** x = 0, 1, 2, 3 ... as 0%, 90%, 99%, 99.9% ... */
export function percentileLabel(x: number): string {
  return x === 0 ? '0%' : `${(100 - 100 / 10 ** x).toFixed(Math.max(0, x - 2))}%`;
}

/** 1, 2 and 5 of each decade between yMin and yMax, in ns. */
function yTicks(yMin: number, yMax: number): number[] {
  const ticks: number[] = [];
  for (let decade = yMin; decade < yMax; decade *= 10) {
    for (const m of [1, 2, 5]) if (decade * m <= yMax) ticks.push(decade * m);
  }
  ticks.push(yMax);
  return ticks;
}

const round = (n: number) => Math.round(n * 10) / 10;

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}
