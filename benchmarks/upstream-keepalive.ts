/**
 * `npx projen bench:upstream-keepalive`: Nginx reusing its connections to the app server (the rendered
 * `keepalive` upstream) against one connection per request (the same config with those lines taken out),
 * for the HTTP-upstream layouts behind Nginx, with uWSGI behind Nginx beside them; alternated in one run,
 * 3 times each, with the `npx projen bench` method (1 vCPU: the task pinned to core 0). Prints a table.
 */
import { HOST, Layout, libraryLayouts } from './lib/layouts';
import { httpLoad } from './lib/load';
import { withLayout } from './lib/measure';
import { fmt } from './lib/report';
import { spread } from './lib/stats';
import { NGINX_CONF_ENV } from '../src/services/proxy-sidecar';

/** The layout with Nginx opening a connection per request: the upstream keepalive lines removed. */
function perRequest(l: Layout): Layout {
  const strip = (conf: string) => conf.split('\n')
    .filter((line) => !/^\s*(keepalive \d+|keepalive_timeout \d+ms|proxy_http_version 1\.1|proxy_set_header Connection "")/.test(line) || /Upgrade|upgrade/.test(line))
    .join('\n');
  return {
    ...l,
    containers: l.containers.map((c) => ({
      ...c,
      Environment: (c.Environment ?? []).map((e) => (e.Name === NGINX_CONF_ENV ? { ...e, Value: strip(e.Value) } : e)),
    })),
  };
}

async function rate(l: Layout, path: Array<{ path: string; weight: number }>, seed: number): Promise<number> {
  return withLayout(l, async () => {
    const s = await httpLoad({ port: l.port, host: HOST, paths: path, connections: 64, requestsPerConnection: 50, rampMs: 500, warmupMs: 500, durationMs: 2500, seed }).done;
    return s.failed > s.requests / 100 ? 0 : s.rps;
  });
}

async function main(): Promise<void> {
  const mix = [{ path: '/cpu', weight: 80 }, { path: '/slow?s=0.05', weight: 20 }];
  const rows: string[] = [];
  const lib = libraryLayouts().filter((l) => l.frontend === 'nginx');
  const uwsgi: number[] = [];
  for (const id of ['gunicorn-gthread/nginx', 'gunicorn-uvicorn/nginx', 'daphne/nginx']) {
    const l = lib.find((x) => x.id === id)!;
    const kept: number[] = [];
    const opened: number[] = [];
    for (let rep = 0; rep < 3; rep++) {
      kept.push(await rate(l, mix, rep));
      opened.push(await rate(perRequest(l), mix, rep));
      if (id === 'gunicorn-gthread/nginx') uwsgi.push(await rate(lib.find((x) => x.id === 'uwsgi/nginx')!, mix, rep));
      process.stdout.write(`${id}#${rep + 1}: kept ${kept[rep].toFixed(0)}, per request ${opened[rep].toFixed(0)} req/s\n`);
    }
    rows.push(`| \`${id}\` | ${fmt(spread(kept))} | ${fmt(spread(opened))} | ${(spread(kept).median / spread(opened).median).toFixed(2)} |`);
  }
  process.stdout.write([
    '', 'The mix profile (80 % CPU-bound JSON, 20 % 50 ms I/O), 64 ALB-style connections, req/s, median (min–max) of 3:', '',
    '| layout | upstream keepalive | a connection per request | ratio |', '|---|---:|---:|---:|', ...rows,
    `| \`uwsgi/nginx\` (uwsgi protocol, for reference) | ${fmt(spread(uwsgi))} | | |`, '',
  ].join('\n'));
}

main().catch((e) => { console.error(e); process.exit(1); });
