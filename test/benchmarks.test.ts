/**
 * The server benchmark's pure parts: its statistics, the selection verdict, the throughput-at-bound
 * rule, the load generator's accounting and parsing, and the generator against a small in-process server
 * on an ephemeral loopback port (connections really closed and reopened, every request counted).
 */
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import * as net from 'node:net';
import { AddressInfo } from 'node:net';
import { libraryLayouts, naiveLayout, pickLayouts, recyclingLayouts } from '../benchmarks/lib/layouts';
import { httpLoad, parseFrame, parseResponse, requestsForConnection, rng, Tally, webSocketLoad, weightedPicker } from '../benchmarks/lib/load';
import { pickedLayoutId, SELECTION_CASES } from '../benchmarks/lib/profiles';
import { chartSvg, figures, profileTable } from '../benchmarks/lib/report';
import { overlaps, percentile, selectionVerdict, spread, throughputAtBound, workerSpread } from '../benchmarks/lib/stats';

describe('statistics', () => {
  test('nearest-rank percentiles', () => {
    const v = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted
    expect(percentile(v, 50)).toBe(50);
    expect(percentile(v, 99)).toBe(99);
    expect(percentile(v, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 99)).toBeNaN();
    expect(() => percentile(v, 101)).toThrow(/0\.\.100/);
  });

  test('median with min-max, odd and even counts', () => {
    expect(spread([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3, n: 3 });
    expect(spread([4, 1, 2, 3])).toEqual({ median: 2.5, min: 1, max: 4, n: 4 });
    expect(() => spread([])).toThrow(/no values/);
  });

  test('overlapping ranges are not safely different; disjoint ones are', () => {
    expect(overlaps(spread([100, 110, 120]), spread([115, 130, 140]))).toBe(true);
    expect(overlaps(spread([100, 110, 120]), spread([121, 130, 140]))).toBe(false);
  });

  test('throughput counts only within the p99 bound and with at most 1 % failed', () => {
    const run = { rps: 500, p99Ms: 200, requests: 1000, failed: 0 };
    expect(throughputAtBound(run, 250)).toBe(500);
    expect(throughputAtBound({ ...run, p99Ms: 251 }, 250)).toBe(0);
    expect(throughputAtBound({ ...run, failed: 20 }, 250)).toBe(0);
    expect(throughputAtBound({ ...run, failed: 5 }, 250)).toBe(500);
    expect(throughputAtBound({ ...run, requests: 0, p99Ms: NaN }, 250)).toBe(0);
  });
});

describe('the selection verdict', () => {
  const c = (layout: string, runs: number[]) => ({ layout, figure: spread(runs) });

  test('a pick within 10 % of the best passes', () => {
    const v = selectionVerdict('pick', [c('pick', [92, 95, 96]), c('other', [100, 104, 105])]);
    expect(v.best).toBe('other');
    expect(v.ratio).toBeCloseTo(95 / 104);
    expect(v.pass).toBe(true);
  });

  test('a pick more than 10 % below the best fails, and disjoint ranges make the comparison safe', () => {
    const v = selectionVerdict('pick', [c('pick', [60, 62, 65]), c('other', [100, 101, 103])]);
    expect(v.pass).toBe(false);
    expect(v.unsafe).toBe(false);
  });

  test('overlapping ranges are flagged unsafe', () => {
    expect(selectionVerdict('pick', [c('pick', [80, 85, 101]), c('other', [95, 100, 110])]).unsafe).toBe(true);
  });

  test('the best pick has ratio 1; a pick that was not measured is an error', () => {
    expect(selectionVerdict('pick', [c('pick', [100]), c('other', [50])])).toMatchObject({ ratio: 1, pass: true, best: 'pick', unsafe: false });
    expect(() => selectionVerdict('missing', [c('pick', [1])])).toThrow(/not measured/);
  });

  test('every selection row maps to a layout id the harness builds', () => {
    const ids = SELECTION_CASES.map((s) => pickedLayoutId(s.requirements, s.websocketPart).id);
    expect(ids).toEqual([
      'gunicorn-gthread/nginx',
      'gunicorn-gevent/nginx',
      'gunicorn-uvicorn/nginx',
      'uwsgi cheaper/nginx',
      'gunicorn-gevent/nginx',
      'gunicorn-uvicorn/nginx',
      'gunicorn-uvicorn/nginx',
    ]);
    // Layout ids are known without synthesizing; every pick is among the layouts a run starts.
    const built = new Set([...libraryLayouts(), ...pickLayouts(SELECTION_CASES.map((s) => s.requirements))].map((l) => l.id));
    expect(ids.filter((id) => !built.has(id))).toEqual([]);
  });
});

describe('the layouts', () => {
  const appCommand = (l: { containers: Array<{ Name: string; Command?: string[] }> }) => l.containers.find((c) => c.Name === 'app')!.Command!;

  test('worker recycling: the rendered jitter, and a fixed value the constructs refuse, set on the rendered command', () => {
    const [jittered, fixed] = recyclingLayouts(100);
    expect(appCommand(jittered)).toEqual(expect.arrayContaining(['--max-requests=100', '--max-requests-jitter=25']));
    const cmd = appCommand(fixed);
    expect(cmd).toEqual(expect.arrayContaining(['--max-requests=100', '--max-requests-jitter=0']));
    expect(cmd.filter((a) => a.startsWith('--max-requests-jitter'))).toHaveLength(1);
    expect(fixed.workers).toBe(jittered.workers);
  });

  test('the tutorial baseline runs `gunicorn config.wsgi` in the ALB-direct task', () => {
    const naive = naiveLayout();
    expect(appCommand(naive)).toEqual(['gunicorn', 'config.wsgi', '--bind=0.0.0.0:8000']);
    expect([naive.workers, naive.port]).toEqual([1, 8000]);
  });
});

describe('the load generator', () => {
  test('the tally counts completions inside the window only, and failures by kind', () => {
    const t = new Tally(1000, 3000);
    t.record({ sentAt: 900, doneAt: 950, status: 200, worker: '1' }); // warm-up: not counted
    t.record({ sentAt: 1000, doneAt: 1010, status: 200, worker: '1' });
    t.record({ sentAt: 1500, doneAt: 1530, status: 200, worker: '2' });
    t.record({ sentAt: 1500, doneAt: 1600, status: 502 });
    t.record({ sentAt: 2000, doneAt: 2100, error: 'reset' });
    t.record({ sentAt: 2900, doneAt: 3000, status: 200 }); // after the window
    const s = t.summary();
    expect(s.requests).toBe(2);
    expect(s.failed).toBe(2);
    expect(s.errors).toEqual({ 'http 502': 1, 'reset': 1 });
    expect(s.rps).toBe(1);
    expect(s.p99Ms).toBe(30);
    expect(s.byWorker).toEqual({ 1: 1, 2: 1 });
    expect(() => new Tally(5, 5)).toThrow(/empty/);
  });

  test('connections carry 1..2K-1 requests (mean K), or all of them with Infinity', () => {
    const r = rng(7);
    const ks = Array.from({ length: 2000 }, () => requestsForConnection(50, r));
    expect(Math.min(...ks)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...ks)).toBeLessThanOrEqual(99);
    // spread over the whole range, so connections do not all close together
    expect(Math.min(...ks)).toBeLessThan(5);
    expect(Math.max(...ks)).toBeGreaterThan(94);
    expect(ks.reduce((a, b) => a + b, 0) / ks.length).toBeGreaterThan(45);
    expect(ks.reduce((a, b) => a + b, 0) / ks.length).toBeLessThan(55);
    expect(requestsForConnection(Infinity, r)).toBe(Infinity);
    expect(() => requestsForConnection(0, r)).toThrow(/whole number/);
  });

  test('paths are picked by weight', () => {
    const pick = weightedPicker([{ path: '/a', weight: 80 }, { path: '/b', weight: 20 }], rng(3));
    const share = Array.from({ length: 5000 }, pick).filter((p) => p === '/a').length / 5000;
    expect(share).toBeGreaterThan(0.77);
    expect(share).toBeLessThan(0.83);
    expect(() => weightedPicker([], rng(1))).toThrow(/positive weight/);
  });

  test('parses content-length and chunked responses, and waits for incomplete ones', () => {
    const a = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Worker-Pid: 42\r\n\r\nhelloHTTP/1.1');
    expect(parseResponse(a)).toEqual({ status: 200, worker: '42', close: false, length: a.length - 8 });
    expect(parseResponse(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel'))).toBeUndefined();
    const chunked = Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
    expect(parseResponse(chunked)).toEqual({ status: 200, worker: undefined, close: true, length: chunked.length });
    expect(parseResponse(chunked.subarray(0, chunked.length - 3))).toBeUndefined();
  });

  test('parses server WebSocket frames', () => {
    expect(parseFrame(Buffer.from([0x81, 3, 0x61, 0x62, 0x63]))).toMatchObject({ opcode: 1, length: 5 });
    expect(parseFrame(Buffer.from([0x81, 3, 0x61]))).toBeUndefined();
  });

  /* eslint-disable no-bitwise */ // WebSocket frames: length bits and the client's XOR mask
  test('WebSocket echo: round trips count only once every connection is open (slow handshakes are not echo latency)', async () => {
    // A tiny echo server that answers the i-th handshake after i x 40 ms, and records when each echo arrives.
    let handshakes = 0;
    let lastHandshakeAt = 0;
    const echoedAt: number[] = [];
    const server = net.createServer((sock) => {
      let buf = Buffer.alloc(0);
      let upgraded = false;
      sock.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        if (!upgraded) {
          const head = buf.indexOf('\r\n\r\n');
          if (head < 0) return;
          const key = /Sec-WebSocket-Key: (\S+)/i.exec(buf.subarray(0, head).toString())![1];
          buf = buf.subarray(head + 4);
          upgraded = true;
          const accept = createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
          setTimeout(() => {
            lastHandshakeAt = performance.now();
            sock.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
          }, handshakes++ * 40);
        }
        while (buf.length >= 6 && buf.length >= 6 + (buf[1] & 0x7f)) {
          const len = buf[1] & 0x7f;
          const payload = Buffer.from(buf.subarray(6, 6 + len).map((b, i) => b ^ buf[2 + (i % 4)]));
          buf = buf.subarray(6 + len);
          echoedAt.push(performance.now());
          const text = Buffer.concat([Buffer.from('echo:'), payload]);
          sock.write(Buffer.concat([Buffer.from([0x81, text.length]), text]));
        }
      });
      sock.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const { port } = server.address() as AddressInfo;
      const w = await webSocketLoad({ port, host: 'h', path: '/ws/', connections: 8, rampMs: 10, durationMs: 300, intervalMs: 20 });
      expect(w).toMatchObject({ held: 8, failed: 0, attempted: 8 });
      expect(w.messages).toBeGreaterThan(8);
      // Every echo the tally counted came after the last handshake (8 x 40 ms in): none waited on one.
      expect(Math.min(...echoedAt)).toBeGreaterThanOrEqual(lastHandshakeAt);
      expect(w.p99Ms).toBeLessThan(100);
    } finally {
      server.close();
    }
  });
  /* eslint-enable no-bitwise */

  test('against a real server: reopens connections about every K requests, counts every request, sees both workers', async () => {
    let connections = 0;
    let served = 0;
    const server = http.createServer((_req, res) => {
      served++;
      res.setHeader('X-Worker-Pid', String(served % 2)); // two "workers"
      res.end('ok');
    });
    server.on('connection', () => connections++);
    server.keepAliveTimeout = 10_000;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const { port } = server.address() as AddressInfo;
      const s = await httpLoad({
        port,
        host: 'app.example.test',
        paths: [{ path: '/', weight: 1 }],
        connections: 4,
        requestsPerConnection: 5,
        rampMs: 50,
        warmupMs: 100,
        durationMs: 600,
        seed: 1,
      }).done;
      expect(s.failed).toBe(0);
      expect(s.requests).toBeGreaterThan(20);
      expect(s.requests).toBeLessThanOrEqual(served);
      // Every connection closed after 1..9 requests: many more connections than the 4 in flight.
      expect(connections).toBeGreaterThan(served / 10);
      expect(Object.keys(s.byWorker).sort()).toEqual(['0', '1']);
    } finally {
      server.close();
    }
  });

  test('against a server that answers 500 and one that resets: failures, not successes', async () => {
    const server = http.createServer((req, res) => {
      if (req.url === '/reset') {
        req.socket.destroy();
        return;
      }
      res.statusCode = 500;
      res.end('no');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const { port } = server.address() as AddressInfo;
      const s = await httpLoad({
        port,
        host: 'h',
        paths: [{ path: '/500', weight: 1 }, { path: '/reset', weight: 1 }],
        connections: 2,
        requestsPerConnection: 3,
        rampMs: 0,
        warmupMs: 0,
        durationMs: 300,
      }).done;
      expect(s.requests).toBe(0);
      expect(s.failed).toBeGreaterThan(0);
      expect(Object.keys(s.errors).sort()).toEqual(['closed', 'http 500']);
    } finally {
      server.close();
    }
  });
});

describe('worker spread and the report', () => {
  test('an even spread is 1; a worker that got nothing counts as 0', () => {
    expect(workerSpread({ a: 50, b: 50 }, 2)).toEqual({ busiest: 1, idlest: 1, workersSeen: 2 });
    expect(workerSpread({ a: 90 }, 3)).toEqual({ busiest: 3, idlest: 0, workersSeen: 1 });
  });

  test('tables rank by throughput at the bound, ratio to the reference, and flag overlaps', () => {
    const p = { id: 'cpu', label: 'CPU', kind: 'http' as const, paths: [], connections: 1, p99BoundMs: 100, applies: () => true };
    const run = (layout: string, rep: number, rps: number, p99Ms = 50) => ({ layout, profile: 'cpu', rep, rps, p50Ms: 1, p99Ms, requests: 100, failed: 0, errors: {}, byWorker: {} });
    const fs = figures([
      run('gunicorn-gthread/nginx', 0, 100), run('gunicorn-gthread/nginx', 1, 110), run('gunicorn-gthread/nginx', 2, 120),
      run('fast', 0, 200), run('fast', 1, 210), run('fast', 2, 220),
      run('close', 0, 105), run('close', 1, 125), run('close', 2, 130),
      run('slow-tail', 0, 300, 500), run('slow-tail', 1, 300, 500), run('slow-tail', 2, 300, 500),
    ], [p]);
    const table = profileTable(p, fs);
    const lines = table.split('\n').filter((l) => l.startsWith('| `'));
    expect(lines[0]).toMatch(/^\| `fast` \| 210 \(200–220\) \| 1\.91 \|/);
    expect(lines.find((l) => l.includes('`close`'))).toMatch(/overlaps/);
    expect(lines.find((l) => l.includes('`slow-tail`'))).toMatch(/\| 0 \| 0\.00 \|/);
    const svg = chartSvg([p], fs, 'title');
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain('fast');
  });
});
