/**
 * Runs layouts with real servers (LocalTask, pinned to the server core) under the servers' lock and
 * applies the profiles to them: one start per layout and repetition, every applicable profile in it.
 */
import { spawn } from 'node:child_process';
import { HOST, Layout } from './layouts';
import { httpLoad, LoadSummary, Outcome, webSocketLoad } from './load';
import { withServerLock } from './lock';
import { Profile } from './profiles';
import { LocalTask } from '../../test/integration/lib/task';

/** The core the server and its proxy run on; the generator (this process) runs on the other. */
export const SERVER_CPUS = '0';

export interface Timing {
  readonly warmupMs: number;
  readonly durationMs: number;
}

/** One profile's figures from one run. */
export interface Run {
  readonly layout: string;
  readonly profile: string;
  readonly rep: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly requests: number;
  readonly failed: number;
  readonly errors: Readonly<Record<string, number>>;
  readonly byWorker: Readonly<Record<string, number>>;
  /** WebSocket profiles: connections held to the end. */
  readonly held?: number;
}

const ALB_REUSE = 50;

export async function runProfile(port: number, p: Profile, t: Timing, seed: number): Promise<Omit<Run, 'layout' | 'profile' | 'rep'>> {
  if (p.kind === 'websocket') {
    const w = await webSocketLoad({
      port,
      host: HOST,
      path: p.paths[0].path,
      connections: p.connections,
      rampMs: Math.max(t.warmupMs, 500),
      durationMs: t.durationMs,
      intervalMs: 100,
    });
    const seconds = t.durationMs / 1000;
    return { rps: w.messages / seconds, p50Ms: w.p50Ms, p99Ms: w.p99Ms, requests: w.messages, failed: w.failed, errors: w.failed ? { 'not held': w.failed } : {}, byWorker: {}, held: w.held };
  }
  const s: LoadSummary = await httpLoad({
    port,
    host: HOST,
    paths: p.paths,
    connections: p.connections,
    requestsPerConnection: ALB_REUSE,
    rampMs: t.warmupMs,
    warmupMs: t.warmupMs,
    durationMs: t.durationMs,
    seed,
  }).done;
  return { rps: s.rps, p50Ms: s.p50Ms, p99Ms: s.p99Ms, requests: s.requests, failed: s.failed, errors: s.errors, byWorker: s.byWorker };
}

/** Starts a layout's task pinned to the server core, runs `body`, and always tears it down. */
export async function withLayout<T>(l: Layout, body: (task: LocalTask) => Promise<T>): Promise<T> {
  return withServerLock(async () => {
    const task = new LocalTask(l.containers, {}, undefined, SERVER_CPUS);
    try {
      const t0 = Date.now();
      await task.start(l.port, 60_000);
      process.stdout.write(`  ${l.id} started in ${Date.now() - t0} ms\n`);
      return await body(task);
    } finally {
      await task.destroy();
    }
  });
}

/** One start of the layout; every applicable profile `reps` times in a row (the server stays warm between them). */
export async function measureLayout(l: Layout, ps: Profile[], t: Timing, reps: number, log: (s: string) => void): Promise<Run[]> {
  const runs: Run[] = [];
  await withLayout(l, async () => {
    for (const p of ps.filter((x) => x.applies(l))) {
      for (let rep = 0; rep < reps; rep++) {
        const r = await runProfile(l.port, p, t, rep * 1000 + runs.length);
        runs.push({ layout: l.id, profile: p.id, rep, ...r });
        log(`  ${l.id} ${p.id}#${rep + 1}: ${r.rps.toFixed(0)} req/s p99 ${r.p99Ms.toFixed(0)} ms failed ${r.failed}${r.held !== undefined ? ` held ${r.held}` : ''}`);
      }
    }
  });
  return runs;
}

/**
 * A graceful stop under load: 16 connections of 0.5 s requests; then the generator stops sending (the
 * target is deregistered) and the task stops in ECS order. Counts the requests in flight at that moment
 * that did not get an answer below 500.
 */
export async function gracefulStop(l: Layout): Promise<{ inFlight: number; failed: number }> {
  return withLayout(l, async (task) => {
    const load = httpLoad({ port: l.port, host: HOST, paths: [{ path: '/slow?s=0.5', weight: 1 }], connections: 16, requestsPerConnection: ALB_REUSE, rampMs: 500, warmupMs: 0, durationMs: 30_000 });
    await new Promise((r) => setTimeout(r, 1500));
    const drained = load.drain();
    const stopped = task.stop();
    const outcomes: Outcome[] = await drained;
    await stopped;
    await load.done;
    return { inFlight: outcomes.length, failed: outcomes.filter((o) => o.status === undefined || o.status >= 500).length };
  });
}

/**
 * The generator's own ceiling: the same HTTP client against a trivial Node server pinned to the server
 * core (a keep-alive 'ok'), with the ALB pattern. Far above a layout's figure, the generator is not what limits it.
 */
export async function generatorCeiling(t: Timing): Promise<number> {
  const script = 'require(\'http\').createServer((q,s)=>{s.setHeader(\'X-Worker-Pid\',String(process.pid));s.end(\'ok\')}).listen(0,\'127.0.0.1\',function(){console.log(this.address().port)})';
  const child = spawn('taskset', ['-c', SERVER_CPUS, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((resolve) => child.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
    const s = await httpLoad({
      port, host: HOST, paths: [{ path: '/', weight: 1 }], connections: 64, requestsPerConnection: ALB_REUSE, rampMs: t.warmupMs, warmupMs: t.warmupMs, durationMs: t.durationMs,
    }).done;
    return s.rps;
  } finally {
    child.kill('SIGKILL');
  }
}
