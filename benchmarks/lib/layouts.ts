/**
 * The layouts measured: every server and worker class the constructs generate, behind the default
 * proxy (Nginx) and facing the ALB directly, each synthesized for one task size by the constructs
 * themselves (so the commands and configs are the ones a deploy would run), plus the two baselines:
 * the tutorial command and a small workers x threads sweep. DjangoApp's pick for a set of
 * requirements comes from the real selectServer, built the way DjangoApp builds it.
 */
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';
import {
  DjangoDaphneService, DjangoGunicornService, DjangoUwsgiService, GunicornWorkerClass, ReverseProxy, StaticFiles,
} from '../../src';
import { selectServer, DjangoRequirements } from '../../src/app/selection';
import { defaultUwsgiProcesses } from '../../src/services/uwsgi-service';
import { ContainerDef, synthTask } from '../../test/integration/lib/task';

export const HOST = 'app.example.test';
/** The task size measured: 1 vCPU (the server and its proxy pinned to one core). */
export const TASK_CPU = 1024;
export const TASK_MEMORY = 2048;
const IMAGE = ecs.ContainerImage.fromRegistry('example/mysite:1');

export type Frontend = 'nginx' | 'none';

export interface Layout {
  /** Short stable id, e.g. 'gunicorn-gthread/nginx'. */
  readonly id: string;
  readonly server: 'gunicorn' | 'uwsgi' | 'daphne';
  readonly frontend: Frontend;
  /** Runs the ASGI application (async views; WebSockets where `websockets`). */
  readonly asgi: boolean;
  readonly websockets: boolean;
  readonly group: 'library' | 'baseline' | 'sweep';
  /** Worker processes the rendered config starts (for the spread across workers). */
  readonly workers: number;
  readonly containers: ContainerDef[];
  /** The port the load balancer targets. */
  readonly port: number;
}

export interface Spec {
  server: Layout['server'];
  frontend: Frontend;
  workerClass?: GunicornWorkerClass;
  workers?: number;
  threads?: number;
  maxRequests?: number;
  maxRequestsJitter?: number;
  extraArgs?: string[];
  cheaperMin?: number;
}

function common(frontend: Frontend) {
  return {
    image: IMAGE,
    reverseProxy: frontend === 'nginx' ? ReverseProxy.nginx() : ReverseProxy.none(),
    allowedHosts: [HOST],
    cpu: TASK_CPU,
    memoryLimitMiB: TASK_MEMORY,
    staticFiles: frontend === 'none' ? undefined : StaticFiles.fromImage('/app/staticfiles'),
  };
}

/** Synthesizes one layout with the constructs and returns its task's containers. */
function synth(s: Spec): { containers: ContainerDef[]; workers: number } {
  let workers = 0;
  const { containers } = synthTask((scope: Construct) => {
    if (s.server === 'gunicorn') {
      const asgi = s.workerClass === GunicornWorkerClass.UVICORN || s.workerClass === GunicornWorkerClass.ASGI;
      const svc = new DjangoGunicornService(scope, 'Web', {
        ...common(s.frontend),
        workerClass: s.workerClass,
        workers: s.workers,
        threads: s.threads,
        maxRequests: s.maxRequests,
        maxRequestsJitter: s.maxRequestsJitter,
        extraArgs: s.extraArgs,
        asgiModule: asgi ? 'config.asgi:application' : undefined,
        wsgiModule: asgi ? undefined : 'config.wsgi:application',
        websocketPaths: asgi ? ['/ws/'] : undefined,
      });
      workers = svc.workers;
    } else if (s.server === 'uwsgi') {
      const svc = new DjangoUwsgiService(scope, 'Web', {
        ...common(s.frontend),
        wsgiModule: 'config.wsgi:application',
        cheaper: s.cheaperMin ? { min: s.cheaperMin } : undefined,
      });
      workers = svc.processes;
    } else {
      new DjangoDaphneService(scope, 'Web', { ...common(s.frontend), asgiModule: 'config.asgi:application', websocketPaths: ['/ws/'] });
      workers = 1;
    }
  });
  return { containers, workers };
}

/** Synthesized on first use (a synth takes a second or two), so filtering layouts is cheap. */
export function layout(id: string, group: Layout['group'], s: Spec): Layout {
  let synthesized: ReturnType<typeof synth> | undefined;
  const get = () => (synthesized ??= synth(s));
  const asgi = s.server === 'daphne' || s.workerClass === GunicornWorkerClass.UVICORN || s.workerClass === GunicornWorkerClass.ASGI;
  return {
    id,
    server: s.server,
    frontend: s.frontend,
    asgi,
    websockets: asgi,
    group,
    port: s.frontend === 'none' ? 8000 : 8080,
    get workers() { return get().workers; },
    get containers() { return get().containers; },
  };
}

const WORKER_CLASSES: GunicornWorkerClass[] = [
  GunicornWorkerClass.SYNC, GunicornWorkerClass.GTHREAD, GunicornWorkerClass.GEVENT, GunicornWorkerClass.UVICORN, GunicornWorkerClass.ASGI,
];

/** Every layout the library generates for the task size, behind Nginx and ALB-direct. */
export function libraryLayouts(): Layout[] {
  const out: Layout[] = [];
  for (const frontend of ['nginx', 'none'] as Frontend[]) {
    for (const wc of WORKER_CLASSES) out.push(layout(`gunicorn-${wc}/${frontend}`, 'library', { server: 'gunicorn', frontend, workerClass: wc }));
    out.push(layout(`uwsgi/${frontend}`, 'library', { server: 'uwsgi', frontend }));
    out.push(layout(`daphne/${frontend}`, 'library', { server: 'daphne', frontend }));
  }
  return out;
}

/**
 * The tutorial command, `gunicorn config.wsgi` for the sample project (one sync worker, Gunicorn's
 * defaults), facing the load balancer the way a first deploy would: the ALB-direct task with its
 * command replaced.
 */
export function naiveLayout(): Layout {
  const base = layout('naive: gunicorn config.wsgi', 'baseline', { server: 'gunicorn', frontend: 'none', workerClass: GunicornWorkerClass.SYNC });
  return withAppCommand(base, () => ['gunicorn', 'config.wsgi', '--bind=0.0.0.0:8000'], 1);
}

/**
 * A layout whose app container runs another command: for the baselines and the settings the constructs
 * refuse (so they can be measured against what the constructs render).
 */
function withAppCommand(base: Layout, command: (rendered: string[]) => string[], workers?: number): Layout {
  return {
    id: base.id,
    server: base.server,
    frontend: base.frontend,
    asgi: base.asgi,
    websockets: base.websockets,
    group: base.group,
    port: base.port,
    get workers() { return workers ?? base.workers; },
    get containers() { return base.containers.map((c) => (c.Name === 'app' ? { ...c, Command: command(c.Command ?? []) } : c)); },
  };
}

/**
 * A small hand-tuning sweep of gthread workers x threads behind Nginx, the default proxy, so it competes
 * with the picks on equal terms (the default is 2 x 8 for 1 vCPU; 3 x 4 was the default before).
 */
export function sweepLayouts(quick: boolean, grid: Array<[number, number]> = quick ? [[5, 16]] : [[3, 4], [3, 8], [3, 16], [5, 16]]): Layout[] {
  return grid.map(([w, t]) => layout(`sweep: gthread ${w}x${t}/nginx`, 'sweep', {
    server: 'gunicorn', frontend: 'nginx', workerClass: GunicornWorkerClass.GTHREAD, workers: w, threads: t,
  }));
}

/**
 * Gunicorn gthread ALB-direct with a small max-requests, so workers recycle many times in a run: with
 * the rendered jitter, and with a fixed value (jitter 0, which the constructs refuse).
 */
export function recyclingLayouts(maxRequests: number): Layout[] {
  const jitter = Math.max(1, Math.floor(maxRequests / 4));
  const spec = (maxRequestsJitter: number): Spec => ({ server: 'gunicorn', frontend: 'none', workerClass: GunicornWorkerClass.GTHREAD, maxRequests, maxRequestsJitter });
  // The constructs refuse `maxRequestsJitter: 0`: the fixed layout is rendered with a jitter of 1 and
  // the rendered flag set to 0.
  const fixed = withAppCommand(layout(`recycle ${maxRequests} fixed`, 'library', spec(1)), (cmd) => {
    const i = cmd.indexOf('--max-requests-jitter=1');
    if (i < 0) throw new Error(`the rendered Gunicorn command has no --max-requests-jitter=1: ${cmd.join(' ')}`);
    return cmd.map((a, j) => (j === i ? '--max-requests-jitter=0' : a));
  });
  return [layout(`recycle ${maxRequests}+jitter ${jitter}`, 'library', spec(jitter)), fixed];
}

/**
 * Layouts the picks need that the plain list does not hold: uWSGI's cheaper mode (DjangoApp turns it on
 * with expectedConcurrency).
 */
export function pickLayouts(reqs: DjangoRequirements[]): Layout[] {
  const out = new Map<string, Layout>();
  for (const req of reqs) {
    const d = selectServer(req);
    if (d.httpServer === 'uwsgi' && (req.expectedConcurrency ?? 0) > 0) {
      const cid = 'uwsgi cheaper/nginx';
      out.set(cid, layout(cid, 'library', { server: 'uwsgi', frontend: 'nginx', cheaperMin: Math.max(1, Math.floor(defaultUwsgiProcesses(TASK_CPU / 1024) / 2)) }));
    }
  }
  return [...out.values()];
}
