/**
 * A load generator whose connections behave like an Application Load Balancer's towards its targets:
 * connections are opened over time (not all at once), each is kept alive for a random number of
 * requests and then closed and reopened, so new connections keep landing on whichever worker accepts
 * them. A generator that holds every connection forever (wrk) can pin all of them to one worker and
 * measure that accident instead of the server.
 *
 * Closed loop: each connection sends its next request when the previous answer is complete. HTTP/1.1 over
 * raw sockets (no agent, no pooling, nothing hidden), plus a minimal WebSocket client for echo round trips.
 */
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import { percentile } from './stats';

/** One finished request, as the tally counts it. */
export interface Outcome {
  /** Milliseconds since the load began, when the request was sent and when its answer (or failure) came. */
  readonly sentAt: number;
  readonly doneAt: number;
  /** HTTP status; undefined when the connection failed or closed without an answer. */
  readonly status?: number;
  /** Why it failed without a status ('reset', 'timeout', 'connect', 'closed'). */
  readonly error?: string;
  /** The worker process that answered (the sample project's X-Worker-Pid header). */
  readonly worker?: string;
}

export interface LoadSummary {
  /** Answered with 2xx or 3xx inside the measured window. */
  readonly requests: number;
  /** Failed inside the window: no answer, or a 4xx/5xx status. */
  readonly failed: number;
  readonly errors: Readonly<Record<string, number>>;
  readonly seconds: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Successful answers per worker process. */
  readonly byWorker: Readonly<Record<string, number>>;
  readonly connectionsOpened: number;
}

/**
 * The accounting, apart from the sockets: requests that complete inside [windowStart, windowEnd) count;
 * the warm-up before and the stragglers after do not.
 */
export class Tally {
  private readonly latencies: number[] = [];
  private readonly errors: Record<string, number> = {};
  private readonly byWorker: Record<string, number> = {};
  private ok = 0;
  private bad = 0;
  connectionsOpened = 0;

  constructor(readonly windowStart: number, readonly windowEnd: number) {
    if (!(windowEnd > windowStart)) throw new Error(`the measured window must not be empty (${windowStart}..${windowEnd})`);
  }

  record(o: Outcome): void {
    if (o.doneAt < this.windowStart || o.doneAt >= this.windowEnd) return;
    const success = o.status !== undefined && o.status < 400;
    if (!success) {
      this.bad++;
      const kind = o.status !== undefined ? `http ${o.status}` : (o.error ?? 'unknown');
      this.errors[kind] = (this.errors[kind] ?? 0) + 1;
      return;
    }
    this.ok++;
    this.latencies.push(o.doneAt - o.sentAt);
    if (o.worker) this.byWorker[o.worker] = (this.byWorker[o.worker] ?? 0) + 1;
  }

  summary(): LoadSummary {
    const seconds = (this.windowEnd - this.windowStart) / 1000;
    return {
      requests: this.ok,
      failed: this.bad,
      errors: { ...this.errors },
      seconds,
      rps: this.ok / seconds,
      p50Ms: percentile(this.latencies, 50),
      p99Ms: percentile(this.latencies, 99),
      maxMs: this.latencies.reduce((a, b) => Math.max(a, b), 0),
      byWorker: { ...this.byWorker },
      connectionsOpened: this.connectionsOpened,
    };
  }
}

/** A small deterministic generator (Park-Miller), so runs differ only by what the servers do. */
export function rng(seed: number): () => number {
  let a = (Math.abs(Math.floor(seed)) % 2147483646) + 1;
  return () => {
    a = (a * 48271) % 2147483647;
    return (a - 1) / 2147483646;
  };
}

/** Picks a path by weight. */
export function weightedPicker(paths: ReadonlyArray<{ path: string; weight: number }>, random: () => number): () => string {
  const total = paths.reduce((a, p) => a + p.weight, 0);
  if (paths.length === 0 || !(total > 0)) throw new Error('give at least one path with a positive weight');
  return () => {
    let x = random() * total;
    for (const p of paths) {
      x -= p.weight;
      if (x < 0) return p.path;
    }
    return paths[paths.length - 1].path;
  };
}

/**
 * How many requests a connection carries before it is closed: uniform in 1..2K-1 (mean K), so
 * connections do not all close together; Infinity keeps every connection for the whole run (wrk's pattern).
 */
export function requestsForConnection(meanK: number, random: () => number): number {
  if (meanK === Infinity) return Infinity;
  if (!Number.isInteger(meanK) || meanK < 1) throw new Error(`requests per connection must be a whole number >= 1 or Infinity, got ${meanK}`);
  return 1 + Math.floor(random() * (2 * meanK - 1));
}

export interface HttpLoadOptions {
  readonly port: number;
  readonly host: string;
  readonly paths: ReadonlyArray<{ path: string; weight: number }>;
  /** Connections in flight at once (after the ramp). */
  readonly connections: number;
  /** Mean requests per connection before it is closed and reopened (Infinity: never). */
  readonly requestsPerConnection: number;
  /** Connections are opened evenly over this time (0: all at once). */
  readonly rampMs: number;
  /** Warm-up (not counted), then the measured window. */
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly timeoutMs?: number;
  readonly seed?: number;
}

/** A load in progress: `drain` stops new requests (what a deregistered target sees) and reports the ones in flight. */
export interface RunningLoad {
  readonly done: Promise<LoadSummary>;
  /** Stops sending; resolves with the outcomes of the requests that were in flight at that moment. */
  drain(): Promise<Outcome[]>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Parses one HTTP/1.1 response from the front of buf: undefined until it is complete. */
export function parseResponse(buf: Buffer): { status: number; worker?: string; close: boolean; length: number } | undefined {
  const headEnd = buf.indexOf('\r\n\r\n');
  if (headEnd < 0) return undefined;
  const head = buf.subarray(0, headEnd).toString('latin1');
  const lines = head.split('\r\n');
  const status = Number(lines[0].split(' ')[1]);
  const headers: Record<string, string> = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  const close = (headers.connection ?? '').toLowerCase() === 'close' || lines[0].startsWith('HTTP/1.0');
  let pos = headEnd + 4;
  if ((headers['transfer-encoding'] ?? '').toLowerCase().includes('chunked')) {
    for (;;) {
      const lineEnd = buf.indexOf('\r\n', pos);
      if (lineEnd < 0) return undefined;
      const size = parseInt(buf.subarray(pos, lineEnd).toString('latin1'), 16);
      if (size === 0) {
        const end = buf.indexOf('\r\n\r\n', lineEnd);
        if (end < 0) return undefined;
        pos = end + 4;
        break;
      }
      pos = lineEnd + 2 + size + 2;
      if (pos > buf.length) return undefined;
    }
  } else if (headers['content-length'] !== undefined) {
    pos += Number(headers['content-length']);
    if (pos > buf.length) return undefined;
  } else if (status !== 204 && status !== 304 && !(status >= 100 && status < 200)) {
    return undefined; // body until close: not used by the servers measured
  }
  return { status, worker: headers['x-worker-pid'], close, length: pos };
}

/** One keep-alive connection that sends requests one after another. */
class Connection {
  /** Opens a connection, or says why it could not. */
  static open(port: number, timeoutMs: number): Promise<Connection | string> {
    return new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.setNoDelay(true);
      const timer = setTimeout(() => { s.destroy(); resolve('connect timeout'); }, timeoutMs);
      s.once('connect', () => { clearTimeout(timer); s.removeAllListeners('error'); resolve(new Connection(s)); });
      s.once('error', (e: NodeJS.ErrnoException) => { clearTimeout(timer); resolve(`connect ${e.code ?? 'error'}`); });
    });
  }

  private buf = Buffer.alloc(0);
  private waiting?: (r: { status?: number; worker?: string; close?: boolean; error?: string }) => void;
  private closed = false;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (d) => {
      this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
      const r = parseResponse(this.buf);
      if (r && this.waiting) {
        this.buf = this.buf.subarray(r.length);
        const w = this.waiting;
        this.waiting = undefined;
        w(r);
      }
    });
    const fail = (error: string) => {
      this.closed = true;
      const w = this.waiting;
      this.waiting = undefined;
      w?.({ error });
    };
    socket.on('error', (e: NodeJS.ErrnoException) => fail(e.code === 'ECONNRESET' ? 'reset' : (e.code ?? 'error')));
    socket.on('close', () => fail('closed'));
  }

  get usable(): boolean {
    return !this.closed;
  }

  get(path: string, host: string, timeoutMs: number): Promise<{ status?: number; worker?: string; close?: boolean; error?: string }> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.waiting = undefined; this.closed = true; this.socket.destroy(); resolve({ error: 'timeout' }); }, timeoutMs);
      this.waiting = (r) => { clearTimeout(timer); resolve(r); };
      this.socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nX-Forwarded-Proto: https\r\nX-Forwarded-For: 203.0.113.9\r\n\r\n`);
    });
  }

  close(): void {
    this.closed = true;
    this.socket.destroy();
  }
}

/** Runs an ALB-like HTTP load and summarizes its measured window. */
export function httpLoad(o: HttpLoadOptions): RunningLoad {
  const random = rng(o.seed ?? 1);
  const pick = weightedPicker(o.paths, random);
  const timeoutMs = o.timeoutMs ?? 10_000;
  const t0 = performance.now();
  const now = () => performance.now() - t0;
  const end = o.warmupMs + o.durationMs;
  const tally = new Tally(o.warmupMs, end);
  let draining = false;
  const inFlight = new Set<Promise<Outcome>>();

  async function lane(i: number): Promise<void> {
    await sleep(o.connections > 1 ? (o.rampMs * i) / o.connections : 0);
    while (!draining && now() < end) {
      const c = await Connection.open(o.port, timeoutMs);
      if (typeof c === 'string') {
        tally.record({ sentAt: now(), doneAt: now(), error: c });
        await sleep(20);
        continue;
      }
      tally.connectionsOpened++;
      const k = requestsForConnection(o.requestsPerConnection, random);
      for (let n = 0; n < k && c.usable && !draining && now() < end; n++) {
        const sentAt = now();
        let serverCloses = false;
        const p = c.get(pick(), o.host, timeoutMs).then((r): Outcome => {
          serverCloses = !!r.close;
          return { sentAt, doneAt: now(), status: r.status, error: r.error, worker: r.worker };
        });
        inFlight.add(p);
        const outcome = await p;
        inFlight.delete(p);
        tally.record(outcome);
        if (outcome.status === undefined || serverCloses) break;
      }
      c.close();
    }
  }

  const lanes = Array.from({ length: o.connections }, (_, i) => lane(i));
  return {
    done: Promise.all(lanes).then(() => tally.summary()),
    drain: () => {
      draining = true;
      return Promise.all([...inFlight]);
    },
  };
}

// --- WebSocket echo (RFC 6455 framing is bit-level) ---
/* eslint-disable no-bitwise */

function wsFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  if (payload.length > 125) throw new Error('echo messages are short');
  const mask = randomBytes(4);
  const out = Buffer.alloc(2 + 4 + payload.length);
  out[0] = 0x81; // FIN + text
  out[1] = 0x80 | payload.length; // masked, as clients must
  mask.copy(out, 2);
  for (let i = 0; i < payload.length; i++) out[6 + i] = payload[i] ^ mask[i % 4];
  return out;
}

function wsPong(payload: Buffer): Buffer {
  const mask = randomBytes(4);
  const out = Buffer.alloc(6 + payload.length);
  out[0] = 0x8a;
  out[1] = 0x80 | payload.length;
  mask.copy(out, 2);
  for (let i = 0; i < payload.length; i++) out[6 + i] = payload[i] ^ mask[i % 4];
  return out;
}

/** Parses one unmasked server frame from the front of buf. */
export function parseFrame(buf: Buffer): { opcode: number; payload: Buffer; length: number } | undefined {
  if (buf.length < 2) return undefined;
  let len = buf[1] & 0x7f;
  let pos = 2;
  if (len === 126) {
    if (buf.length < 4) return undefined;
    len = buf.readUInt16BE(2);
    pos = 4;
  } else if (len === 127) {
    if (buf.length < 10) return undefined;
    len = Number(buf.readBigUInt64BE(2));
    pos = 10;
  }
  if (buf.length < pos + len) return undefined;
  return { opcode: buf[0] & 0x0f, payload: buf.subarray(pos, pos + len), length: pos + len };
}

export interface WebSocketLoadOptions {
  readonly port: number;
  readonly host: string;
  readonly path: string;
  /** Connections to open and hold. */
  readonly connections: number;
  /** Opened evenly over this time. */
  readonly rampMs: number;
  /** Once every connection is open, how long each keeps echoing. */
  readonly durationMs: number;
  /** Pause between one connection's echoes. */
  readonly intervalMs: number;
  readonly timeoutMs?: number;
}

export interface WebSocketSummary {
  /** Connections open and still echoing at the end. */
  readonly held: number;
  readonly attempted: number;
  readonly failed: number;
  readonly messages: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** Opens and holds WebSocket connections; once all are open, each echoes a message every interval for durationMs, and those round trips count. */
export async function webSocketLoad(o: WebSocketLoadOptions): Promise<WebSocketSummary> {
  const timeoutMs = o.timeoutMs ?? 10_000;
  const t0 = performance.now();
  const now = () => performance.now() - t0;
  // The echo window opens once every connection is open (or has failed): the held connections are measured, not the handshakes.
  let windowStart = Infinity;
  let end = Infinity;
  let settled = 0;
  let openAll!: () => void;
  const allOpen = new Promise<void>((resolve) => { openAll = resolve; });
  const settleOne = () => {
    if (++settled < o.connections) return;
    windowStart = now();
    end = windowStart + o.durationMs;
    openAll();
  };
  const rtts: number[] = [];
  let held = 0;
  let failed = 0;

  async function one(i: number): Promise<void> {
    await sleep((o.rampMs * i) / o.connections);
    const s = net.connect(o.port, '127.0.0.1');
    s.setNoDelay(true);
    let buf = Buffer.alloc(0);
    let upgraded = false;
    let waiting: ((ok: boolean) => void) | undefined;
    let alive = true;
    const settle = (ok: boolean) => { const w = waiting; waiting = undefined; w?.(ok); };
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const headEnd = buf.indexOf('\r\n\r\n');
        if (headEnd < 0) return;
        const ok = buf.subarray(0, 12).toString() === 'HTTP/1.1 101';
        buf = buf.subarray(headEnd + 4);
        upgraded = ok;
        settle(ok);
        if (!ok) return;
      }
      for (let f = parseFrame(buf); f; f = parseFrame(buf)) {
        buf = buf.subarray(f.length);
        if (f.opcode === 0x9) {
          s.write(wsPong(f.payload));
        } else if (f.opcode === 0x8) {
          alive = false;
          settle(false);
        } else if (f.opcode === 0x1) {
          settle(true);
        }
      }
    });
    s.on('error', () => { alive = false; settle(false); });
    s.on('close', () => { alive = false; settle(false); });
    const wait = () => new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => { waiting = undefined; resolve(false); }, timeoutMs);
      waiting = (ok) => { clearTimeout(timer); resolve(ok); };
    });
    const key = randomBytes(16).toString('base64');
    const opened = wait();
    s.write(`GET ${o.path} HTTP/1.1\r\nHost: ${o.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\n`
      + 'Sec-WebSocket-Version: 13\r\nX-Forwarded-Proto: https\r\nX-Forwarded-For: 203.0.113.9\r\n\r\n');
    if (!(await opened)) { failed++; s.destroy(); settleOne(); return; }
    settleOne();
    await allOpen;
    let ok = true;
    while (now() < end) {
      const sentAt = now();
      const answered = wait();
      s.write(wsFrame(`ping ${i}`));
      if (!(await answered) || !alive) { ok = false; break; }
      if (sentAt >= windowStart) rtts.push(now() - sentAt);
      await sleep(o.intervalMs * (0.5 + Math.random()));
    }
    if (ok) held++; else failed++;
    s.destroy();
  }

  await Promise.all(Array.from({ length: o.connections }, (_, i) => one(i)));
  return { held, attempted: o.connections, failed, messages: rtts.length, p50Ms: percentile(rtts, 50), p99Ms: percentile(rtts, 99) };
}
/* eslint-enable no-bitwise */
