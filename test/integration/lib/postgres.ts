/**
 * A real PostgreSQL on loopback, as DjangoDatabase's settings expect it: TLS on (a self-signed
 * certificate for 127.0.0.1), password (SCRAM) authentication over TLS only, on the port the construct
 * chose, with the database Django uses created. Runs Debian's server as the postgres user when the
 * suite runs as root. `stop()` ends the server and removes its directory.
 */
import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitForPort } from './task';

export interface PostgresOptions {
  /** Port on 127.0.0.1 (DATABASE_PORT as synthesized). */
  readonly port: number;
  /** Password of the superuser `user`. */
  readonly password: string;
  /** Database to create (DATABASE_NAME), as RDS creates the default database. */
  readonly database: string;
  /** @default 'django' (DjangoDatabase's master user) */
  readonly user?: string;
}

export interface RunningPostgres {
  /** Holds `cert.pem` and `key.pem` (also usable by other TLS servers of a test) and the data directory. */
  readonly dir: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** Server output so far, for failure messages. */
  logs(): string;
  stop(): void;
}

/** The directory of Debian's PostgreSQL server binaries (whichever major version is installed). */
export const postgresBinaries = () => readdirSync('/usr/lib/postgresql').map((v) => `/usr/lib/postgresql/${v}/bin`).find((d) => existsSync(`${d}/postgres`))!;
const asPostgres = () => (process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : []);

function run(argv: string[]): void {
  const [cmd, ...args] = [...asPostgres(), ...argv];
  execFileSync(cmd, args, { stdio: 'pipe' });
}

/** Starts PostgreSQL and resolves once it accepts TLS connections with the password and the database exists. */
export async function startPostgres(options: PostgresOptions): Promise<RunningPostgres> {
  const user = options.user ?? 'django';
  const bin = postgresBinaries();
  const dir = mkdtempSync(join(tmpdir(), 'cdk-django-pg-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  let serverLogs = '';
  let server: ChildProcess | undefined;
  const stop = () => {
    server?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile], { stdio: 'pipe' });
    const pgData = join(dir, 'pg');
    writeFileSync(join(dir, 'pwfile'), options.password);
    if (asPostgres().length) {
      const [uid, gid] = ['-u', '-g'].map((flag) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim()));
      for (const f of ['', 'pwfile', 'key.pem', 'cert.pem']) chownSync(join(dir, f), uid, gid);
    }
    chmodSync(keyFile, 0o600);
    run([`${bin}/initdb`, '-D', pgData, '-U', user, '--pwfile', join(dir, 'pwfile'), '-A', 'scram-sha-256']);
    writeFileSync(join(pgData, 'pg_hba.conf'), 'local all all scram-sha-256\nhostssl all all 127.0.0.1/32 scram-sha-256\n');
    if (asPostgres().length) run(['chmod', '600', join(pgData, 'pg_hba.conf')]);
    const [cmd, ...args] = [...asPostgres(), `${bin}/postgres`, '-D', pgData, '-c', 'listen_addresses=127.0.0.1', '-c', `port=${options.port}`,
      '-c', `unix_socket_directories=${dir}`, '-c', 'ssl=on', '-c', `ssl_cert_file=${certFile}`, '-c', `ssl_key_file=${keyFile}`];
    server = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout!.on('data', (d) => { serverLogs += d; });
    server.stderr!.on('data', (d) => { serverLogs += d; });
    await waitForPort(options.port, 20_000, () => serverLogs);
    // the port opens before PostgreSQL accepts connections
    for (let i = 0; i < 100 && spawnSync(`${bin}/pg_isready`, ['-h', '127.0.0.1', '-p', String(options.port)]).status !== 0; i++) {
      await new Promise((r) => setTimeout(r, 200));
    }
    const created = spawnSync(`${bin}/createdb`, ['-h', '127.0.0.1', '-p', String(options.port), '-U', user, options.database],
      { env: { ...process.env, PGPASSWORD: options.password, PGSSLMODE: 'require' }, encoding: 'utf8' });
    if (created.status !== 0) throw new Error(`createdb failed: ${created.stderr}\n${serverLogs}`);
  } catch (e) {
    stop();
    throw e;
  }
  return { dir, certFile, keyFile, logs: () => serverLogs, stop };
}

/**
 * Renders a CloudFormation value with every Ref/GetAtt (an endpoint address) replaced by loopback.
 * `special` may render a token itself first (return undefined to fall back to loopback).
 */
export function onLoopback(value: any, special?: (token: any) => string | undefined): string {
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  if (value['Fn::Join']) return value['Fn::Join'][1].map((part: any) => onLoopback(part, special)).join(value['Fn::Join'][0]);
  const own = special?.(value);
  if (own !== undefined) return own;
  if (value.Ref || value['Fn::GetAtt']) return '127.0.0.1';
  throw new Error(`cannot render ${JSON.stringify(value)}`);
}
