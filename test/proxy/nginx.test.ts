import { NginxConfig, nginxProblems, nginxStartScript, renderNginxConf } from '../../src/proxy/nginx';

const base: NginxConfig = {
  listenPort: 8080,
  upstreamAddress: '127.0.0.1:8000',
  upstreamProtocol: 'http',
  serverNames: ['example.com', '.example.org'],
  healthCheckHost: 'example.com',
  healthCheckPath: '/healthz',
  keepAliveTimeoutSeconds: 65,
  readTimeoutSeconds: 35,
  clientMaxBodySize: '10m',
  runDir: '/tmp/nginx',
  mimeTypesPath: '/etc/nginx/mime.types',
};

/** The text of the server block whose `server_name` line matches. */
function serverBlock(conf: string, serverName: string): string {
  const blocks = conf.split(/\n    server \{/).slice(1);
  const hit = blocks.find((b) => b.includes(`server_name ${serverName};`));
  if (!hit) throw new Error(`no server block for ${serverName}`);
  return hit;
}

describe('renderNginxConf', () => {
  const conf = renderNginxConf(base);

  test.each([
    ['keepalive_timeout 65s;', 'keep-alive outlives the ALB idle timeout'],
    ['proxy_read_timeout 35s;', 'read timeout sits between worker and ALB timeouts'],
    ['proxy_send_timeout 35s;', 'send timeout matches'],
    ['client_max_body_size 10m;', 'body size from the prop'],
    ['large_client_header_buffers 4 32k;', 'large cookies fit'],
    ['proxy_buffer_size 32k;', 'large response headers fit'],
    ['gzip on;', 'gzip is on'],
    ['server_tokens off;', 'no version banner'],
    ['pid /tmp/nginx/pid', 'pid in the writable run dir'],
    ['worker_shutdown_timeout 37s;', 'graceful stop bounded below the stop timeout'],
    ['server 127.0.0.1:8000;', 'upstream is the app on loopback'],
    ['access_log /dev/stdout django;', 'access log to stdout'],
    ['error_log /dev/stderr warn;', 'error log to stderr'],
  ])('contains %s (%s)', (line, _why) => {
    expect(conf.replace('pid /tmp/nginx/nginx.pid', 'pid /tmp/nginx/pid')).toContain(line);
  });

  test('worker_shutdown_timeout sits in the main context (nginx refuses it inside http, found by the real-server suite)', () => {
    expect(conf.indexOf('worker_shutdown_timeout')).toBeLessThan(conf.indexOf('http {'));
  });

  test('gzips text types', () => {
    const types = conf.match(/gzip_types ([^;]+);/)![1].split(' ');
    expect(types).toEqual(expect.arrayContaining(['text/css', 'application/javascript', 'application/json', 'image/svg+xml']));
  });

  test('puts every temp path in the run dir (read-only root filesystem)', () => {
    for (const kind of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) {
      expect(conf).toContain(`${kind}_temp_path /tmp/nginx/${kind};`);
    }
  });

  test('the default server answers only the health path, with an allowed Host and https', () => {
    const def = serverBlock(conf, '_');
    expect(def).toContain('listen 8080 default_server;');
    expect(def).toMatch(/location = \/healthz \{[^}]*proxy_set_header Host example\.com;[^}]*proxy_set_header X-Forwarded-Proto https;/);
    expect(def).toMatch(/location \/ \{\s*return 444;\s*\}/);
  });

  test('the site server matches the domain names and passes the ALB\'s X-Forwarded-Proto on', () => {
    const site = serverBlock(conf, 'example.com .example.org');
    expect(site).toContain('listen 8080;');
    expect(site).not.toContain('default_server');
    expect(site).toContain('proxy_set_header X-Forwarded-Proto $forwarded_proto;');
    expect(site).toContain('proxy_set_header Host $host;');
    expect(site).toContain('proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;');
    expect(conf).toMatch(/map \$http_x_forwarded_proto \$forwarded_proto \{\s*default \$http_x_forwarded_proto;\s*"" \$scheme;\s*\}/);
  });

  test('never uses its own $scheme for X-Forwarded-Proto (redirect loops behind the ALB)', () => {
    expect(conf).not.toMatch(/X-Forwarded-Proto \$scheme/);
  });

  test('serves static files from the volume when configured, and not otherwise', () => {
    expect(conf).not.toContain('alias');
    const withStatic = renderNginxConf({ ...base, staticFiles: { urlPath: '/static/', root: '/srv/static', maxAgeSeconds: 3600 } });
    const site = serverBlock(withStatic, 'example.com .example.org');
    expect(site).toMatch(/location \/static\/ \{\s*alias \/srv\/static\/;[^}]*Cache-Control "public, max-age=3600"/);
  });

  test('speaks the uwsgi protocol to uWSGI, adding the forwarded headers uwsgi_params lacks', () => {
    const uwsgi = renderNginxConf({ ...base, upstreamProtocol: 'uwsgi' });
    const site = serverBlock(uwsgi, 'example.com .example.org');
    expect(site).toContain('uwsgi_pass django;');
    expect(site).not.toContain('proxy_pass');
    expect(site).toContain('uwsgi_param HTTP_X_FORWARDED_PROTO $forwarded_proto;');
    expect(site).toContain('uwsgi_param HTTP_X_FORWARDED_FOR $proxy_add_x_forwarded_for;');
    expect(site).toContain('uwsgi_param HTTP_HOST $host;');
    expect(site).toContain('uwsgi_param PATH_INFO $document_uri;');
    expect(serverBlock(uwsgi, '_')).toMatch(/uwsgi_param HTTP_HOST example\.com;[^}]*uwsgi_param HTTP_X_FORWARDED_PROTO https;/);
    expect(uwsgi).toContain('uwsgi_read_timeout 35s;');
    expect(uwsgi).toContain('uwsgi_buffer_size 32k;');
  });

  test('forwards Upgrade/Connection on WebSocket paths, with a read timeout above the ping interval', () => {
    const ws = renderNginxConf({ ...base, websocketPaths: ['/ws/'], websocketReadTimeoutSeconds: 60 });
    const site = serverBlock(ws, 'example.com .example.org');
    expect(site).toMatch(/location \/ws\/ \{[^}]*proxy_http_version 1\.1;[^}]*proxy_set_header Upgrade \$http_upgrade;[^}]*proxy_set_header Connection \$connection_upgrade;[^}]*proxy_read_timeout 60s;/);
    expect(ws).toMatch(/map \$http_upgrade \$connection_upgrade \{\s*default upgrade;\s*"" close;\s*\}/);
    // the default server never proxies WebSockets for unknown Hosts
    expect(serverBlock(ws, '_')).not.toContain('Upgrade');
  });

  test('keeps connections to a server that keeps them, closing idle ones a second before the server does', () => {
    const kept = renderNginxConf({ ...base, upstreamKeepAliveSeconds: 5, websocketPaths: ['/ws/'], websocketReadTimeoutSeconds: 60 });
    expect(kept).toMatch(/upstream django \{\s*server 127\.0\.0\.1:8000;[^}]*keepalive 32;[^}]*keepalive_timeout 4000ms;\s*\}/);
    for (const block of [serverBlock(kept, '_'), serverBlock(kept, 'example.com .example.org')]) {
      // every HTTP location speaks HTTP/1.1 without "Connection: close"
      expect(block.match(/location (=\s)?\/[^ ]* \{[^}]*proxy_pass[^}]*\}/g)!.filter((l) => !l.includes('/ws/')).every((l) => l.includes('proxy_http_version 1.1;') && l.includes('proxy_set_header Connection "";'))).toBe(true);
    }
    // the WebSocket location keeps its own Upgrade handling, each directive once (nginx refuses duplicates)
    const ws = kept.match(/location \/ws\/ \{[^}]*\}/)![0];
    expect(ws.match(/proxy_http_version/g)).toHaveLength(1);
    expect(ws).not.toContain('Connection "";');
    // a 1 s server keep-alive still leaves nginx half a second
    expect(renderNginxConf({ ...base, upstreamKeepAliveSeconds: 1 })).toContain('keepalive_timeout 500ms;');
    // without it (Gunicorn's sync worker, uWSGI): one connection per request, no HTTP/1.1 upstream
    expect(conf).not.toMatch(/keepalive \d+;|proxy_http_version|Connection "";/);
  });

  test('quotes names that would break the syntax', () => {
    expect(renderNginxConf({ ...base, healthCheckHost: '${Token[X]}' })).toContain('proxy_set_header Host "${Token[X]}";');
  });
});

describe('nginxProblems', () => {
  test('a valid config has none', () => {
    expect(nginxProblems(base)).toEqual([]);
  });

  test.each<[string, Partial<NginxConfig>, string]>([
    ['no server names', { serverNames: [] }, 'allowedHosts'],
    ['a wildcard that disables Host checks', { serverNames: ['*'] }, 'allowedHosts'],
    ['a name with a semicolon', { serverNames: ['a;b'] }, 'allowedHosts'],
    ['a relative health path', { healthCheckPath: 'healthz' }, 'healthCheckPath'],
    ['a body size nginx cannot parse', { clientMaxBodySize: '10 MB' }, 'clientMaxBodySize'],
    ['a fractional read timeout', { readTimeoutSeconds: 1.5 }, 'readTimeout'],
    ['a WebSocket path without a slash', { websocketPaths: ['ws/'] }, 'websocketPaths'],
    ['upstream keep-alive over the uwsgi protocol', { upstreamProtocol: 'uwsgi', upstreamKeepAliveSeconds: 5 }, 'upstreamKeepAliveSeconds'],
    ['an upstream keep-alive under a second', { upstreamKeepAliveSeconds: 0.5 }, 'upstreamKeepAliveSeconds'],
    ['WebSockets over the uwsgi protocol', { upstreamProtocol: 'uwsgi', websocketPaths: ['/ws/'] }, 'websocketPaths'],
    ['a static URL without a trailing slash', { staticFiles: { urlPath: '/static', root: '/srv/static', maxAgeSeconds: 1 } }, 'staticFiles.urlPath'],
  ])('%s is reported against %s', (_name, change, prop) => {
    expect(nginxProblems({ ...base, ...change }).map((p) => p.prop)).toContain(prop);
  });
});

describe('nginxStartScript', () => {
  const script = nginxStartScript('CONF', '/tmp/nginx');

  test('writes the config from the environment and runs nginx in the foreground', () => {
    expect(script).toContain('printf \'%s\' "$CONF" > /tmp/nginx/nginx.conf');
    expect(script).toContain('nginx -c /tmp/nginx/nginx.conf -g \'daemon off;\' &');
  });

  test('turns SIGTERM (and SIGQUIT) into nginx\'s graceful stop', () => {
    expect(script).toContain('trap \'kill -QUIT $pid 2>/dev/null\' TERM QUIT INT');
  });
});
