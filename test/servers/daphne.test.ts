import { DaphneConfig, daphneProblems, renderDaphneArgv } from '../../src/servers/daphne';

const base: DaphneConfig = {
  asgiModule: 'config.asgi:application',
  bindHost: '127.0.0.1',
  bindPort: 8000,
  proxyHeaders: true,
  pingIntervalSeconds: 20,
  pingTimeoutSeconds: 30,
  websocketTimeoutSeconds: 86400,
  applicationCloseTimeoutSeconds: 10,
};

/** The value after a flag that takes its value as the next element, as Daphne's argparse reads it. */
function flag(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i < 0 ? undefined : argv[i + 1];
}

describe('renderDaphneArgv', () => {
  const argv = renderDaphneArgv(base);

  test.each([
    ['-b', '127.0.0.1'],
    ['-p', '8000'],
    ['--ping-interval', '20'],
    ['--ping-timeout', '30'],
    ['--websocket_timeout', '86400'],
    ['--application-close-timeout', '10'],
    ['--access-log', '-'],
  ])('renders %s %s', (name, value) => {
    expect(flag(argv, name)).toBe(value);
  });

  test('starts with the daphne executable and ends with the application', () => {
    expect(argv[0]).toBe('daphne');
    expect(argv.at(-1)).toBe('config.asgi:application');
  });

  test('renders the whole argv in a stable order', () => {
    expect(argv).toEqual([
      'daphne', '-b', '127.0.0.1', '-p', '8000', '--proxy-headers',
      '--ping-interval', '20', '--ping-timeout', '30', '--websocket_timeout', '86400',
      '--application-close-timeout', '10', '--access-log', '-', 'config.asgi:application',
    ]);
  });

  test('renders --proxy-headers only when asked', () => {
    expect(argv).toContain('--proxy-headers');
    expect(renderDaphneArgv({ ...base, proxyHeaders: false })).not.toContain('--proxy-headers');
  });

  test('spells the WebSocket timeouts with underscores, as Daphne 4 does', () => {
    const all = renderDaphneArgv({ ...base, websocketConnectTimeoutSeconds: 5 });
    expect(flag(all, '--websocket_connect_timeout')).toBe('5');
    expect(all.filter((a) => a.startsWith('--websocket-'))).toEqual([]);
  });

  test('renders -1 for a WebSocket without a lifetime limit', () => {
    expect(flag(renderDaphneArgv({ ...base, websocketTimeoutSeconds: -1 }), '--websocket_timeout')).toBe('-1');
  });

  test('leaves the optional timeouts to Daphne unless given', () => {
    expect(argv).not.toContain('--http-timeout');
    expect(argv).not.toContain('--websocket_connect_timeout');
    expect(flag(renderDaphneArgv({ ...base, httpTimeoutSeconds: 25 }), '--http-timeout')).toBe('25');
  });

  test('inserts extra args before the application, verbatim', () => {
    const extra = renderDaphneArgv({ ...base, extraArgs: ['--root-path', '/app', '-e', 'ssl:8443:privateKey=k.pem'] });
    expect(extra.slice(-5)).toEqual(['--root-path', '/app', '-e', 'ssl:8443:privateKey=k.pem', 'config.asgi:application']);
  });

  test('refuses to render an invalid config', () => {
    expect(() => renderDaphneArgv({ ...base, pingIntervalSeconds: 0 })).toThrow(/pingInterval/);
  });
});

describe('daphneProblems', () => {
  test('a valid config has none', () => {
    expect(daphneProblems(base)).toEqual([]);
  });

  test.each<[string, Partial<DaphneConfig>, string]>([
    ['a module without an object', { asgiModule: 'config.asgi' }, 'asgiModule'],
    ['an application factory call', { asgiModule: 'config.asgi:make_app()' }, 'asgiModule'],
    ['a module with a space', { asgiModule: 'config asgi:application' }, 'asgiModule'],
    ['a port out of range', { bindPort: 70000 }, 'port'],
    ['zero ping interval', { pingIntervalSeconds: 0 }, 'pingInterval'],
    ['fractional ping interval', { pingIntervalSeconds: 2.5 }, 'pingInterval'],
    ['zero ping timeout', { pingTimeoutSeconds: 0 }, 'pingTimeout'],
    ['zero WebSocket timeout', { websocketTimeoutSeconds: 0 }, 'websocketTimeout'],
    ['a negative WebSocket timeout other than -1', { websocketTimeoutSeconds: -5 }, 'websocketTimeout'],
    ['-1 connect timeout', { websocketConnectTimeoutSeconds: -1 }, 'websocketConnectTimeout'],
    ['zero application close timeout', { applicationCloseTimeoutSeconds: 0 }, 'applicationCloseTimeout'],
    ['zero HTTP timeout', { httpTimeoutSeconds: 0 }, 'httpTimeout'],
    ['fractional HTTP timeout', { httpTimeoutSeconds: 1.5 }, 'httpTimeout'],
  ])('%s is reported against %s', (_name, change, prop) => {
    const problems = daphneProblems({ ...base, ...change });
    expect(problems.map((p) => p.prop)).toContain(prop);
  });

  test('a module with a dotted object path is fine (Daphne follows attributes)', () => {
    expect(daphneProblems({ ...base, asgiModule: 'config.routing:router.application' })).toEqual([]);
  });
});

describe('daphneProblems on extraArgs', () => {
  test.each<[readonly string[]]>([
    [['--root-path', '/app']],
    [['--root-path=/app']],
    [['-e', 'ssl:8443:privateKey=key.pem:certKey=cert.pem']],
    [['-v', '2', '--no-server-name']],
    [['--proxy-headers-host', 'X-Real-IP']],
    [['--log-f', '%(message)s']],
    [['--websocket-max-message-size', '2097152']], // Daphne 4.2+
  ])('accepts %j', (extraArgs) => {
    expect(daphneProblems({ ...base, extraArgs })).toEqual([]);
  });

  test.each<[readonly string[], RegExp]>([
    [['--ping-interval', '5'], /set pingInterval instead/],
    [['--ping-int=5'], /set pingInterval instead/],
    [['-t', '5'], /set httpTimeout instead/],
    [['-p9000'], /overrides --port, which the library fixes/],
    [['--bind', '0.0.0.0'], /which the library fixes/],
    [['--websocket_connect_timeout', '9'], /set websocketConnectTimeout instead/],
    [['--websocket-timeout', '60'], /no flag '--websocket-timeout' \(Daphne spells it --websocket_timeout\)/],
    [['--keep-alive', '75'], /no flag '--keep-alive'/],
    [['--proxy-headers-h'], /needs a value/],
    [['--websocket', '60'], /'--websocket' is ambiguous/],
    [['--root-path'], /needs a value/],
    [['config.asgi:other'], /not a flag/],
  ])('reports %j against extraArgs', (extraArgs, message) => {
    const problems = daphneProblems({ ...base, extraArgs });
    expect(problems.map((p) => p.prop)).toEqual(problems.map(() => 'extraArgs'));
    expect(problems.map((p) => p.message).join('\n')).toMatch(message);
  });
});
