import { Problem, RenderError } from '../errors';
import { StaticFilesLocation, UpstreamProtocol } from './nginx';

/** Everything httpd.conf is rendered from. Pure data. */
export interface ApacheConfig {
  readonly listenPort: number;
  /** mod_proxy_http (Gunicorn, Daphne) or mod_proxy_uwsgi (uWSGI socket). */
  readonly upstreamProtocol: UpstreamProtocol;
  /** `host:port` of the app server inside the task. */
  readonly upstreamAddress: string;
  /** URL prefixes proxied as WebSockets (mod_proxy_wstunnel); HTTP upstream only. */
  readonly websocketPaths: readonly string[];
  /** Read timeout on WebSocket paths: above the server's ping interval. */
  readonly websocketReadTimeoutSeconds?: number;
  /** Hosts Django serves (ALLOWED_HOSTS syntax: `.example.com` matches the domain and its subdomains). */
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

const MODULES = [
  'mpm_event', 'authz_core', 'unixd', 'log_config', 'mime', 'headers', 'setenvif', 'alias', 'rewrite',
  'proxy', 'proxy_http', 'proxy_uwsgi', 'proxy_wstunnel', 'deflate', 'filter', 'reqtimeout',
];

const DEFLATE_TYPES = 'text/html text/plain text/css text/javascript application/javascript application/json application/xml image/svg+xml';

export function apacheProblems(c: ApacheConfig): Problem[] {
  const problems: Problem[] = [];
  if (!/^\/[^\s"'<>]*$/.test(c.healthCheckPath)) {
    problems.push({ prop: 'healthCheckPath', message: `must be a URL path starting with '/', got '${c.healthCheckPath}'` });
  }
  if (c.serverNames.length === 0) problems.push({ prop: 'domainNames', message: 'at least one host name is needed for the proxy to accept requests' });
  for (const name of c.serverNames) {
    if (name === '' || name === '*' || /[\s"'<>]/.test(name)) {
      problems.push({ prop: 'domainNames', message: `'${name}' is not a host name the proxy can match; use names like 'example.com' or '.example.com'` });
    }
  }
  for (const path of c.websocketPaths) {
    if (!/^\/[^\s"'<>]*$/.test(path)) problems.push({ prop: 'websocketPaths', message: `must be URL paths starting with '/', got '${path}'` });
  }
  if (c.websocketPaths.length > 0 && c.upstreamProtocol !== 'http') {
    problems.push({ prop: 'websocketPaths', message: 'WebSockets need an HTTP upstream (Daphne, or Gunicorn with the uvicorn worker), not the uwsgi protocol' });
  }
  if (!Number.isInteger(c.clientMaxBodyBytes) || c.clientMaxBodyBytes < 1 || c.clientMaxBodyBytes > 2147483647) {
    problems.push({ prop: 'clientMaxBodySize', message: `must be 1 byte to 2 GiB, got ${c.clientMaxBodyBytes}` });
  }
  for (const [prop, v] of [['readTimeout', c.readTimeoutSeconds], ['keepAliveTimeout', c.keepAliveTimeoutSeconds]] as const) {
    if (!Number.isInteger(v) || v < 1) problems.push({ prop, message: `must be a whole number of seconds >= 1, got ${v}` });
  }
  return problems;
}

/** ServerName/ServerAlias lines for Django-style names (`.example.com` = the domain and its subdomains). */
function nameLines(names: readonly string[]): string[] {
  const all = names.flatMap((n) => (n.startsWith('.') ? [n.slice(1), `*${n}`] : [n]));
  return [`    ServerName ${all[0]}`, ...(all.length > 1 ? [`    ServerAlias ${all.slice(1).join(' ')}`] : [])];
}

/** The URL of the app server for mod_proxy (ProxyPass target). */
function backend(c: ApacheConfig, path: string): string {
  return `${c.upstreamProtocol === 'uwsgi' ? 'uwsgi' : 'http'}://${c.upstreamAddress}${path}`;
}

/**
 * Renders a complete httpd.conf for the stock httpd image (ServerRoot /usr/local/apache2 compiled in,
 * so no ServerRoot line: tests run Debian's apache2 with `-d`). The sidecar writes exactly this
 * text at start, and the integration tests run it with a real Apache.
 */
export function renderApacheConf(c: ApacheConfig): string {
  const problems = apacheProblems(c);
  if (problems.length > 0) throw new RenderError(problems);
  const run = c.runDir.replace(/\/$/, '');
  // A backend connection is never reused: Gunicorn behind a proxy keeps idle connections 5 s and
  // Daphne 60 s, and a pooled connection the backend has closed is a 502.
  const pass = (path: string, target: string, timeout: number) =>
    `    ProxyPass "${path}" "${target}" disablereuse=On timeout=${timeout}`;
  const lines: string[] = [
    '# Rendered by cdk-django. Edit the construct props, not this file.',
    // Guarded, so a module compiled into the binary (Debian's unixd, say) is not loaded twice.
    ...MODULES.map((m) => `<IfModule !${m}_module>\n    LoadModule ${m}_module modules/mod_${m}.so\n</IfModule>`),
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
    'ErrorLog /proc/self/fd/2',
    'LogLevel warn',
    'LogFormat "%{X-Forwarded-For}i - %t \\"%r\\" %>s %b \\"%{Referer}i\\" \\"%{User-Agent}i\\" host=%{Host}i rt=%D" django',
    'CustomLog /proc/self/fd/1 django',
    'TypesConfig conf/mime.types',
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
    `LimitRequestBody ${c.clientMaxBodyBytes}`,
    '# Large cookies: a 16 KB Cookie header must fit.',
    'LimitRequestFieldSize 32768',
    'LimitRequestLine 16384',
    'RequestReadTimeout header=20-40,MinRate=500 body=20,MinRate=500',
    '',
    `AddOutputFilterByType DEFLATE ${DEFLATE_TYPES}`,
    '',
    '# The ALB always sets X-Forwarded-Proto; fall back to http only when it is absent.',
    'SetEnvIf X-Forwarded-Proto "^$" FORWARDED_PROTO_MISSING',
    'RequestHeader set X-Forwarded-Proto "http" env=FORWARDED_PROTO_MISSING',
    'ProxyPreserveHost On',
    '# mod_proxy adds X-Forwarded-For (appending the ALB\'s address to the ALB\'s list), -Host and -Server.',
    '',
    '# Any Host Django does not serve: answer the health check, refuse everything else with 421',
    '# (Misdirected Request) so DisallowedHost never floods the app logs. ALB health checks use the task IP.',
    `<VirtualHost *:${c.listenPort}>`,
    '    ServerName default.invalid',
    `    <Location "${c.healthCheckPath}">`,
    `        RequestHeader set Host "${c.healthCheckHost}"`,
    '        RequestHeader set X-Forwarded-Proto "https"',
    '    </Location>',
    pass(c.healthCheckPath, backend(c, c.healthCheckPath), c.readTimeoutSeconds),
    '    RewriteEngine On',
    `    RewriteCond %{REQUEST_URI} !^${c.healthCheckPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`,
    '    RewriteRule ^ - [R=421,L]',
    '</VirtualHost>',
    '',
    `<VirtualHost *:${c.listenPort}>`,
    ...nameLines(c.serverNames),
    // LimitRequestBody does not stop a proxied body (measured): refuse a declared length over the
    // limit here. A chunked body over the limit reaches Django, whose DATA_UPLOAD_MAX_MEMORY_SIZE applies.
    '    RewriteEngine On',
    `    RewriteCond %{HTTP:Content-Length} -gt${c.clientMaxBodyBytes}`,
    '    RewriteRule ^ - [R=413,L]',
  ];
  if (c.staticFiles) {
    const url = c.staticFiles.urlPath;
    const root = c.staticFiles.root.replace(/\/?$/, '/');
    lines.push(
      `    ProxyPass "${url}" "!"`,
      `    Alias "${url}" "${root}"`,
      `    <Directory "${root}">`,
      '        Require all granted',
      '        Options None',
      '        AllowOverride None',
      `        Header set Cache-Control "public, max-age=${c.staticFiles.maxAgeSeconds}"`,
      '    </Directory>',
    );
  }
  for (const path of c.websocketPaths) {
    const wsTimeout = c.websocketReadTimeoutSeconds ?? 60;
    // Above the server's ping interval: pings keep idle sockets open.
    lines.push(`    ProxyPass "${path}" "ws://${c.upstreamAddress}${path}" disablereuse=On timeout=${wsTimeout}`);
    lines.push(`    ProxyPassMatch "^(${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*)$" "http://${c.upstreamAddress}$1" disablereuse=On timeout=${c.readTimeoutSeconds}`);
  }
  lines.push(
    pass('/', backend(c, '/'), c.readTimeoutSeconds),
    '</VirtualHost>',
    '',
  );
  return lines.join('\n');
}

/**
 * The sidecar's start script: write the config from an environment variable, run httpd in the
 * foreground, and turn SIGTERM into Apache's graceful stop (SIGWINCH). The stock image's STOPSIGNAL is
 * SIGWINCH (honoured by Fargate since December 2025); older platforms send SIGTERM, on which Apache
 * itself would drop in-flight requests. The shell stays PID 1 to translate the signal.
 */
export function apacheStartScript(configEnvVar: string, runDir: string): string {
  const run = runDir.replace(/\/$/, '');
  return [
    `printf '%s' "$${configEnvVar}" > ${run}/httpd.conf`,
    `httpd -DFOREGROUND -f ${run}/httpd.conf &`,
    'pid=$!',
    'trap \'kill -WINCH $pid 2>/dev/null\' TERM WINCH INT',
    'status=0',
    'while kill -0 $pid 2>/dev/null; do wait $pid; status=$?; done',
    'exit $status',
  ].join('\n');
}
