/**
 * PostgreSQL (TLS required, SCRAM passwords) and Redis (TLS only, AUTH) on loopback, on the ports the
 * constructs choose, for the suites that need the data tier. One self-signed certificate serves both.
 * Callers hold the suite's server lock (the ports are fixed) and call `stop()` when done.
 */
import { execFileSync, spawn, spawnSync, ChildProcess } from 'node:child_process';
import { postgresBinaries, startPostgres } from './postgres';
import { waitForPort } from './task';

export interface DataServers {
  /** Scratch directory (certificate, data directory, sockets); removed by `stop()`. */
  readonly dir: string;
  /** The certificate both servers present: point `SSL_CERT_FILE` of clients at it. */
  readonly certFile: string;
  /** PostgreSQL's binaries. */
  readonly pgBin: string;
  /** Everything both servers printed so far. */
  logs(): string;
  /** Runs SQL as the master over TLS (psql), returning its output; throws with the server logs on failure. */
  psql(sql: string, database?: string): string;
  /** Runs a Redis command over TLS as `default` with `password` (redis-cli), returning its output. */
  redis(password: string, ...args: string[]): string;
  /** Stops both servers and removes the scratch directory. */
  stop(): void;
}

export interface DataServerOptions {
  readonly dbPort: number;
  readonly redisPort: number;
  /** The master user created by initdb. */
  readonly dbUser: string;
  readonly dbPassword: string;
  /** A database created for the app, owned by the master (as RDS creates it). */
  readonly dbName: string;
  readonly redisPassword: string;
}

export async function startDataServers(o: DataServerOptions): Promise<DataServers> {
  const postgres = await startPostgres({ port: o.dbPort, password: o.dbPassword, database: o.dbName, user: o.dbUser });
  const pgBin = postgresBinaries();
  let redisLogs = '';
  const redisServer: ChildProcess = spawn('redis-server', ['--port', '0', '--tls-port', String(o.redisPort), '--bind', '127.0.0.1',
    '--tls-cert-file', postgres.certFile, '--tls-key-file', postgres.keyFile, '--tls-ca-cert-file', postgres.certFile,
    '--tls-auth-clients', 'no', '--requirepass', o.redisPassword, '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  redisServer.stdout!.on('data', (d) => { redisLogs += d; });
  redisServer.stderr!.on('data', (d) => { redisLogs += d; });
  const logs = () => postgres.logs() + redisLogs;
  const stop = () => {
    redisServer.kill('SIGTERM');
    postgres.stop();
  };
  try {
    await waitForPort(o.redisPort, 20_000, logs);
  } catch (e) {
    stop();
    throw e;
  }

  const pgEnv = { ...process.env, PGPASSWORD: o.dbPassword, PGSSLMODE: 'require' };
  const psql = (sql: string, database = o.dbName) => {
    const res = spawnSync(`${pgBin}/psql`, ['-h', '127.0.0.1', '-p', String(o.dbPort), '-U', o.dbUser, '-d', database, '-v', 'ON_ERROR_STOP=1', '-tAc', sql],
      { env: pgEnv, encoding: 'utf8' });
    if (res.status !== 0) throw new Error(`psql failed: ${res.stderr}\n${logs()}`);
    return res.stdout.trim();
  };
  const redis = (password: string, ...args: string[]) => execFileSync('redis-cli', ['--tls', '--insecure', '-h', '127.0.0.1', '-p', String(o.redisPort),
    '--user', 'default', '--pass', password, '--no-auth-warning', ...args], { encoding: 'utf8' }).trim();
  return { dir: postgres.dir, certFile: postgres.certFile, pgBin, logs, psql, redis, stop };
}
