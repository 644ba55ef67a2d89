/**
 * The smoke-test lifecycle hook, run as Lambda runs it (the inline source as a CommonJS module) against a
 * real HTTP server on loopback (an ephemeral port, closed after each test). Only the EC2 call that finds
 * the load balancer's addresses is faked: it answers 127.0.0.1.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vm from 'node:vm';
import { SMOKE_TEST_HANDLER_SOURCE } from '../../src/deploy/smoke-test-source';

interface Seen { host?: string; path?: string; agent?: string }

/** A server answering each request with the next status of `statuses` (the last one repeats). */
async function serve(statuses: number[]): Promise<{ port: number; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ host: req.headers.host, path: req.url, agent: req.headers['user-agent'] });
    res.statusCode = statuses[Math.min(seen.length - 1, statuses.length - 1)];
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { port, seen, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** `https` as the function gets it, except that it trusts `ca` (the runtime trusts the public CAs instead). */
function httpsTrusting(ca: Buffer): typeof https {
  return { ...https, request: (options: any, callback: any) => https.request({ ...options, ca }, callback) } as typeof https;
}

function load(env: Record<string, string>, interfaces: string[] = ['127.0.0.1'], httpsModule: typeof https = https) {
  const filters: any[] = [];
  class DescribeNetworkInterfacesCommand { constructor(public readonly input: any) {} }
  class EC2Client {
    async send(cmd: DescribeNetworkInterfacesCommand) {
      filters.push(cmd.input.Filters);
      return { NetworkInterfaces: interfaces.map((ip) => ({ PrivateIpAddress: ip })) };
    }
  }
  const module = { exports: {} as any };
  vm.runInNewContext(SMOKE_TEST_HANDLER_SOURCE, {
    module,
    exports: module.exports,
    require: (id: string) => {
      if (id === 'http') return http;
      if (id === 'https') return httpsModule;
      if (id === '@aws-sdk/client-ec2') return { EC2Client, DescribeNetworkInterfacesCommand };
      throw new Error(`the handler may only require http, https and @aws-sdk/client-ec2, asked for ${id}`);
    },
    process: {
      env: {
        LOAD_BALANCER_FULL_NAME: 'app/site/0123456789abcdef',
        PROTOCOL: 'HTTP',
        HOST: 'www.example.com',
        SMOKE_PATH: '/healthz',
        EXPECTED_STATUS: '200',
        SUCCESSES: '3',
        TIMEOUT_SECONDS: '3',
        PAUSE_MS: '100',
        REQUEST_TIMEOUT_MS: '500',
        ...env,
      },
    },
    console: { log: () => undefined },
    setTimeout,
    Promise,
  }, { filename: 'index.js' });
  return { handler: module.exports.handler as (event: any) => Promise<any>, filters };
}

const EVENT = { executionDetails: { targetServiceRevisionArn: 'arn:aws:ecs:eu-west-1:111111111111:service-revision/c/s/1' } };

test('SUCCEEDED after the wanted number of good answers in a row, asking with the site\'s Host on the test port', async () => {
  const server = await serve([200]);
  try {
    const { handler, filters } = load({ PORT: String(server.port) });
    expect(await handler(EVENT)).toEqual({ hookStatus: 'SUCCEEDED' });
    expect(server.seen).toHaveLength(3);
    expect(server.seen[0]).toEqual({ host: 'www.example.com', path: '/healthz', agent: 'cdk-django-smoke-test' });
    expect(filters[0]).toEqual([{ Name: 'description', Values: ['ELB app/site/0123456789abcdef'] }]);
  } finally {
    await server.close();
  }
});

test('a bad answer restarts the count: 200, 500, then 200s pass only after three in a row', async () => {
  const server = await serve([200, 500, 200]);
  try {
    const { handler } = load({ PORT: String(server.port) });
    expect(await handler(EVENT)).toEqual({ hookStatus: 'SUCCEEDED' });
    expect(server.seen).toHaveLength(5);
  } finally {
    await server.close();
  }
});

test('FAILED when the revision keeps answering 500 until the time is up (ECS rolls back)', async () => {
  const server = await serve([500]);
  try {
    const { handler } = load({ PORT: String(server.port), TIMEOUT_SECONDS: '1' });
    const started = Date.now();
    expect(await handler(EVENT)).toEqual({ hookStatus: 'FAILED' });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(server.seen.length).toBeGreaterThan(1);
  } finally {
    await server.close();
  }
});

test('another status than the expected one is a bad answer (a redirect to HTTPS is not a pass)', async () => {
  const server = await serve([301]);
  try {
    const { handler } = load({ PORT: String(server.port), TIMEOUT_SECONDS: '1' });
    expect(await handler(EVENT)).toEqual({ hookStatus: 'FAILED' });
  } finally {
    await server.close();
  }
});

test('FAILED, not an error, when nothing listens or the load balancer has no interfaces', async () => {
  const closed = await serve([200]);
  await closed.close();
  expect(await load({ PORT: String(closed.port), TIMEOUT_SECONDS: '1' }).handler(EVENT)).toEqual({ hookStatus: 'FAILED' });
  expect(await load({ PORT: '9', TIMEOUT_SECONDS: '1' }, []).handler(EVENT)).toEqual({ hookStatus: 'FAILED' });
});

describe('over HTTPS', () => {
  let dir: string;
  let key: Buffer;
  let cert: Buffer;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'smoke-tls-'));
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=www.example.com',
      '-addext', 'subjectAltName=DNS:www.example.com', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { encoding: 'utf8' });
    expect(made.status).toBe(0);
    key = readFileSync(join(dir, 'key.pem'));
    cert = readFileSync(join(dir, 'cert.pem'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function tlsServer(): Promise<{ port: number; close: () => Promise<void> }> {
    const server = https.createServer({ key, cert }, (_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { port: (server.address() as AddressInfo).port, close: () => new Promise((resolve) => server.close(() => resolve())) };
  }

  test('the certificate is checked against the site\'s name, not the node\'s address: a name it covers passes', async () => {
    const server = await tlsServer();
    try {
      const { handler } = load({ PORT: String(server.port), PROTOCOL: 'HTTPS' }, ['127.0.0.1'], httpsTrusting(cert));
      expect(await handler(EVENT)).toEqual({ hookStatus: 'SUCCEEDED' });
    } finally {
      await server.close();
    }
  });

  test('a name the certificate does not cover fails', async () => {
    const server = await tlsServer();
    try {
      const { handler } = load({ PORT: String(server.port), PROTOCOL: 'HTTPS', HOST: 'other.example.com', TIMEOUT_SECONDS: '1' }, ['127.0.0.1'], httpsTrusting(cert));
      expect(await handler(EVENT)).toEqual({ hookStatus: 'FAILED' });
    } finally {
      await server.close();
    }
  });
});
