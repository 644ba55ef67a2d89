/**
 * `npx projen bench:granian`: Granian, a server the library does not offer (Django's documentation covers
 * it), against the library's layouts it would replace, side by side in one run, same CPU budget and
 * method as `npx projen bench` (1 vCPU: everything of the task pinned to core 0, the generator on core 1),
 * behind the same Nginx sidecar: Granian takes the app container's place on the port Gunicorn binds.
 * Writes benchmarks/results/granian.md (and prints it).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Layout, libraryLayouts } from './lib/layouts';
import { measureLayout, Run, Timing } from './lib/measure';
import { profiles } from './lib/profiles';
import { figures, profileTable } from './lib/report';
import { PYTHON } from '../test/integration/lib/python';

const quick = process.argv.includes('--quick');
const REPS = quick ? 1 : 3;
const TIMING: Timing = quick ? { warmupMs: 300, durationMs: 500 } : { warmupMs: 500, durationMs: 2500 };
const log = (s: string) => process.stdout.write(`[granian] ${s}\n`);

/** Granian in the app container of a Gunicorn layout behind Nginx: same bind, same health check, same proxy. */
function granian(base: Layout, iface: 'wsgi' | 'asgi', workers: number, blockingThreads?: number): Layout {
  const module = iface === 'wsgi' ? 'config.wsgi:application' : 'config.asgi:application';
  const command = ['granian', `--interface=${iface}`, '--host=127.0.0.1', '--port=8000', `--workers=${workers}`,
    ...(blockingThreads ? [`--blocking-threads=${blockingThreads}`] : []), '--no-ws', '--log-level=warning', module];
  return {
    ...base,
    id: `granian ${iface} ${workers}w${blockingThreads ? `x${blockingThreads}` : ''}/nginx`,
    group: 'baseline',
    asgi: iface === 'asgi',
    websockets: false,
    workers,
    containers: base.containers.map((c) => (c.Name === 'app' ? { ...c, Command: command } : c)),
  };
}

async function main(): Promise<void> {
  const lib = libraryLayouts();
  const byId = (id: string) => lib.find((l) => l.id === id)!;
  const gthread = byId('gunicorn-gthread/nginx');
  const uvicorn = byId('gunicorn-uvicorn/nginx');
  const layouts: Layout[] = [
    gthread, byId('uwsgi/nginx'), byId('gunicorn-gevent/nginx'),
    granian(gthread, 'wsgi', 1, 8), granian(gthread, 'wsgi', 2, 8), granian(gthread, 'wsgi', 3, 4),
    uvicorn, byId('daphne/nginx'), granian(uvicorn, 'asgi', 1), granian(uvicorn, 'asgi', 2),
  ];
  // The WSGI layouts on the default row's and ioBound's profiles; the ASGI ones on the async view.
  const ps = profiles(quick).filter((p) => ['io', 'mix', 'async'].includes(p.id))
    .map((p) => (p.id === 'async' ? p : { ...p, applies: (l: Layout) => !l.asgi }));
  const runs: Run[] = [];
  for (const l of layouts) runs.push(...await measureLayout(l, ps, TIMING, REPS, log));
  const fs = figures(runs, ps);
  const version = spawnSync(PYTHON, ['-c', 'import importlib.metadata as m; print(m.version("granian"))'], { encoding: 'utf8' }).stdout.trim();
  const md = [
    '## Granian (not offered by the library)',
    '',
    `Written by \`npx projen bench:granian\` on ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}: Granian ${version} from the suite's lock, in the app container of the Gunicorn layout behind the same Nginx, against the library's layouts, one run, ${REPS} repetition(s), ${TIMING.durationMs} ms figures. The WSGI layouts run the sample's WSGI app; the async profile runs its ASGI app.`,
    '',
    ...ps.map((p) => profileTable(p, fs)),
  ].join('\n');
  const out = join(__dirname, 'results', quick ? 'quick' : '', 'granian.md');
  mkdirSync(join(out, '..'), { recursive: true });
  writeFileSync(out, md);
  process.stdout.write(md);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
