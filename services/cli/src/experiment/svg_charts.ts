// Two small SVG chart writers (no dependency): bars with error bars, and line series.

const W = 720;
const H = 400;
const M = { left: 64, right: 210, top: 40, bottom: 70 };
const COLOURS = ['#4363d8', '#e6194b', '#3cb44b', '#f58231', '#911eb4', '#42d4f4', '#f032e6', '#808000'];
const esc = (s: string) => s.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** A y axis reaching `v` whose ticks read as round numbers: a step of 1, 2, 2.5 or 5 x 10^k, at most 6 of them. */
export function niceAxis(v: number): { max: number; step: number } {
  // an empty chart (no points: Math.max() is -Infinity) or an all-zero one still gets an axis
  const top = Number.isFinite(v) && v > 0 ? v : 1e-9;
  const raw = top / 6;
  const unit = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * unit).find((s) => s >= raw * (1 - 1e-12))!;
  return { max: Math.ceil(top / step - 1e-9) * step, step };
}

function frame(title: string, yLabel: string, axis: { max: number; step: number }, body: string[], xLabel = ''): string {
  const plotH = H - M.top - M.bottom;
  const yMax = axis.max;
  const ticks = Array.from({ length: Math.round(yMax / axis.step) + 1 }, (_, i) => i * axis.step);
  const grid = ticks.map((t) => {
    const y = M.top + plotH - (t / yMax) * plotH;
    return `<line x1="${M.left}" y1="${y}" x2="${W - M.right}" y2="${y}" stroke="#ddd"/><text x="${M.left - 6}" y="${y + 4}" text-anchor="end" font-size="11">${+t.toPrecision(3)}</text>`;
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(title)}</text>`,
    ...grid,
    `<text x="16" y="${M.top + plotH / 2}" transform="rotate(-90 16 ${M.top + plotH / 2})" text-anchor="middle" font-size="12">${esc(yLabel)}</text>`,
    xLabel ? `<text x="${(M.left + W - M.right) / 2}" y="${H - 12}" text-anchor="middle" font-size="12">${esc(xLabel)}</text>` : '',
    ...body,
    '</svg>',
  ].join('\n');
}

/** A bar: its mean, std and (optionally) the values it is the mean of, drawn as dots. */
export interface Bar { label: string; mean: number; std: number; points?: number[] }

/**
 * Bars with +-std error bars, each value behind a bar as a dot (a few seeds show their spread
 * better than a std does), and an optional dashed reference line (e.g. the teacher).
 */
export function barChart(title: string, yLabel: string, bars: Bar[], reference?: { label: string; value: number }): string {
  const axis = niceAxis(Math.max(...bars.flatMap((b) => [b.mean + b.std, ...(b.points ?? [])]), reference?.value ?? 0) * 1.1);
  const yMax = axis.max;
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const y = (v: number) => M.top + plotH - (v / yMax) * plotH;
  const slot = plotW / Math.max(1, bars.length);
  const body = bars.flatMap((b, i) => {
    const x = M.left + i * slot + slot * 0.2;
    const w = slot * 0.6;
    const cx = x + w / 2;
    const points = b.points ?? [];
    // dots spread across the bar's middle half, in the order given (seed order), so equal values stay apart
    const dotX = (k: number) => (points.length < 2 ? cx : x + w * 0.25 + (w * 0.5 * k) / (points.length - 1));
    return [
      `<rect x="${x}" y="${y(b.mean)}" width="${w}" height="${y(0) - y(b.mean)}" fill="${COLOURS[i % COLOURS.length]}" fill-opacity="0.7"/>`,
      `<line x1="${cx}" y1="${y(b.mean - b.std)}" x2="${cx}" y2="${y(b.mean + b.std)}" stroke="#000"/>`,
      ...points.map((v, k) => `<circle cx="${dotX(k).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3.5" fill="#fff" stroke="#000"/>`),
      `<text x="${cx}" y="${y(b.mean + b.std) - 4}" text-anchor="middle" font-size="11">${b.mean.toFixed(2)}</text>`,
      // slanted, so long method names next to each other do not overlap
      `<text x="${cx}" y="${H - M.bottom + 14}" text-anchor="end" font-size="11" transform="rotate(-20 ${cx} ${H - M.bottom + 14})">${esc(b.label)}</text>`,
    ];
  });
  if (reference) {
    body.push(`<line x1="${M.left}" y1="${y(reference.value)}" x2="${W - M.right}" y2="${y(reference.value)}" stroke="#000" stroke-dasharray="6 4"/>`,
      `<text x="${W - M.right + 6}" y="${y(reference.value) + 4}" font-size="11">${esc(reference.label)} ${reference.value.toFixed(2)}</text>`);
  }
  return frame(title, yLabel, axis, body);
}

export interface Series { label: string; points: Array<[number, number]> }

/** Line series over a shared x axis (e.g. loss by step). */
export function lineChart(title: string, xLabel: string, yLabel: string, series: Series[]): string {
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const xMax = Math.max(1, ...xs);
  const axis = niceAxis(Math.max(...series.flatMap((s) => s.points.map((p) => p[1]))) * 1.02);
  const yMax = axis.max;
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const px = (v: number) => M.left + (v / xMax) * plotW;
  const py = (v: number) => M.top + plotH - (v / yMax) * plotH;
  const body = series.flatMap((s, i) => {
    const colour = COLOURS[i % COLOURS.length];
    const path = s.points.map(([x, yv], k) => `${k ? 'L' : 'M'}${px(x).toFixed(1)},${py(yv).toFixed(1)}`).join(' ');
    const ly = M.top + 14 + i * 16;
    return [
      `<path d="${path}" fill="none" stroke="${colour}" stroke-width="1.5"/>`,
      `<line x1="${W - M.right + 8}" y1="${ly - 4}" x2="${W - M.right + 24}" y2="${ly - 4}" stroke="${colour}" stroke-width="2"/>`,
      `<text x="${W - M.right + 28}" y="${ly}" font-size="11">${esc(s.label)}</text>`,
    ];
  });
  body.push(`<text x="${W - M.right}" y="${H - M.bottom + 16}" text-anchor="end" font-size="11">${xMax}</text>`,
    `<text x="${M.left}" y="${H - M.bottom + 16}" font-size="11">0</text>`);
  return frame(title, yLabel, axis, body, xLabel);
}
