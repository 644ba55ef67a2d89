/**
 * Figures to tables and a chart: per profile, every layout's throughput at the profile's p99 bound as
 * median (min-max) and as a ratio to the reference layout; the selection verdict; the SVG chart.
 */
import type { Run } from './measure';
import type { Profile } from './profiles';
import { overlaps, spread, Spread, throughputAtBound } from './stats';

export interface Figure {
  readonly layout: string;
  readonly profile: string;
  /** Throughput at the p99 bound, per repetition. */
  readonly atBound: Spread;
  readonly rps: Spread;
  readonly p99: Spread;
  readonly failed: number;
  readonly held?: Spread;
}

export function figures(runs: readonly Run[], ps: readonly Profile[]): Figure[] {
  const out: Figure[] = [];
  const keys = [...new Set(runs.map((r) => `${r.profile}\u0000${r.layout}`))];
  for (const key of keys) {
    const [profile, layout] = key.split('\u0000');
    const p = ps.find((x) => x.id === profile)!;
    const rs = runs.filter((r) => r.profile === profile && r.layout === layout);
    out.push({
      layout,
      profile,
      atBound: spread(rs.map((r) => throughputAtBound(r, p.p99BoundMs))),
      rps: spread(rs.map((r) => r.rps)),
      p99: spread(rs.map((r) => (Number.isFinite(r.p99Ms) ? r.p99Ms : 0))),
      failed: rs.reduce((a, r) => a + r.failed, 0),
      held: rs[0].held !== undefined ? spread(rs.map((r) => r.held ?? 0)) : undefined,
    });
  }
  return out;
}

export const fmt = (s: Spread, digits = 0) => (s.n > 1 && s.min !== s.max
  ? `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`
  : s.median.toFixed(digits));

/** The reference each profile's ratios are taken to: the library's default, or Daphne for ASGI-only profiles. */
export function referenceFor(profile: string, present: readonly string[]): string {
  const wanted = profile === 'async' || profile === 'ws' ? 'daphne/nginx' : 'gunicorn-gthread/nginx';
  return present.includes(wanted) ? wanted : present[0];
}

export function profileTable(p: Profile, fs: readonly Figure[]): string {
  const rows = fs.filter((f) => f.profile === p.id).sort((a, b) => b.atBound.median - a.atBound.median);
  if (rows.length === 0) return '';
  const ref = rows.find((f) => f.layout === referenceFor(p.id, rows.map((r) => r.layout)))!;
  const lines = [
    `### ${p.label}`,
    '',
    `Throughput counts while p99 ≤ ${p.p99BoundMs} ms and at most 1 % failed (else 0). Ratio to \`${ref.layout}\`; `
      + '"overlaps" marks a layout whose min–max range overlaps the reference\'s: not safely different.',
    '',
    `| layout | req/s at p99 ≤ ${p.p99BoundMs} ms | ratio | req/s | p99 ms | failed${p.kind === 'websocket' ? ' | held' : ''} |`,
    `|---|---:|---:|---:|---:|---:${p.kind === 'websocket' ? '|---:' : ''}|`,
  ];
  for (const f of rows) {
    const ratio = ref.atBound.median > 0 ? (f.atBound.median / ref.atBound.median).toFixed(2) : 'n/a';
    const note = f.layout === ref.layout ? ' (reference)' : overlaps(f.atBound, ref.atBound) ? ' overlaps' : '';
    lines.push(`| \`${f.layout}\` | ${fmt(f.atBound)} | ${ratio}${note} | ${fmt(f.rps)} | ${fmt(f.p99)} | ${f.failed}${f.held ? ` | ${fmt(f.held)}` : ''} |`);
  }
  return lines.join('\n') + '\n';
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** One panel per profile: a bar per layout (median ratio to the reference) with a min-max whisker. */
export function chartSvg(ps: readonly Profile[], fs: readonly Figure[], title: string): string {
  const panelW = 470;
  const barH = 14;
  const labelW = 210;
  const panels = ps.map((p) => {
    const rows = fs.filter((f) => f.profile === p.id).sort((a, b) => b.atBound.median - a.atBound.median);
    const refId = referenceFor(p.id, rows.map((r) => r.layout));
    const ref = rows.find((r) => r.layout === refId);
    return { p, rows, ref };
  }).filter((x) => x.rows.length > 0 && x.ref && x.ref.atBound.median > 0);
  const cols = 2;
  const heights = panels.map((x) => 40 + x.rows.length * (barH + 4));
  const rowHeights: number[] = [];
  for (let i = 0; i < panels.length; i += cols) rowHeights.push(Math.max(...heights.slice(i, i + cols)));
  const width = cols * panelW + 20;
  const height = 40 + rowHeights.reduce((a, b) => a + b + 10, 0);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    '<rect width="100%" height="100%" fill="white"/>',
    `<text x="10" y="22" font-size="14" font-weight="bold">${esc(title)}</text>`,
  ];
  let y0 = 40;
  panels.forEach((x, i) => {
    const col = i % cols;
    if (col === 0 && i > 0) y0 += rowHeights[Math.floor(i / cols) - 1] + 10;
    const px = 10 + col * panelW;
    const refV = x.ref!.atBound.median;
    const maxRatio = Math.max(1, ...x.rows.map((r) => r.atBound.max / refV));
    const scale = (panelW - labelW - 40) / maxRatio;
    out.push(`<text x="${px}" y="${y0 + 12}" font-weight="bold">${esc(`${x.p.id}: ratio to ${x.ref!.layout} (p99 ≤ ${x.p.p99BoundMs} ms)`)}</text>`);
    const one = px + labelW + scale;
    out.push(`<line x1="${one}" y1="${y0 + 18}" x2="${one}" y2="${y0 + 22 + x.rows.length * (barH + 4)}" stroke="#999" stroke-dasharray="3,3"/>`);
    x.rows.forEach((r, j) => {
      const y = y0 + 22 + j * (barH + 4);
      const w = (r.atBound.median / refV) * scale;
      const fill = r.layout === x.ref!.layout ? '#888' : r.layout.startsWith('sweep') || r.layout.startsWith('naive') ? '#d9a441' : '#4a7ab5';
      out.push(`<text x="${px + labelW - 4}" y="${y + barH - 3}" text-anchor="end">${esc(r.layout)}</text>`);
      out.push(`<rect x="${px + labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${fill}"/>`);
      const x1 = px + labelW + (r.atBound.min / refV) * scale;
      const x2 = px + labelW + (r.atBound.max / refV) * scale;
      out.push(`<line x1="${x1.toFixed(1)}" y1="${y + barH / 2}" x2="${x2.toFixed(1)}" y2="${y + barH / 2}" stroke="black"/>`);
      out.push(`<text x="${(px + labelW + Math.max(w, x2 - px - labelW) + 4).toFixed(1)}" y="${y + barH - 3}">${(r.atBound.median / refV).toFixed(2)}</text>`);
    });
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
