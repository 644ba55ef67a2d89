/**
 * The request profiles, the layouts each applies to, and which requirement row of the selection table
 * each one judges.
 */
import type { Layout } from './layouts';
import { DjangoRequirements, selectServer } from '../../src/app/selection';
import { GunicornWorkerClass } from '../../src/servers/gunicorn';

export interface Profile {
  readonly id: string;
  readonly label: string;
  readonly kind: 'http' | 'websocket';
  readonly paths: ReadonlyArray<{ path: string; weight: number }>;
  /** Connections in flight (HTTP) or held (WebSocket). */
  readonly connections: number;
  /** Throughput counts only while p99 stays within this bound. */
  readonly p99BoundMs: number;
  readonly applies: (l: Layout) => boolean;
}

const IO = '/slow?s=0.05';
const anyHttp = (_l: Layout) => true;
const notSweep = (l: Layout) => l.group !== 'sweep';

export function profiles(quick: boolean): Profile[] {
  return [
    { id: 'cpu', label: 'CPU-bound JSON view (/cpu), 16 connections', kind: 'http', paths: [{ path: '/cpu', weight: 1 }], connections: 16, p99BoundMs: 1000, applies: anyHttp },
    { id: 'io', label: '50 ms I/O view, 64 connections', kind: 'http', paths: [{ path: IO, weight: 1 }], connections: 64, p99BoundMs: 1000, applies: anyHttp },
    {
      id: 'mix',
      label: 'mix: 80 % CPU-bound JSON, 20 % 50 ms I/O, 64 connections',
      kind: 'http',
      paths: [{ path: '/cpu', weight: 80 }, { path: IO, weight: 20 }],
      connections: 64,
      p99BoundMs: 2000,
      applies: anyHttp,
    },
    { id: 'cpu-high', label: 'CPU-bound JSON view, 256 connections', kind: 'http', paths: [{ path: '/cpu', weight: 1 }], connections: 256, p99BoundMs: 5000, applies: anyHttp },
    { id: 'io-high', label: '50 ms I/O view, 256 connections', kind: 'http', paths: [{ path: IO, weight: 1 }], connections: 256, p99BoundMs: 2000, applies: anyHttp },
    {
      id: 'static',
      label: 'a static file (/static/web/app.css) through the proxy, 32 connections',
      kind: 'http',
      paths: [{ path: '/static/web/app.css', weight: 1 }],
      connections: 32,
      p99BoundMs: 250,
      applies: (l) => l.frontend === 'nginx' && (l.id.startsWith('gunicorn-gthread/') || l.id.startsWith('daphne/')),
    },
    {
      id: 'async',
      label: 'async view (asyncio.sleep 50 ms) under ASGI, 64 connections',
      kind: 'http',
      paths: [{ path: '/async-slow', weight: 1 }],
      connections: 64,
      p99BoundMs: 1000,
      applies: (l) => l.asgi && notSweep(l),
    },
    {
      id: 'ws',
      label: `WebSocket echo, ${quick ? 100 : 400} held connections, one echo per connection every ~100 ms`,
      kind: 'websocket',
      paths: [{ path: '/ws/echo/', weight: 1 }],
      connections: quick ? 100 : 400,
      p99BoundMs: 1000,
      applies: (l) => l.websockets,
    },
  ];
}

/** A row of the selection table and the profile that measures it. */
export interface SelectionCase {
  readonly row: string;
  readonly requirements: DjangoRequirements;
  readonly profile: string;
  /** The pick that serves this profile is the WebSocket half of a mixed app. */
  readonly websocketPart?: boolean;
  /** Only these layouts are candidates (e.g. only ASGI servers run an ASGI project). */
  readonly candidates?: (l: Layout) => boolean;
}

export const SELECTION_CASES: SelectionCase[] = [
  { row: 'none', requirements: {}, profile: 'mix' },
  { row: '`ioBound`', requirements: { ioBound: true }, profile: 'io' },
  { row: '`asgi`', requirements: { asgi: true }, profile: 'async', candidates: (l) => l.asgi },
  { row: '`expectedConcurrency` ≥ 500', requirements: { expectedConcurrency: 1000 }, profile: 'cpu-high' },
  { row: '`expectedConcurrency` ≥ 500 and `ioBound`', requirements: { expectedConcurrency: 1000, ioBound: true }, profile: 'io-high' },
  { row: '`websockets` (the WebSocket paths)', requirements: { websockets: true }, profile: 'ws', websocketPart: true },
  { row: '`websockets` with `asgi`', requirements: { websockets: true, asgi: true }, profile: 'ws' },
];

/** What DjangoApp picks for the requirements, as a measured layout id (behind its default proxy, Nginx). */
export function pickedLayoutId(req: DjangoRequirements, websocketPart = false): { id: string; reason: string } {
  const d = selectServer(req);
  const wsHalf = websocketPart && d.websocketServer !== undefined;
  const server = wsHalf ? d.websocketServer : d.httpServer;
  if (server === 'gunicorn') {
    const workerClass = (wsHalf ? d.websocketWorkerClass : d.gunicornWorkerClass) ?? GunicornWorkerClass.GTHREAD;
    return { id: `gunicorn-${workerClass}/nginx`, reason: d.reason };
  }
  if (server === 'uwsgi' && (req.expectedConcurrency ?? 0) > 0) return { id: 'uwsgi cheaper/nginx', reason: d.reason };
  return { id: `${server}/nginx`, reason: d.reason };
}
