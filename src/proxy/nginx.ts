import { Problem, RenderError } from '../problems';
import { supervisedStartScript } from './start-script';

/** Static files the proxy serves itself from a directory (filled by an init container). */
export interface StaticFilesLocation {
  /** URL prefix, e.g. `/static/` (Django's STATIC_URL). */
  readonly urlPath: string;
  /** Directory holding the collected files. */
  readonly root: string;
  /** Cache-Control max-age in seconds. */
  readonly maxAgeSeconds: number;
}

/** How the proxy talks to the app server. */
export type UpstreamProtocol = 'http' | 'uwsgi';

/** Everything nginx.conf is rendered from. Pure data. */
export interface NginxConfig {
  readonly listenPort: number;
  /** `host:port` of the app server inside the task. */
  readonly upstreamAddress: string;
  /** HTTP (Gunicorn, Daphne) or the uwsgi protocol (uWSGI socket). */
  readonly upstreamProtocol: UpstreamProtocol;
  /** URL prefixes proxied as WebSockets (Upgrade/Connection forwarded); HTTP upstream only. */
  readonly websocketPaths?: readonly string[];
  /** Read timeout on WebSocket locations: above the server's ping interval, so pings keep sockets open. */
  readonly websocketReadTimeoutSeconds?: number;
  /** Hosts Django serves (server_name); requests for any other Host get 444. Django syntax `.example.com` works. */
  readonly serverNames: readonly string[];
  /** Host header sent with the health path so Django's ALLOWED_HOSTS accepts the ALB's health check. */
  readonly healthCheckHost: string;
  readonly healthCheckPath: string;
  /**
   * How long the app server keeps an idle connection from the proxy open (HTTP upstream only). Given,
   * nginx keeps connections to it and reuses them for a second less (so it never reuses one the server
   * has closed); absent, nginx opens a connection per request (a server that closes after each reply).
   */
  readonly upstreamKeepAliveSeconds?: number;
  /** Keep-alive towards the ALB: must be longer than the ALB idle timeout. */
  readonly keepAliveTimeoutSeconds: number;
  /** Read/send timeout towards the app: must be longer than the worker timeout, shorter than the ALB idle timeout. */
  readonly readTimeoutSeconds: number;
  /** e.g. `10m`, `512k`. */
  readonly clientMaxBodySize: string;
  readonly staticFiles?: StaticFilesLocation;
  /** Where nginx writes pid and temp files (a writable directory even with a read-only root filesystem). */
  readonly runDir: string;
  /** Path to the mime.types file of the nginx installation. */
  readonly mimeTypesPath: string;
}

const GZIP_TYPES = [
  'text/plain', 'text/css', 'text/javascript', 'text/xml', 'application/javascript',
  'application/json', 'application/xml', 'application/manifest+json', 'image/svg+xml',
];

/** Quote a value for nginx only if it needs it (tokens and plain names pass as they are). */
function q(value: string): string {
  return /^[^\s;{}"'#]+$/.test(value) ? value : `"${value.replace(/(["\\])/g, '\\$1')}"`;
}

export function nginxProblems(c: NginxConfig): Problem[] {
  const problems: Problem[] = [];
  if (!/^\/[^\s;{}]*$/.test(c.healthCheckPath)) {
    problems.push({ prop: 'healthCheckPath', message: `must be a URL path starting with '/', got '${c.healthCheckPath}'` });
  }
  if (c.serverNames.length === 0) {
    problems.push({ prop: 'allowedHosts', message: 'at least one host name is needed for the proxy to accept requests' });
  }
  for (const name of c.serverNames) {
    if (/[\s;'"]/.test(name) || name === '' || name === '*') {
      problems.push({ prop: 'allowedHosts', message: `'${name}' is not a host name the proxy can match; use names like 'example.com' or '.example.com'` });
    }
  }
  if (!/^[1-9]\d*[km]?$/.test(c.clientMaxBodySize)) {
    problems.push({ prop: 'clientMaxBodySize', message: `must render as an nginx size like '10m', got '${c.clientMaxBodySize}'` });
  }
  if (!Number.isInteger(c.readTimeoutSeconds) || c.readTimeoutSeconds < 1) {
    problems.push({ prop: 'readTimeout', message: `must be a whole number of seconds >= 1, got ${c.readTimeoutSeconds}` });
  }
  if (!Number.isInteger(c.keepAliveTimeoutSeconds) || c.keepAliveTimeoutSeconds < 1) {
    problems.push({ prop: 'keepAliveTimeout', message: `must be a whole number of seconds >= 1, got ${c.keepAliveTimeoutSeconds}` });
  }
  for (const path of c.websocketPaths ?? []) {
    if (!/^\/[^\s;{}'"]*$/.test(path)) {
      problems.push({ prop: 'websocketPaths', message: `must be URL paths starting with '/', like '/ws/', got '${path}'` });
    }
  }
  if (c.upstreamKeepAliveSeconds !== undefined && (c.upstreamProtocol !== 'http' || !(c.upstreamKeepAliveSeconds >= 1))) {
    problems.push({ prop: 'upstreamKeepAliveSeconds', message: `needs an HTTP upstream and at least 1 s, got ${c.upstreamKeepAliveSeconds} s over ${c.upstreamProtocol}` });
  }
  if ((c.websocketPaths ?? []).length > 0 && c.upstreamProtocol !== 'http') {
    problems.push({ prop: 'websocketPaths', message: 'WebSockets need an HTTP upstream (Daphne, or Gunicorn with the uvicorn worker), not the uwsgi protocol' });
  }
  if (c.websocketReadTimeoutSeconds !== undefined && (!Number.isInteger(c.websocketReadTimeoutSeconds) || c.websocketReadTimeoutSeconds < 1)) {
    problems.push({ prop: 'websocketReadTimeout', message: `must be a whole number of seconds >= 1, got ${c.websocketReadTimeoutSeconds}` });
  }
  if (c.staticFiles && !/^\/([^\s;{}]*\/)?$/.test(c.staticFiles.urlPath)) {
    problems.push({ prop: 'staticFiles.urlPath', message: `must start and end with '/', like Django's STATIC_URL '/static/', got '${c.staticFiles.urlPath}'` });
  }
  return problems;
}

/**
 * The lines that pass a request to Django, for either upstream protocol. X-Forwarded-Proto comes
 * from the ALB (which terminates TLS): nginx's own $scheme is always http here, and Django behind
 * SECURE_PROXY_SSL_HEADER + SECURE_SSL_REDIRECT would loop on redirects.
 */
function passToApp(protocol: UpstreamProtocol, host: string, forwardedProto: string, indent: string, keepAlive = false): string[] {
  const lines = protocol === 'uwsgi'
    ? [
      'uwsgi_pass django;',
      ...UWSGI_PARAMS.map(([name, value]) => `uwsgi_param ${name} ${value};`),
      // Set as params, these replace the request's own headers (uwsgi_params has neither).
      `uwsgi_param HTTP_HOST ${host};`,
      'uwsgi_param HTTP_X_FORWARDED_FOR $proxy_add_x_forwarded_for;',
      `uwsgi_param HTTP_X_FORWARDED_PROTO ${forwardedProto};`,
      'uwsgi_param HTTP_X_FORWARDED_PORT $http_x_forwarded_port;',
    ]
    : [
      'proxy_pass http://django;',
      `proxy_set_header Host ${host};`,
      'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
      `proxy_set_header X-Forwarded-Proto ${forwardedProto};`,
      'proxy_set_header X-Forwarded-Port $http_x_forwarded_port;',
      'proxy_redirect off;',
      // HTTP/1.1 without "Connection: close", so the upstream keepalive pool can reuse the connection.
      ...(keepAlive ? ['proxy_http_version 1.1;', 'proxy_set_header Connection "";'] : []),
    ];
  return lines.map((l) => indent + l);
}

/** The CGI variables of nginx's uwsgi_params file, inlined so the config stands alone. */
const UWSGI_PARAMS: Array<[string, string]> = [
  ['QUERY_STRING', '$query_string'], ['REQUEST_METHOD', '$request_method'], ['CONTENT_TYPE', '$content_type'],
  ['CONTENT_LENGTH', '$content_length'], ['REQUEST_URI', '$request_uri'], ['PATH_INFO', '$document_uri'],
  ['DOCUMENT_ROOT', '$document_root'], ['SERVER_PROTOCOL', '$server_protocol'], ['REQUEST_SCHEME', '$scheme'],
  ['HTTPS', '$https if_not_empty'], ['REMOTE_ADDR', '$remote_addr'], ['REMOTE_PORT', '$remote_port'],
  ['SERVER_PORT', '$server_port'], ['SERVER_NAME', '$server_name'],
];

/**
 * Renders nginx.conf. The sidecar writes exactly this text to disk at start, and the integration
 * tests run it with a real nginx.
 */
export function renderNginxConf(c: NginxConfig): string {
  const problems = nginxProblems(c);
  if (problems.length > 0) throw new RenderError(problems);
  const run = c.runDir.replace(/\/$/, '');
  const keepAlive = c.upstreamKeepAliveSeconds !== undefined;
  const lines: string[] = [
    '# Rendered by cdk-django. Edit the construct props, not this file.',
    'worker_processes auto;',
    `pid ${run}/nginx.pid;`,
    'error_log /dev/stderr warn;',
    '# On a graceful stop, finish in-flight requests, then exit before ECS loses patience.',
    `worker_shutdown_timeout ${c.readTimeoutSeconds + 2}s;`,
    '',
    'events {',
    '    worker_connections 1024;',
    '}',
    '',
    'http {',
    `    include ${c.mimeTypesPath};`,
    '    default_type application/octet-stream;',
    '    server_tokens off;',
    '    sendfile on;',
    '    tcp_nopush on;',
    '',
    '    log_format django \'$http_x_forwarded_for - [$time_local] "$request" $status $body_bytes_sent \'',
    '                      \'"$http_referer" "$http_user_agent" host=$host rt=$request_time urt=$upstream_response_time\';',
    '    access_log /dev/stdout django;',
    '',
    `    client_body_temp_path ${run}/client_body;`,
    `    proxy_temp_path ${run}/proxy;`,
    `    fastcgi_temp_path ${run}/fastcgi;`,
    `    uwsgi_temp_path ${run}/uwsgi;`,
    `    scgi_temp_path ${run}/scgi;`,
    '',
    '    # Longer than the load balancer idle timeout, so the ALB closes idle connections first (no 502s).',
    `    keepalive_timeout ${c.keepAliveTimeoutSeconds}s;`,
    '    keepalive_requests 10000;',
    '',
    `    client_max_body_size ${c.clientMaxBodySize};`,
    '    client_body_buffer_size 128k;',
    '    # Large cookies: the 4 x 8k default answers 400 to a 16 KB cookie.',
    '    large_client_header_buffers 4 32k;',
    '    proxy_buffer_size 32k;',
    '    proxy_buffers 8 32k;',
    '    proxy_busy_buffers_size 64k;',
    '',
    '    # Longer than the worker timeout (the app answers or fails first), shorter than the ALB idle timeout.',
    '    proxy_connect_timeout 5s;',
    `    proxy_read_timeout ${c.readTimeoutSeconds}s;`,
    `    proxy_send_timeout ${c.readTimeoutSeconds}s;`,
    '    uwsgi_connect_timeout 5s;',
    `    uwsgi_read_timeout ${c.readTimeoutSeconds}s;`,
    `    uwsgi_send_timeout ${c.readTimeoutSeconds}s;`,
    '    uwsgi_buffer_size 32k;',
    '    uwsgi_buffers 8 32k;',
    '    uwsgi_busy_buffers_size 64k;',
    '',
    '    gzip on;',
    '    gzip_vary on;',
    '    gzip_proxied any;',
    '    gzip_comp_level 5;',
    '    gzip_min_length 1024;',
    `    gzip_types ${GZIP_TYPES.join(' ')};`,
    '',
    '    # The ALB always sets X-Forwarded-Proto; fall back to our scheme only when it is absent.',
    '    map $http_x_forwarded_proto $forwarded_proto {',
    '        default $http_x_forwarded_proto;',
    '        "" $scheme;',
    '    }',
    '    map $http_upgrade $connection_upgrade {',
    '        default upgrade;',
    '        "" close;',
    '    }',
    '',
    '    upstream django {',
    `        server ${c.upstreamAddress};`,
    ...(keepAlive ? [
      '        # Reuse connections to the app server: a new connection per request costs a Python server more than',
      '        # a small request does. Idle ones close a second before the server would close them itself.',
      '        keepalive 32;',
      `        keepalive_timeout ${Math.max(500, c.upstreamKeepAliveSeconds! * 1000 - 1000)}ms;`,
    ] : []),
    '    }',
    '',
    '    # Any Host Django does not serve: answer the health check, drop everything else (444)',
    '    # so DisallowedHost never floods the app logs. ALB health checks use the task IP as Host.',
    '    server {',
    `        listen ${c.listenPort} default_server;`,
    '        server_name _;',
    `        location = ${c.healthCheckPath} {`,
    '            access_log off;',
    ...passToApp(c.upstreamProtocol, q(c.healthCheckHost), 'https', '            ', keepAlive),
    '        }',
    '        location / {',
    '            return 444;',
    '        }',
    '    }',
    '',
    '    server {',
    `        listen ${c.listenPort};`,
    `        server_name ${c.serverNames.map(q).join(' ')};`,
  ];
  if (c.staticFiles) {
    lines.push(
      `        location ${c.staticFiles.urlPath} {`,
      `            alias ${c.staticFiles.root.replace(/\/?$/, '/')};`,
      '            access_log off;',
      `            add_header Cache-Control "public, max-age=${c.staticFiles.maxAgeSeconds}";`,
      '        }',
    );
  }
  for (const path of c.websocketPaths ?? []) {
    lines.push(
      `        location ${path} {`,
      ...passToApp('http', '$host', '$forwarded_proto', '            '),
      '            proxy_http_version 1.1;',
      '            proxy_set_header Upgrade $http_upgrade;',
      '            proxy_set_header Connection $connection_upgrade;',
      '            # Above the server\'s ping interval: pings keep idle sockets open.',
      `            proxy_read_timeout ${c.websocketReadTimeoutSeconds ?? 60}s;`,
      `            proxy_send_timeout ${c.websocketReadTimeoutSeconds ?? 60}s;`,
      '        }',
    );
  }
  lines.push(
    '        location / {',
    ...passToApp(c.upstreamProtocol, '$host', '$forwarded_proto', '            ', keepAlive),
    '        }',
    '    }',
    '}',
    '',
  );
  return lines.join('\n');
}

/** The nginx sidecar's start script: SIGTERM (and SIGQUIT) become nginx's graceful stop, SIGQUIT. */
export function nginxStartScript(configEnvVar: string, runDir: string): string {
  const conf = `${runDir.replace(/\/$/, '')}/nginx.conf`;
  return supervisedStartScript({
    configEnvVar,
    configPath: conf,
    command: `nginx -c ${conf} -g 'daemon off;'`,
    gracefulSignal: 'QUIT',
    stopSignals: ['TERM', 'QUIT', 'INT'],
  });
}
