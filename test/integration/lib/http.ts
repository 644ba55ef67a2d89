import { spawnSync } from 'node:child_process';
import * as http from 'node:http';
import * as net from 'node:net';
import { PYTHON } from './python';

export interface Reply {
  status?: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Set when the connection failed or closed without a response (nginx 444). */
  error?: string;
}

export interface Ask {
  path?: string;
  host?: string;
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer;
  timeoutMs?: number;
}

/** One HTTP/1.1 request to 127.0.0.1 on a fresh connection, never throwing. */
export function request(port: number, ask: Ask = {}): Promise<Reply> {
  return new Promise((resolve) => {
    const req = http.request({
      host: '127.0.0.1',
      port,
      path: ask.path ?? '/',
      method: ask.method ?? (ask.body ? 'POST' : 'GET'),
      agent: false,
      headers: {
        'Host': ask.host ?? 'app.example.test',
        'X-Forwarded-Proto': 'https',
        'X-Forwarded-For': '203.0.113.9',
        // Browsers send uploads with a Content-Length (not chunked).
        ...(ask.body ? { 'Content-Length': String(ask.body.length) } : {}),
        ...ask.headers,
      },
      timeout: ask.timeoutMs ?? 15_000,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', (e) => resolve({ headers: {}, body: '', error: String(e) }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ headers: {}, body: '', error: String(e) }));
    if (ask.body) req.write(ask.body);
    req.end();
  });
}

/**
 * Sends a request, keeps the connection idle for `idleMs`, then sends another on the same socket.
 * Resolves with both status lines (the second empty when the server closed the connection).
 */
export function reuseAfterIdle(port: number, host: string, idleMs: number): Promise<[string, string]> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const req = `GET /healthz HTTP/1.1\r\nHost: ${host}\r\nX-Forwarded-Proto: https\r\nX-Forwarded-For: 203.0.113.9\r\n\r\n`;
    let buffer = '';
    let first = '';
    let phase = 0;
    socket.on('data', (d) => {
      buffer += d.toString();
      if (phase === 0 && /\r\n\r\n/.test(buffer)) {
        first = buffer.split('\r\n')[0];
        phase = 1;
        buffer = '';
        setTimeout(() => {
          phase = 2;
          buffer = ''; // drop the rest of the first response's body
          if (socket.destroyed) return resolve([first, '']);
          socket.write(req);
          setTimeout(() => { socket.destroy(); resolve([first, buffer.split('\r\n')[0]]); }, 2000);
        }, idleMs);
      }
    });
    socket.on('close', () => { if (phase < 2) { /* closed while idle */ } });
    socket.on('error', () => undefined);
    socket.write(req);
  });
}

/**
 * A WebSocket client (the websockets library's asyncio client, from the suite's venv): connects, stays
 * idle `idleSeconds`, sends a message and returns the echo, or the error.
 */
export function websocketEcho(port: number, host: string, path: string, idleSeconds: number): string {
  const script = `
import asyncio, sys
from websockets.asyncio.client import connect
async def main():
    # The URI carries the Host header; host/port say where to connect (loopback).
    async with connect("ws://${host}${path}", host="127.0.0.1", port=${port}, additional_headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}, ping_interval=None) as ws:
        await asyncio.sleep(${idleSeconds})
        await ws.send("hello")
        print(await asyncio.wait_for(ws.recv(), 5))
try:
    asyncio.run(main())
except Exception as e:
    print("ERROR", type(e).__name__, e)
`;
  const res = spawnSync(PYTHON, ['-c', script], { encoding: 'utf8', timeout: (idleSeconds + 20) * 1000 });
  return (res.stdout + res.stderr).trim();
}
