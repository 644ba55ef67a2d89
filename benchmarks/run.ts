/**
 * `npx projen bench [--quick]`: every server layout the library generates, side by side in one run, on
 * loopback, with the locks' versions; writes RESULTS.md and results.svg (full run: benchmarks/, quick:
 * benchmarks/results/quick/, which git ignores), and includes the synthesis and cost sections.
 *
 * The projen task pins this process (the load generator) to core 1; the servers and their proxies run
 * pinned to core 0: a 1-vCPU task's budget.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { join, relative, resolve } from 'node:path';
import { HOST, Layout, libraryLayouts, naiveLayout, pickLayouts, recyclingLayouts, sweepLayouts, TASK_CPU, TASK_MEMORY } from './lib/layouts';
import { httpLoad } from './lib/load';
import { generatorCeiling, gracefulStop, measureLayout, Run, SERVER_CPUS, Timing, withLayout } from './lib/measure';
import { pickedLayoutId, profiles, SELECTION_CASES } from './lib/profiles';
import { chartSvg, Figure, figures, fmt, profileTable } from './lib/report';
import { selectionVerdict, spread, workerSpread } from './lib/stats';
import { PYTHON, PYTHON_BIN_DIR } from '../test/integration/lib/python';

const REPO = resolve(__dirname, '..');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const partArg = args.indexOf('--part');
const part = partArg >= 0 ? args[partArg + 1] : undefined;
const outDir = quick ? join(REPO, 'benchmarks', 'results', 'quick') : join(REPO, 'benchmarks');
const resultsDir = quick ? outDir : join(REPO, 'benchmarks', 'results');
const REPS = quick ? 1 : 3;
const TIMING: Timing = quick ? { warmupMs: 300, durationMs: 500 } : { warmupMs: 500, durationMs: 2500 };
const started = Date.now();
const log = (s: string) => process.stdout.write(`[bench ${((Date.now() - started) / 1000).toFixed(0)}s] ${s}\n`);

function versions(): string {
  const py = spawnSync(PYTHON, ['-c', 'import sys, importlib.metadata as m; print("Python " + sys.version.split()[0] + ", " + ", ".join(p + " " + m.version(p) for p in ["Django", "gunicorn", "uvicorn", "gevent", "uWSGI", "daphne", "channels"]))'], { encoding: 'utf8' });
  const nginx = spawnSync('nginx', ['-v'], { encoding: 'utf8' });
  return `${py.stdout.trim()}; ${nginx.stderr.trim().replace('nginx version: ', '')}; Node ${process.version} (the generator)`;
}

/** Recycling: p99 and failures with max-requests plus jitter against a fixed value (the mix profile). */
async function recycling(): Promise<Array<{ layout: string; p99: number[]; failed: number[]; rps: number[] }>> {
  const mix = profiles(quick).find((p) => p.id === 'mix')!;
  const out = [];
  for (const l of recyclingLayouts(quick ? 50 : 100)) {
    const row = { layout: l.id, p99: [] as number[], failed: [] as number[], rps: [] as number[] };
    for (const r of await measureLayout(l, [mix], { warmupMs: TIMING.warmupMs, durationMs: TIMING.durationMs * 2 }, REPS, log)) {
      row.p99.push(r.p99Ms); row.failed.push(r.failed); row.rps.push(r.rps);
    }
    out.push(row);
  }
  return out;
}

/** Runs the recycling part in a child with another venv (the floor column): PYTHON is fixed per process. */
function recyclingOn(binDir: string): ReturnType<typeof recycling> extends Promise<infer T> ? T | undefined : never {
  const file = join(resultsDir, `recycling-${binDir.replace(/\W+/g, '_')}.json.tmp`);
  const res = spawnSync(process.execPath, [...process.execArgv, __filename, ...(quick ? ['--quick'] : []), '--part', 'recycling', '--json', file], {
    env: { ...process.env, CDK_DJANGO_PYTHON_BIN: binDir }, stdio: 'inherit', timeout: 10 * 60_000,
  });
  if (res.status !== 0 || !existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8'));
}

function fragment(name: string, script: string): string {
  const scriptPath = join(REPO, 'benchmarks', script);
  const md = join(resultsDir, `${name}.md`);
  if (!existsSync(scriptPath)) return `## ${name === 'synth' ? 'Synthesis time and memory' : 'Monthly fixed cost'}\n\nSection not built: benchmarks/${script} does not exist yet.\n`;
  log(`${script}`);
  const res = spawnSync('npx', ['tsx', scriptPath, ...(quick ? ['--quick'] : []), '--out', md], { cwd: REPO, stdio: 'inherit', timeout: 10 * 60_000 });
  if (res.status !== 0 || !existsSync(md)) throw new Error(`benchmarks/${script} failed (exit ${res.status})`);
  return readFileSync(md, 'utf8');
}

async function main(): Promise<void> {
  mkdirSync(resultsDir, { recursive: true });
  if (part === 'recycling') {
    const file = args[args.indexOf('--json') + 1];
    writeFileSync(file, JSON.stringify(await recycling()));
    return;
  }
  const ps = profiles(quick);
  const all: Layout[] = [...libraryLayouts(), ...pickLayouts(SELECTION_CASES.map((c) => c.requirements)), naiveLayout(), ...sweepLayouts(quick)];
  // --only <text>: measure the layouts whose id contains it (for working on the harness; the stability parts are skipped).
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
  // --quick: one layout per server and frontend kind, the baselines and the picks that exist among them; every code path once.
  const QUICK = ['gunicorn-gthread/nginx', 'gunicorn-gevent/none', 'gunicorn-asgi/none', 'uwsgi/none', 'daphne/nginx', 'naive', 'sweep'];
  const layouts = only ? all.filter((l) => l.id.includes(only)) : quick ? all.filter((l) => QUICK.some((q) => l.id.startsWith(q))) : all;
  log(`${layouts.length} layouts x ${REPS} repetitions, ${TIMING.durationMs} ms per figure; server on CPU ${SERVER_CPUS}, generator on CPU ${os.cpus().length > 1 ? 1 : 0}`);

  const ceilings: number[] = [];
  for (let rep = 0; rep < REPS; rep++) ceilings.push(await generatorCeiling(TIMING));
  log(`generator against a trivial server: ${ceilings.map((c) => c.toFixed(0)).join(', ')} req/s`);
  const runs: Run[] = [];
  for (const l of layouts) runs.push(...await measureLayout(l, ps, TIMING, REPS, log));
  const fs = figures(runs, ps);

  if (only) {
    for (const p of ps) process.stdout.write(profileTable(p, fs));
    return;
  }
  // Connections ALB-style against wrk-style (every connection opened at once and kept for the whole run).
  const spreadRows: string[] = [];
  for (const id of quick ? ['gunicorn-gthread/nginx'] : ['gunicorn-gthread/none', 'gunicorn-gthread/nginx']) {
    const l = all.find((x) => x.id === id)!;
    const patterns: Array<[string, number, number]> = [
      ['ALB-style (reopened every ~50 requests, opened over time)', 50, TIMING.warmupMs],
      ['wrk-style (64 connections opened at once, never closed)', Infinity, 0],
    ];
    await withLayout(l, async () => {
      for (const [label, k, ramp] of patterns) {
        const shares: Array<{ busiest: number; idlest: number; rps: number }> = [];
        for (let rep = 0; rep < REPS; rep++) {
          const s = await httpLoad({
            port: l.port,
            host: HOST,
            paths: [{ path: '/slow?s=0.05', weight: 1 }],
            connections: 64,
            requestsPerConnection: k,
            rampMs: ramp,
            warmupMs: TIMING.warmupMs,
            durationMs: TIMING.durationMs,
            seed: rep,
          }).done;
          shares.push({ ...workerSpread(s.byWorker, l.workers), rps: s.rps });
        }
        spreadRows.push(`| \`${id}\` | ${label} | ${fmt(spread(shares.map((x) => x.busiest)), 2)} | ${fmt(spread(shares.map((x) => x.idlest)), 2)} | ${fmt(spread(shares.map((x) => x.rps)))} |`);
        log(`spread ${id} ${label}: busiest ${shares.map((x) => x.busiest.toFixed(2)).join(' ')}`);
      }
    });
  }

  // Graceful stop under load.
  const stopRows: string[] = [];
  const stopIds = quick ? ['gunicorn-gthread/nginx', 'uwsgi/none'] : ['gunicorn-gthread/nginx', 'gunicorn-gthread/none', 'gunicorn-uvicorn/nginx', 'uwsgi/nginx', 'uwsgi/none', 'daphne/nginx'];
  for (const id of stopIds) {
    const l = all.find((x) => x.id === id)!;
    const rs = [];
    for (let rep = 0; rep < REPS; rep++) rs.push(await gracefulStop(l));
    stopRows.push(`| \`${id}\` | ${rs.map((r) => r.inFlight).join(', ')} | ${rs.map((r) => r.failed).join(', ')} |`);
    log(`graceful stop ${id}: ${rs.map((r) => `${r.failed}/${r.inFlight}`).join(' ')}`);
  }

  // Recycling on both venvs.
  const recycleRows: string[] = [];
  const columns: Array<[string, string]> = [['latest', PYTHON_BIN_DIR], ['floor', join(REPO, '.venv-floor', 'bin')]];
  for (const [column, bin] of quick ? columns.slice(0, 1) : columns) {
    if (!existsSync(join(bin, 'python3'))) { recycleRows.push(`| ${column} | (no ${relative(REPO, bin)}: run scripts/python-env) | | | |`); continue; }
    const rows = recyclingOn(bin);
    // A part that fails fails the bench (and CI's --quick run), so it cannot rot into a table row.
    if (!rows) throw new Error(`the recycling part failed on the ${column} column (${relative(REPO, bin)}); its output is above`);
    for (const r of rows) recycleRows.push(`| ${column} | \`${r.layout}\` | ${fmt(spread(r.rps))} | ${fmt(spread(r.p99))} | ${r.failed.join(', ')} |`);
  }

  // The selection verdict.
  const verdictRows: string[] = [];
  const verdictJson = [];
  for (const c of SELECTION_CASES) {
    const pick = pickedLayoutId(c.requirements, c.websocketPart);
    // The selection picks the server; the proxy is its own prop (default Nginx, sharing the task's CPU): compare behind Nginx.
    const eligible = (id: string) => { const l = layouts.find((x) => x.id === id)!; return l.frontend === 'nginx' && (!c.candidates || c.candidates(l)); };
    const cands = fs.filter((f) => f.profile === c.profile && eligible(f.layout))
      .map((f) => ({ layout: f.layout, figure: f.atBound }));
    if (!cands.some((x) => x.layout === pick.id)) {
      verdictRows.push(`| ${c.row} | ${c.profile} | \`${pick.id}\` not measured in this run | | | |`);
      continue;
    }
    const v = selectionVerdict(pick.id, cands);
    const p = ps.find((x) => x.id === c.profile)!;
    const pf = fs.find((f) => f.profile === c.profile && f.layout === pick.id)!;
    const bf = fs.find((f) => f.profile === c.profile && f.layout === v.best)!;
    verdictRows.push(`| ${c.row} | ${c.profile} | \`${pick.id}\` ${fmt(pf.atBound)} | \`${v.best}\` ${fmt(bf.atBound)} | ${v.ratio.toFixed(2)} | ${v.pass ? 'pass' : '**fail**'}${v.unsafe ? ' (ranges overlap)' : ''} |`);
    verdictJson.push({
      row: c.row,
      requirements: c.requirements,
      profile: c.profile,
      boundMs: p.p99BoundMs,
      pick: pick.id,
      best: v.best,
      ratio: v.ratio,
      pass: v.pass,
      unsafe: v.unsafe,
    });
    log(`verdict ${c.row}: ${pick.id} vs ${v.best} ${v.ratio.toFixed(2)} ${v.pass ? 'pass' : 'FAIL'}`);
  }

  const synth = fragment('synth', 'synth.ts');
  const cost = fragment('cost', 'cost.ts');
  const chartFile = join(outDir, 'results.svg');
  writeFileSync(chartFile, chartSvg(ps, fs, `cdk-django servers, 1 vCPU (taskset), ${new Date().toISOString().slice(0, 10)}${quick ? ' (quick)' : ''}`));
  const ceiling = spread(ceilings);
  const fastest = fs.reduce((a, b) => (b.rps.median > a.rps.median ? b : a));
  const slowestBest = Math.max(...fs.filter((f) => f.profile !== 'static' && f.profile !== 'ws').map((f) => f.rps.max));
  const md = [
    `# Benchmarks${quick ? ' (quick run: one repetition, short figures; not for conclusions)' : ''}`,
    '',
    `Written by \`npx projen bench${quick ? ' --quick' : ''}\` on ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} in ${((Date.now() - started) / 60000).toFixed(1)} minutes. Do not edit by hand.`,
    '',
    `- Machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}; shared with other work, so absolute figures are noisy and only same-run ratios mean much.`,
    `- Versions (the lock's, ${relative(REPO, PYTHON_BIN_DIR)}): ${versions()}.`,
    `- CPU budget: a ${TASK_CPU / 1024}-vCPU task (cpu ${TASK_CPU}, ${TASK_MEMORY} MiB), so every server and its proxy are pinned with \`taskset -c ${SERVER_CPUS}\` to one core; the load generator runs pinned to the other core.`,
    '- Configs: each layout is the container definitions the constructs synthesize for that task size, run as the real-server suite runs them (test/integration/lib/task.ts), on loopback.',
    `- Load: ALB-like connections: opened over the warm-up, each reused for 1..99 requests (mean 50) and then closed and reopened; closed loop. ${TIMING.warmupMs} ms warm-up, then ${TIMING.durationMs} ms measured; ${REPS} repetition(s) of each figure, back to back in one start of the layout; median (min–max).`,
    `- The generator is not the bottleneck: it sustained ${fastest.rps.median.toFixed(0)} req/s in this run (\`${fastest.layout}\`, ${fastest.profile}), ${(fastest.rps.median / slowestBest).toFixed(0)}x the best Django-served figure of any profile (${slowestBest.toFixed(0)} req/s); against a trivial Node server on the server core it reached ${fmt(ceiling)} req/s.`,
    '',
    '![throughput ratios](' + relative(outDir, chartFile) + ')',
    '',
    '## The selection verdict',
    '',
    'For each row of the README\'s selection table: DjangoApp\'s pick (the real `selectServer`, built as DjangoApp builds it, behind its default proxy, Nginx) against the best measured layout behind Nginx on the profile that row is about (the table picks the server; the proxy is a prop of its own, and on one vCPU Nginx shares the core: the ALB-direct figures are in the profile tables), throughput at the profile\'s p99 bound. The pick passes within 10 %.',
    '',
    '| requirements | profile | pick (req/s) | best (req/s) | pick / best | verdict |',
    '|---|---|---|---|---:|---|',
    ...verdictRows,
    '',
    '## Profiles',
    '',
    ...ps.map((p) => profileTable(p, fs)),
    '## Stability',
    '',
    '### Connections across workers',
    '',
    'The 50 ms I/O view, 64 connections. Busiest and idlest worker\'s share of the requests relative to a fair share (1.00 is even).',
    '',
    '| layout | connection pattern | busiest | idlest | req/s |',
    '|---|---|---:|---:|---:|',
    ...spreadRows,
    '',
    '### Graceful stop under load',
    '',
    '16 connections of 0.5 s requests; after 1.5 s the generator stops sending new requests (the target is deregistered) and the task stops in ECS order (proxy, then app, SIGTERM). Requests in flight at that moment that failed; the goal is 0. One number per repetition.',
    '',
    '| layout | in flight | failed |',
    '|---|---|---|',
    ...stopRows,
    '',
    '### Worker recycling: max-requests with jitter against a fixed value',
    '',
    `Gunicorn gthread ALB-direct with max-requests ${quick ? 50 : 100} (so workers recycle many times per run), the mix profile, on the latest${quick ? ' venv (the floor venv in the full run)' : ' and floor venvs'}. Failed per repetition.`,
    '',
    '| column | layout | req/s | p99 ms | failed |',
    '|---|---|---:|---:|---|',
    ...recycleRows,
    '',
    synth.trim(),
    '',
    cost.trim(),
    '',
  ].join('\n');
  writeFileSync(join(outDir, 'RESULTS.md'), md);
  writeFileSync(join(resultsDir, 'servers.json'), JSON.stringify({ runs, figures: fs as Figure[], verdicts: verdictJson, ceilings }, null, 1));
  log(`wrote ${relative(REPO, join(outDir, 'RESULTS.md'))} and ${relative(REPO, chartFile)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
