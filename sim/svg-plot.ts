/**
 * A small line-chart writer for the simulation reports: a self-contained SVG (no script, no external font or
 * style), axes with round ticks, one coloured polyline per series and a legend. Coordinates are printed with
 * fixed precision so the same data gives the same bytes.
 */

export interface PlotSeries {
  label: string;
  /** [x, y] points, x ascending. */
  points: ReadonlyArray<readonly [number, number]>;
}

export interface PlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly PlotSeries[];
  xMax?: number;
  yMax?: number;
  width?: number;
  height?: number;
}

const COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];
const MARGIN = { left: 64, right: 160, top: 36, bottom: 48 };

/** A tick step of 1, 2 or 5 × 10^n giving about `count` ticks up to max. */
function tickStep(max: number, count: number): number {
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * magnitude >= raw) return m * magnitude;
  return 10 * magnitude;
}

const escapeXml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const n1 = (v: number): string => v.toFixed(1);

export function renderLinePlot(options: PlotOptions): string {
  const width = options.width ?? 720;
  const height = options.height ?? 420;
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const allX = options.series.flatMap((s) => s.points.map((p) => p[0]));
  const allY = options.series.flatMap((s) => s.points.map((p) => p[1]));
  const xMax = options.xMax ?? Math.max(1, ...allX);
  const yMax = options.yMax ?? Math.max(1, ...allY);
  const x = (v: number): number => MARGIN.left + (Math.min(v, xMax) / xMax) * plotW;
  const y = (v: number): number => MARGIN.top + plotH - (Math.min(v, yMax) / yMax) * plotH;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(options.title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(options.title)}</text>`,
  );
  const xStep = tickStep(xMax, 8);
  for (let t = 0; t <= xMax + 1e-9; t += xStep) {
    out.push(
      `<line x1="${n1(x(t))}" y1="${MARGIN.top}" x2="${n1(x(t))}" y2="${MARGIN.top + plotH}" stroke="#e0e0e0"/>`,
      `<text x="${n1(x(t))}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${Number(t.toPrecision(6))}</text>`,
    );
  }
  const yStep = tickStep(yMax, 5);
  for (let t = 0; t <= yMax + 1e-9; t += yStep) {
    out.push(
      `<line x1="${MARGIN.left}" y1="${n1(y(t))}" x2="${MARGIN.left + plotW}" y2="${n1(y(t))}" stroke="#e0e0e0"/>`,
      `<text x="${MARGIN.left - 6}" y="${n1(y(t) + 4)}" text-anchor="end">${Number(t.toPrecision(6))}</text>`,
    );
  }
  out.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#444444"/>`,
    `<text x="${MARGIN.left + plotW / 2}" y="${height - 10}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`,
    `<text x="16" y="${MARGIN.top + plotH / 2}" text-anchor="middle" transform="rotate(-90 16 ${MARGIN.top + plotH / 2})">${escapeXml(options.yLabel)}</text>`,
  );
  options.series.forEach((series, i) => {
    const colour = COLOURS[i % COLOURS.length]!;
    const points = series.points.map(([px, py]) => `${n1(x(px))},${n1(y(py))}`).join(' ');
    if (points.length > 0)
      out.push(`<polyline points="${points}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    const ly = MARGIN.top + 12 + i * 18;
    const lx = MARGIN.left + plotW + 12;
    out.push(
      `<line x1="${lx}" y1="${ly - 4}" x2="${lx + 20}" y2="${ly - 4}" stroke="${colour}" stroke-width="2"/>`,
      `<text x="${lx + 26}" y="${ly}">${escapeXml(series.label)}</text>`,
    );
  });
  out.push('</svg>', '');
  return out.join('\n');
}
