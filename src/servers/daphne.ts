import { isWholeNumber } from '../numbers';
import { Problem, RenderError } from '../problems';

/** Everything the Daphne command line is rendered from. Pure data, in whole seconds (Daphne parses ints). */
export interface DaphneConfig {
  /** `module:object.path` of the ASGI application, e.g. a Channels `ProtocolTypeRouter`. */
  readonly asgiModule: string;
  readonly bindHost: string;
  readonly bindPort: number;
  /**
   * Take the client address and scheme from X-Forwarded-For/-Port/-Proto. Daphne trusts these from
   * any peer, so only set it when nothing but the proxy or the load balancer can reach the port.
   */
  readonly proxyHeaders: boolean;
  /** Ping an idle WebSocket this often; below every idle timeout on the path (proxy read, ALB idle). */
  readonly pingIntervalSeconds: number;
  /** Close a WebSocket whose client leaves a ping unanswered this long. */
  readonly pingTimeoutSeconds: number;
  /** Longest lifetime of one WebSocket; -1 for no limit (Daphne's spelling; 0 closes every socket within 2 s). */
  readonly websocketTimeoutSeconds: number;
  /** How long the app's `websocket.connect` handler gets to accept. @default - Daphne's 5 s */
  readonly websocketConnectTimeoutSeconds?: number;
  /** How long the app gets to finish after its client disconnects before Daphne cancels it. */
  readonly applicationCloseTimeoutSeconds: number;
  /** Answer 503 when the app has not answered an HTTP request in this long. @default - no limit */
  readonly httpTimeoutSeconds?: number;
  /** Extra flags inserted before the application, for options this library does not model. */
  readonly extraArgs?: readonly string[];
}

// The flags the renderer sets itself, and the prop that changes each; a copy in extraArgs would
// silently override the validated value (argparse keeps the last one).
// undefined: fixed by the library (the port the proxy or the target group expects, the bind address).
const MODELLED: Record<string, string | undefined> = {
  '--bind': undefined,
  '--port': undefined,
  '--proxy-headers': undefined,
  '--ping-interval': 'pingInterval',
  '--ping-timeout': 'pingTimeout',
  '--websocket_timeout': 'websocketTimeout',
  '--websocket_connect_timeout': 'websocketConnectTimeout',
  '--application-close-timeout': 'applicationCloseTimeout',
  '--http-timeout': 'httpTimeout',
  '--access-log': undefined,
};

// Every long option of Daphne 4's argparse parser (4.2 added the two WebSocket size limits; 4.1
// exits on them). An unknown flag makes Daphne exit at start, which on ECS is a crash loop instead
// of a synth error.
const VALUE_FLAGS = [
  '--port', '--bind', '--websocket_timeout', '--websocket_connect_timeout', '--unix-socket', '--fd',
  '--endpoint', '--verbosity', '--http-timeout', '--access-log', '--log-fmt', '--ping-interval',
  '--ping-timeout', '--application-close-timeout', '--root-path', '--proxy-headers-host',
  '--proxy-headers-port', '--server-name', '--websocket-max-frame-size', '--websocket-max-message-size',
];
const SWITCH_FLAGS = ['--help', '--proxy-headers', '--no-server-name'];
const LONG_FLAGS = [...VALUE_FLAGS, ...SWITCH_FLAGS];
const SHORT_FLAGS = new Map([
  ['-h', '--help'], ['-p', '--port'], ['-b', '--bind'], ['-u', '--unix-socket'], ['-e', '--endpoint'],
  ['-v', '--verbosity'], ['-t', '--http-timeout'], ['-s', '--server-name'],
]);

/** Resolves a flag the way argparse does (exact name, else a unique prefix); undefined if unknown or ambiguous. */
function resolveFlag(flag: string): string | undefined {
  if (!flag.startsWith('--')) return SHORT_FLAGS.get(flag.slice(0, 2));
  if (LONG_FLAGS.includes(flag)) return flag;
  const hits = LONG_FLAGS.filter((f) => f.startsWith(flag));
  return hits.length === 1 ? hits[0] : undefined;
}

function extraArgsProblems(args: readonly string[]): Problem[] {
  const problems: Problem[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('-') || /^-\d/.test(arg)) {
      // A value with no flag before it would be read as a second application and stop Daphne.
      problems.push({ prop: 'extraArgs', message: `'${arg}' is not a flag nor the value of one; give flags with their values, e.g. ['--root-path', '/app']` });
      continue;
    }
    const name = arg.startsWith('--') ? arg.split('=')[0] : arg;
    const flag = resolveFlag(name);
    const candidates = LONG_FLAGS.filter((f) => name.startsWith('--') && f.startsWith(name));
    if (flag === undefined && candidates.length > 1) {
      problems.push({ prop: 'extraArgs', message: `'${name}' is ambiguous in Daphne 4 (${candidates.join(', ')}); it would exit at start` });
      continue;
    }
    if (flag === undefined) {
      const underscored = `--${name.slice(2).replace(/-/g, '_')}`;
      const hint = name.startsWith('--') && LONG_FLAGS.includes(underscored) ? ` (Daphne spells it ${underscored})` : '';
      problems.push({ prop: 'extraArgs', message: `Daphne 4 has no flag '${name}'${hint}; it would exit at start` });
      continue;
    }
    if (flag in MODELLED) {
      const prop = MODELLED[flag];
      problems.push({
        prop: 'extraArgs',
        message: prop ? `'${arg}' overrides ${flag}; set ${prop} instead` : `'${arg}' overrides ${flag}, which the library fixes (the proxy and the load balancer rely on it); remove it`,
      });
    }
    // Consume the flag's value when it is the next element (not `--x=v`, not `-pVALUE`).
    const inline = arg.startsWith('--') ? arg.includes('=') : arg.length > 2;
    if (VALUE_FLAGS.includes(flag) && !inline) {
      if (i + 1 >= args.length) {
        // The flag would swallow the application module that follows the extra args.
        problems.push({ prop: 'extraArgs', message: `'${arg}' needs a value` });
      }
      i++;
    }
  }
  return problems;
}

/** Everything wrong with a config, as problems naming the construct prop to change. */
export function daphneProblems(c: DaphneConfig): Problem[] {
  const problems: Problem[] = [];
  if (!/^[A-Za-z_][\w.]*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$/.test(c.asgiModule)) {
    // Daphne only looks attributes up: it cannot call an application factory.
    problems.push({ prop: 'asgiModule', message: `'${c.asgiModule}' is not 'package.module:object' (e.g. 'mysite.asgi:application')` });
  }
  if (!isWholeNumber(c.bindPort, 1) || c.bindPort > 65535) {
    problems.push({ prop: 'port', message: `must be a TCP port from 1 to 65535, got ${c.bindPort}` });
  }
  if (!isWholeNumber(c.pingIntervalSeconds, 1)) {
    problems.push({ prop: 'pingInterval', message: `must be a whole number of seconds >= 1, got ${c.pingIntervalSeconds}` });
  }
  if (!isWholeNumber(c.pingTimeoutSeconds, 1)) {
    // 0 would turn the check off, and sockets of vanished clients would stay open until websocketTimeout.
    problems.push({ prop: 'pingTimeout', message: `must be a whole number of seconds >= 1, got ${c.pingTimeoutSeconds}` });
  }
  if (c.websocketTimeoutSeconds !== -1 && !isWholeNumber(c.websocketTimeoutSeconds, 1)) {
    problems.push({ prop: 'websocketTimeout', message: `must be a whole number of seconds >= 1, or -1 for no limit (Daphne closes every socket within 2 s with 0), got ${c.websocketTimeoutSeconds}` });
  }
  if (c.websocketConnectTimeoutSeconds !== undefined && !isWholeNumber(c.websocketConnectTimeoutSeconds, 1)) {
    // Despite Daphne's help text, -1 is not 'infinite': with -1 or 0 Daphne answers 403 to every
    // handshake the app has not accepted by its next timeout check (every 2 s).
    problems.push({ prop: 'websocketConnectTimeout', message: `must be a whole number of seconds >= 1 (with 0 or -1 Daphne rejects slow handshakes at once), got ${c.websocketConnectTimeoutSeconds}` });
  }
  if (!isWholeNumber(c.applicationCloseTimeoutSeconds, 1)) {
    problems.push({ prop: 'applicationCloseTimeout', message: `must be a whole number of seconds >= 1, got ${c.applicationCloseTimeoutSeconds}` });
  }
  if (c.httpTimeoutSeconds !== undefined && !isWholeNumber(c.httpTimeoutSeconds, 1)) {
    problems.push({ prop: 'httpTimeout', message: `must be a whole number of seconds >= 1 (leave it unset for no limit), got ${c.httpTimeoutSeconds}` });
  }
  problems.push(...extraArgsProblems(c.extraArgs ?? []));
  return problems;
}

/**
 * Renders the Daphne argv. The construct sets it as the app container's command, and the
 * integration tests run exactly this argv with a real Daphne.
 */
export function renderDaphneArgv(c: DaphneConfig): string[] {
  const problems = daphneProblems(c);
  if (problems.length > 0) throw new RenderError(problems);
  const argv = ['daphne', '-b', c.bindHost, '-p', String(c.bindPort)];
  if (c.proxyHeaders) argv.push('--proxy-headers');
  argv.push(
    '--ping-interval', String(c.pingIntervalSeconds),
    '--ping-timeout', String(c.pingTimeoutSeconds),
    // Daphne spells these two with underscores; the hyphenated form is an argparse error.
    '--websocket_timeout', String(c.websocketTimeoutSeconds),
  );
  if (c.websocketConnectTimeoutSeconds !== undefined) {
    argv.push('--websocket_connect_timeout', String(c.websocketConnectTimeoutSeconds));
  }
  argv.push('--application-close-timeout', String(c.applicationCloseTimeoutSeconds));
  if (c.httpTimeoutSeconds !== undefined) argv.push('--http-timeout', String(c.httpTimeoutSeconds));
  // Daphne logs access by default only at verbosity >= 1; explicit, so a '-v 0' in extraArgs keeps it.
  argv.push('--access-log', '-');
  argv.push(...(c.extraArgs ?? []));
  // Last, so the extra args can never be read as its value nor push it out of place.
  argv.push(c.asgiModule);
  return argv;
}
