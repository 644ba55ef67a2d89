/**
 * `npx projen bench:recycling-cost`: what Gunicorn's worker recycling costs at a high request rate. The
 * gthread layout behind Nginx with `maxRequests` 1000 (the earlier default, jitter 250), 10000 (the default, jitter 2500) and 0 (off),
 * and uWSGI behind Nginx (no recycling by default) beside them, with the `npx projen bench` method: one
 * start per layout, then the mix profile 6 times in a row (as the full run measures a layout, so the
 * workers pass max-requests while they are measured), 1 vCPU. Prints a table.
 */
import { layout, Layout, libraryLayouts } from './lib/layouts';
import { measureLayout } from './lib/measure';
import { profiles } from './lib/profiles';
import { fmt } from './lib/report';
import { spread } from './lib/stats';
import { GunicornWorkerClass } from '../src';

async function main(): Promise<void> {
  const mix = profiles(false).filter((p) => p.id === 'mix');
  const gthread = (maxRequests: number) => layout(`gunicorn-gthread max-requests ${maxRequests}/nginx`, 'library', {
    server: 'gunicorn', frontend: 'nginx', workerClass: GunicornWorkerClass.GTHREAD, maxRequests, maxRequestsJitter: Math.floor(maxRequests / 4),
  });
  const layouts: Layout[] = [gthread(1000), gthread(10000), gthread(0), libraryLayouts().find((l) => l.id === 'uwsgi/nginx')!];
  const rows: string[] = [];
  for (const l of layouts) {
    const runs = await measureLayout(l, mix, { warmupMs: 500, durationMs: 2500 }, 6, (s) => process.stdout.write(`${s}\n`));
    rows.push(`| \`${l.id}\` | ${fmt(spread(runs.map((r) => r.rps)))} | ${fmt(spread(runs.map((r) => r.p99Ms)))} | ${runs.reduce((a, r) => a + r.failed, 0)} |`);
  }
  process.stdout.write(['', 'The mix profile, 6 figures in a row on one start of each layout, median (min–max):', '',
    '| layout | req/s | p99 ms | failed |', '|---|---:|---:|---:|', ...rows, ''].join('\n'));
}

main().catch((e) => { console.error(e); process.exit(1); });
