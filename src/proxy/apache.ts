import { Problem, RenderError } from '../problems';
import { StaticFilesLocation, UpstreamProtocol } from './nginx';
import { supervisedStartScript } from './start-script';

/** Everything httpd.conf is rendered from. Pure data. */
export interface ApacheConfig {
  readonly listenPort: number;
  /** mod_proxy_http (Gunicorn, Daphne) or mod_proxy_uwsgi (uWSGI socket). */
  readonly upstreamProtocol: UpstreamProtocol;
  /** `host:port` of the app server inside the task. */
  readonly upstreamAddress: string;
  /** URL prefixes proxied as WebSockets (mod_proxy_http's `upgrade=websocket`); HTTP upstream only. */
  readonly websocketPaths: readonly string[];
  /**
   * Idle timeout of WebSocket tunnels: above the server's ping interval, so pings keep sockets open.
   * Apache idles a tunnel out after the larger of this and readTimeoutSeconds.
   * @default 60
   */
  readonly websocketReadTimeoutSeconds?: number;
  /**
   * Hosts Django serves, in ALLOWED_HOSTS syntax: `.example.com` is the domain and its subdomains.
   * An unresolved token is used as one exact name.
   */
  readonly serverNames: readonly string[];
  /** Host header sent with the health path so ALLOWED_HOSTS accepts the ALB's health check. */
  readonly healthCheckHost: string;
  readonly healthCheckPath: string;
  /** KeepAliveTimeout: above the ALB idle timeout. */
  readonly keepAliveTimeoutSeconds: number;
  /** ProxyTimeout: above the worker timeout, below the ALB idle timeout. */
  readonly readTimeoutSeconds: number;
  /** LimitRequestBody: larger bodies get 413. */
  readonly clientMaxBodyBytes: number;
  readonly staticFiles?: StaticFilesLocation;
  /** Writable directory for the conf, pid and runtime files (read-only root filesystem). */
  readonly runDir: string;
}

const DEFLATE_TYPES = [
  'text/html', 'text/plain', 'text/css', 'text/javascript', 'text/xml', 'application/javascript',
  'application/json', 'application/xml', 'application/manifest+json', 'image/svg+xml',
];

/** A decoded URL path as Apache compares it: no query, fragment, escapes, quotes or spaces. */
const URL_PATH = /^\/[\w.~!$&*+,;=:@/-]*$/;

export function apacheProblems(c: ApacheConfig): Problem[] {
  const problems: Problem[] = [];
  if (!URL_PATH.test(c.healthCheckPath)) {
    problems.push({ prop: 'healthCheckPath', message: `must be a URL path starting with '/' (no query, spaces or quotes), got '${c.healthCheckPath}'` });
  }
  if (c.serverNames.length === 0) {
    problems.push({ prop: 'allowedHosts', message: 'at least one host name is needed for the proxy to accept requests' });
  }
  for (const name of c.serverNames) {
    // Token characters ($ { } [ ]) pass: CloudFormation substitutes the real name before Apache reads it.
    if (name === '' || name === '.' || name.includes('*') || /[\s"'<>\\]/.test(name)) {
      problems.push({ prop: 'allowedHosts', message: `'${name}' is not a host name the proxy can match; use names like 'example.com' or '.example.com' (Django's wildcard syntax, not '*')` });
    }
  }
  if (!Number.isInteger(c.clientMaxBodyBytes) || c.clientMaxBodyBytes < 1 || c.clientMaxBodyBytes > 2147483647) {
    problems.push({ prop: 'clientMaxBodySize', message: `must be a whole number of bytes from 1 to 2 GiB (Apache's LimitRequestBody range), got ${c.clientMaxBodyBytes}` });
  }
  for (const [prop, v] of [['readTimeout', c.readTimeoutSeconds], ['keepAliveTimeout', c.keepAliveTimeoutSeconds]] as const) {
    if (!Number.isInteger(v) || v < 1) problems.push({ prop, message: `must be a whole number of seconds >= 1, got ${v}` });
  }
  for (const path of c.websocketPaths) {
    if (!URL_PATH.test(path)) problems.push({ prop: 'websocketPaths', message: `must be URL paths starting with '/', like '/ws/', got '${path}'` });
  }
  if (c.websocketPaths.length > 0 && c.upstreamProtocol !== 'http') {
    problems.push({ prop: 'websocketPaths', message: 'WebSockets need an HTTP upstream (Daphne, or Gunicorn with the uvicorn worker), not the uwsgi protocol' });
  }
  const ws = c.websocketReadTimeoutSeconds;
  if (ws !== undefined && (!Number.isInteger(ws) || ws < 1)) {
    problems.push({ prop: 'websocketReadTimeout', message: `must be a whole number of seconds >= 1, got ${ws}` });
  }
  if (c.staticFiles && !(URL_PATH.test(c.staticFiles.urlPath) && c.staticFiles.urlPath.endsWith('/'))) {
    problems.push({ prop: 'staticFiles.urlPath', message: `must start and end with '/', like Django's STATIC_URL '/static/', got '${c.staticFiles.urlPath}'` });
  }
  if (c.staticFiles && (!Number.isInteger(c.staticFiles.maxAgeSeconds) || c.staticFiles.maxAgeSeconds < 0)) {
    problems.push({ prop: 'staticFiles.maxAge', message: `must be a whole number of seconds >= 0, got ${c.staticFiles.maxAgeSeconds}` });
  }
  return problems;
}

/** The modules this config uses, and no others. */
function modules(c: ApacheConfig): string[] {
  return [
    'mpm_event', 'unixd', 'authz_core', 'log_config', 'mime', 'headers', 'rewrite', 'reqtimeout', 'filter', 'deflate',
    'proxy', c.upstreamProtocol === 'uwsgi' ? 'proxy_uwsgi' : 'proxy_http',
    ...(c.staticFiles ? ['alias'] : []),
  ];
}

/** ServerName/ServerAlias for Django-style names (`.example.com` = the domain and its subdomains). */
function nameLines(names: readonly string[]): string[] {
  const all = names.flatMap((n) => (n.startsWith('.') ? [n.slice(1), `*${n}`] : [n]));
  return [`    ServerName ${all[0]}`, ...(all.length > 1 ? [`    ServerAlias ${all.slice(1).join(' ')}`] : [])];
}

/**
 * A ProxyPass to the app. `disablereuse`: Gunicorn behind a proxy keeps idle connections 5 s and
 * Daphne 60 s, and a pooled connection the backend has just closed is a 502; on loopback a new
 * connection per request costs nothing. `retry=0`: after one refused connection (app restarting)
 * Apache would otherwise answer 503 without trying the app for 60 s.
 */
function proxyPass(path: string, url: string, timeout: number, extra = ''): string {
  return `    ProxyPass "${path}" "${url}" disablereuse=On retry=0 connectiontimeout=5 timeout=${timeout}${extra}`;
}

/**
 * Renders a complete httpd.conf for the stock httpd image. No ServerRoot line: the image's compiled-in
 * /usr/local/apache2 resolves `modules/` and `conf/`, and the real-server tests point `-d` at Debian's
 * tree. The sidecar writes exactly this text at start, and the integration tests run it with Apache.
 */
export function renderApacheConf(c: ApacheConfig): string {
  const problems = apacheProblems(c);
  if (problems.length > 0) throw new RenderError(problems);
  const run = c.runDir.replace(/\/$/, '');
  const scheme = c.upstreamProtocol === 'uwsgi' ? 'uwsgi' : 'http';
  const app = `${scheme}://${c.upstreamAddress}`;
  const lines: string[] = [
    '# Rendered by cdk-django. Edit the construct props, not this file.',
    // Guarded, so a module compiled into the binary (Debian's unixd, say) is not loaded twice.
    ...modules(c).map((m) => `<IfModule !${m}_module>\n    LoadModule ${m}_module modules/mod_${m}.so\n</IfModule>`),
    '',
    `Listen ${c.listenPort}`,
    'User daemon',
    'Group daemon',
    `PidFile ${run}/httpd.pid`,
    `DefaultRuntimeDir ${run}`,
    'ServerName localhost',
    'ServerTokens Prod',
    'ServerSignature Off',
    'TraceEnable Off',
    'TypesConfig conf/mime.types',
    'ErrorLog /proc/self/fd/2',
    'LogLevel warn',
    'LogFormat "%{X-Forwarded-For}i - %t \\"%r\\" %>s %b \\"%{Referer}i\\" \\"%{User-Agent}i\\" host=%{Host}i rt=%D" django',
    'CustomLog /proc/self/fd/1 django env=!health_check',
    '<Directory "/">',
    '    AllowOverride None',
    '    Require all denied',
    '</Directory>',
    '',
    '# One app container behind: a few processes of 25 threads. Under the event MPM an idle keep-alive',
    '# connection holds no thread; a thread is busy only while its request is in flight.',
    'StartServers 2',
    'ServerLimit 6',
    'ThreadsPerChild 25',
    'MaxRequestWorkers 150',
    'MinSpareThreads 25',
    'MaxSpareThreads 75',
    'MaxConnectionsPerChild 0',
    '',
    '# Longer than the load balancer idle timeout, so the ALB closes idle connections first (no 502s).',
    'KeepAlive On',
    `KeepAliveTimeout ${c.keepAliveTimeoutSeconds}`,
    'MaxKeepAliveRequests 10000',
    '# Longer than the worker timeout (the app answers or fails first), shorter than the ALB idle timeout.',
    `Timeout ${c.readTimeoutSeconds}`,
    `ProxyTimeout ${c.readTimeoutSeconds}`,
    '# On a graceful stop, finish in-flight requests, then exit before ECS loses patience.',
    `GracefulShutdownTimeout ${c.readTimeoutSeconds + 2}`,
    'RequestReadTimeout header=20-40,MinRate=500 body=20,MinRate=500',
    '',
    `LimitRequestBody ${c.clientMaxBodyBytes}`,
    '# Large cookies: the 8 KB default answers 400 to a 16 KB Cookie header.',
    'LimitRequestFieldSize 32768',
    'LimitRequestLine 16384',
    '',
    `AddOutputFilterByType DEFLATE ${DEFLATE_TYPES.join(' ')}`,
    '',
    '# Any Host Django does not serve: answer the health check, refuse everything else with 421',
    '# Misdirected Request. Apache cannot close without an answer like nginx\'s 444; 421 says "wrong',
    '# host for this server" and DisallowedHost never floods the app logs. ALB health checks use the task IP.',
    `<VirtualHost *:${c.listenPort}>`,
    '    ServerName default.invalid',
    '    RewriteEngine On',
    `    RewriteCond %{REQUEST_URI} !=${c.healthCheckPath}`,
    '    RewriteRule ^ - [R=421,L]',
    '    RewriteRule ^ - [E=health_check:1]',
    '    # ProxyPreserveHost sends the request\'s Host, which is this allowed one by then.',
    '    ProxyPreserveHost On',
    `    RequestHeader set Host "${c.healthCheckHost}"`,
    '    RequestHeader set X-Forwarded-Proto "https"',
    proxyPass(c.healthCheckPath, app + c.healthCheckPath, c.readTimeoutSeconds),
    '</VirtualHost>',
    '',
    `<VirtualHost *:${c.listenPort}>`,
    ...nameLines(c.serverNames),
    // LimitRequestBody does not stop a proxied body (measured): refuse a declared length over the
    // limit here. A chunked body over the limit reaches Django, whose DATA_UPLOAD_MAX_MEMORY_SIZE applies.
    '    RewriteEngine On',
    `    RewriteCond %{HTTP:Content-Length} -gt${c.clientMaxBodyBytes}`,
    '    RewriteRule ^ - [R=413,L]',
    '    ProxyPreserveHost On',
    '    # The ALB\'s X-Forwarded-Proto passes on unchanged (Apache\'s own scheme is always http here, and',
    '    # Django with SECURE_SSL_REDIRECT would loop); only a missing or empty one becomes http.',
    '    RequestHeader set X-Forwarded-Proto "http" "expr=-z req(\'X-Forwarded-Proto\')"',
  ];
  if (c.staticFiles) {
    const root = c.staticFiles.root.replace(/\/?$/, '/');
    lines.push(
      `    ProxyPass "${c.staticFiles.urlPath}" "!"`,
      `    Alias "${c.staticFiles.urlPath}" "${root}"`,
      `    <Directory "${root}">`,
      '        Require all granted',
      '        Options None',
      `        Header set Cache-Control "public, max-age=${c.staticFiles.maxAgeSeconds}"`,
      '    </Directory>',
    );
  }
  for (const path of c.websocketPaths) {
    // mod_proxy_http tunnels an Upgrade: websocket request and proxies plain HTTP on the same path.
    lines.push(proxyPass(path, `${app}${path}`, c.websocketReadTimeoutSeconds ?? 60, ' upgrade=websocket'));
  }
  lines.push(
    proxyPass('/', `${app}/`, c.readTimeoutSeconds),
    '</VirtualHost>',
    '',
  );
  return lines.join('\n');
}

/** The Apache sidecar's start script: SIGTERM (and SIGWINCH) become Apache's graceful stop, SIGWINCH. */
export function apacheStartScript(configEnvVar: string, runDir: string): string {
  const conf = `${runDir.replace(/\/$/, '')}/httpd.conf`;
  return supervisedStartScript({
    configEnvVar,
    configPath: conf,
    command: `httpd -DFOREGROUND -f ${conf}`,
    gracefulSignal: 'WINCH',
    stopSignals: ['TERM', 'WINCH', 'INT'],
  });
}
