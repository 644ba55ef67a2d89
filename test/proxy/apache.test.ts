import { ApacheConfig, apacheProblems, apacheStartScript, renderApacheConf } from '../../src/proxy/apache';

const base: ApacheConfig = {
  listenPort: 8080,
  upstreamProtocol: 'http',
  upstreamAddress: '127.0.0.1:8000',
  websocketPaths: [],
  serverNames: ['example.com', '.example.org'],
  healthCheckHost: 'example.com',
  healthCheckPath: '/healthz',
  keepAliveTimeoutSeconds: 65,
  readTimeoutSeconds: 35,
  clientMaxBodyBytes: 10485760,
  runDir: '/tmp/proxy',
};

/** The VirtualHost blocks, in order: [default, site]. */
function vhosts(conf: string): string[] {
  return [...conf.matchAll(/<VirtualHost[^>]*>([\s\S]*?)<\/VirtualHost>/g)].map((m) => m[1]);
}

describe('renderApacheConf', () => {
  const conf = renderApacheConf(base);
  const [def, site] = vhosts(conf);

  test.each([
    ['KeepAliveTimeout 65', 'keep-alive outlives the ALB idle timeout'],
    ['ProxyTimeout 35', 'read timeout between worker and ALB timeouts'],
    ['GracefulShutdownTimeout 37', 'graceful stop bounded below the stop timeout'],
    ['LimitRequestFieldSize 32768', 'a 16 KB cookie fits'],
    ['ServerTokens Prod', 'no version banner'],
    ['TraceEnable Off', 'no TRACE'],
    ['ProxyPreserveHost On', 'Django sees the client Host'],
    ['PidFile /tmp/proxy/httpd.pid', 'pid in the writable run dir'],
    ['ErrorLog /proc/self/fd/2', 'errors to stderr'],
    ['CustomLog /proc/self/fd/1 django', 'access log to stdout'],
    ['Listen 8080', 'the port the ALB targets'],
  ])('contains %s (%s)', (line) => {
    expect(conf).toContain(line);
  });

  test('loads each module only if the binary lacks it (Debian compiles some in)', () => {
    for (const m of ['proxy', 'proxy_http', 'deflate', 'headers', 'rewrite']) {
      expect(conf).toContain(`<IfModule !${m}_module>\n    LoadModule ${m}_module modules/mod_${m}.so\n</IfModule>`);
    }
    expect(conf).not.toMatch(/^ServerRoot/m);
  });

  test('loads only the modules this config uses', () => {
    expect(conf).not.toContain('mod_proxy_uwsgi');
    expect(conf).not.toContain('mod_alias');
    const uwsgi = renderApacheConf({ ...base, upstreamProtocol: 'uwsgi', staticFiles: { urlPath: '/static/', root: '/srv/static', maxAgeSeconds: 60 } });
    expect(uwsgi).toContain('LoadModule proxy_uwsgi_module modules/mod_proxy_uwsgi.so');
    expect(uwsgi).toContain('LoadModule alias_module modules/mod_alias.so');
    expect(uwsgi).not.toContain('mod_proxy_http.so');
  });

  test('the default host answers only the health path, with an allowed Host and https, and 421 otherwise', () => {
    expect(def).toContain('RequestHeader set Host "example.com"');
    expect(def).toContain('RequestHeader set X-Forwarded-Proto "https"');
    expect(def).toContain('ProxyPass "/healthz" "http://127.0.0.1:8000/healthz" disablereuse=On retry=0 connectiontimeout=5 timeout=35');
    expect(def).toContain('RewriteRule ^ - [R=421,L]');
  });

  test('the site host matches the names Django-style and never reuses backend connections', () => {
    expect(site).toContain('ServerName example.com');
    expect(site).toContain('ServerAlias example.org *.example.org');
    expect(site).toContain('ProxyPass "/" "http://127.0.0.1:8000/" disablereuse=On retry=0 connectiontimeout=5 timeout=35');
  });

  test('refuses a declared body over the limit with 413', () => {
    expect(site).toMatch(/RewriteCond %\{HTTP:Content-Length\} -gt10485760\s+RewriteRule \^ - \[R=413,L\]/);
  });

  test('keeps the ALB\'s X-Forwarded-Proto and only fills it in when absent', () => {
    expect(site).toContain('RequestHeader set X-Forwarded-Proto "http" "expr=-z req(\'X-Forwarded-Proto\')"');
    expect(site).not.toMatch(/RequestHeader set X-Forwarded-Proto "https"/);
  });

  test('speaks the uwsgi protocol to uWSGI', () => {
    const [, s] = vhosts(renderApacheConf({ ...base, upstreamProtocol: 'uwsgi' }));
    expect(s).toContain('ProxyPass "/" "uwsgi://127.0.0.1:8000/"');
  });

  test('tunnels WebSocket paths with a read timeout above the ping interval', () => {
    const [, s] = vhosts(renderApacheConf({ ...base, websocketPaths: ['/ws/'], websocketReadTimeoutSeconds: 60 }));
    expect(s).toContain('ProxyPass "/ws/" "http://127.0.0.1:8000/ws/" disablereuse=On retry=0 connectiontimeout=5 timeout=60 upgrade=websocket');
    // more specific paths first: mod_proxy takes the first ProxyPass that matches
    expect(s.indexOf('ProxyPass "/ws/"')).toBeLessThan(s.indexOf('ProxyPass "/" '));
  });

  test('serves static files from the volume with Cache-Control', () => {
    const [, s] = vhosts(renderApacheConf({ ...base, staticFiles: { urlPath: '/static/', root: '/srv/static', maxAgeSeconds: 3600 } }));
    expect(s).toContain('ProxyPass "/static/" "!"');
    expect(s).toContain('Alias "/static/" "/srv/static/"');
    expect(s).toContain('Header set Cache-Control "public, max-age=3600"');
  });
});

describe('apacheProblems', () => {
  test('a valid config has none', () => {
    expect(apacheProblems(base)).toEqual([]);
  });

  test.each<[string, Partial<ApacheConfig>, string]>([
    ['no server names', { serverNames: [] }, 'allowedHosts'],
    ['a wildcard name', { serverNames: ['*'] }, 'allowedHosts'],
    ['a relative health path', { healthCheckPath: 'healthz' }, 'healthCheckPath'],
    ['WebSockets over uwsgi', { upstreamProtocol: 'uwsgi', websocketPaths: ['/ws/'] }, 'websocketPaths'],
    ['a zero body limit', { clientMaxBodyBytes: 0 }, 'clientMaxBodySize'],
    ['a fractional read timeout', { readTimeoutSeconds: 2.5 }, 'readTimeout'],
  ])('%s is reported against %s', (_name, change, prop) => {
    expect(apacheProblems({ ...base, ...change }).map((p) => p.prop)).toContain(prop);
  });
});

describe('apacheStartScript', () => {
  test('writes the conf and turns SIGTERM (and SIGWINCH) into the graceful stop', () => {
    const script = apacheStartScript('CONF', '/tmp/proxy');
    expect(script).toContain('printf \'%s\' "$CONF" > /tmp/proxy/httpd.conf');
    expect(script).toContain('httpd -DFOREGROUND -f /tmp/proxy/httpd.conf &');
    expect(script).toContain('trap \'kill -WINCH $pid 2>/dev/null\' TERM WINCH INT');
  });
});
