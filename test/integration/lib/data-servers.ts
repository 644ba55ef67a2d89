/**
 * PostgreSQL (TLS required, SCRAM passwords) and Redis (TLS only, AUTH) on loopback, on the ports the
 * constructs choose, for the suites that need the data tier. One self-signed certificate serves both.
 * Callers hold the suite's server lock (the ports are fixed) and call `stop()` when done.
 */
import { execFileSync, spawn, spawnSync, ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  const pgBin = readdirSync('/usr/lib/postgresql').map((v) => `/usr/lib/postgresql/${v}/bin`).find((d) => existsSync(`${d}/postgres`))!;
  const asPostgres = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : [];
  const dir = mkdtempSync(join(tmpdir(), 'cdk-django-data-'));
  const servers: ChildProcess[] = [];
  let serverLogs = '';
  const run = (argv: string[]) => {
    const [cmd, ...args] = [...asPostgres, ...argv];
    execFileSync(cmd, args, { stdio: 'pipe' });
  };
  const stop = () => {
    for (const s of servers) s.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'pipe' });

    const pgData = join(dir, 'pg');
    writeFileSync(join(dir, 'pwfile'), o.dbPassword);
    if (asPostgres.length) {
      const { uid, gid } = JSON.parse(execFileSync('python3', ['-c', 'import pwd,json;p=pwd.getpwnam("postgres");print(json.dumps({"uid":p.pw_uid,"gid":p.pw_gid}))'], { encoding: 'utf8' }));
      for (const f of ['', 'pwfile', 'key.pem', 'cert.pem']) chownSync(join(dir, f), uid, gid);
    }
    chmodSync(join(dir, 'key.pem'), 0o600);
    run([`${pgBin}/initdb`, '-D', pgData, '-U', o.dbUser, '--pwfile', join(dir, 'pwfile'), '-A', 'scram-sha-256']);
    writeFileSync(join(pgData, 'pg_hba.conf'), 'local all all scram-sha-256\nhostssl all all 127.0.0.1/32 scram-sha-256\n');
    if (asPostgres.length) run(['chmod', '600', join(pgData, 'pg_hba.conf')]);
    const [pgCmd, ...pgArgs] = [...asPostgres, `${pgBin}/postgres`, '-D', pgData, '-c', 'listen_addresses=127.0.0.1', '-c', `port=${o.dbPort}`,
      '-c', `unix_socket_directories=${dir}`, '-c', 'ssl=on', '-c', `ssl_cert_file=${join(dir, 'cert.pem')}`, '-c', `ssl_key_file=${join(dir, 'key.pem')}`];
    servers.push(spawn(pgCmd, pgArgs, { stdio: ['ignore', 'pipe', 'pipe'] }));

    servers.push(spawn('redis-server', ['--port', '0', '--tls-port', String(o.redisPort), '--bind', '127.0.0.1',
      '--tls-cert-file', join(dir, 'cert.pem'), '--tls-key-file', join(dir, 'key.pem'), '--tls-ca-cert-file', join(dir, 'cert.pem'),
      '--tls-auth-clients', 'no', '--requirepass', o.redisPassword, '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] }));
    for (const s of servers) {
      s.stdout!.on('data', (d) => { serverLogs += d; });
      s.stderr!.on('data', (d) => { serverLogs += d; });
    }
    await waitForPort(o.dbPort, 20_000, () => serverLogs);
    await waitForPort(o.redisPort, 20_000, () => serverLogs);
    // the port opens before PostgreSQL accepts connections
    for (let i = 0; i < 100 && spawnSync(`${pgBin}/pg_isready`, ['-h', '127.0.0.1', '-p', String(o.dbPort)]).status !== 0; i++) {
      await new Promise((r) => setTimeout(r, 200));
    }
  } catch (e) {
    stop();
    throw e;
  }

  const pgEnv = { ...process.env, PGPASSWORD: o.dbPassword, PGSSLMODE: 'require' };
  const psql = (sql: string, database = o.dbName) => {
    const res = spawnSync(`${pgBin}/psql`, ['-h', '127.0.0.1', '-p', String(o.dbPort), '-U', o.dbUser, '-d', database, '-v', 'ON_ERROR_STOP=1', '-tAc', sql],
      { env: pgEnv, encoding: 'utf8' });
    if (res.status !== 0) throw new Error(`psql failed: ${res.stderr}\n${serverLogs}`);
    return res.stdout.trim();
  };
  const created = spawnSync(`${pgBin}/createdb`, ['-h', '127.0.0.1', '-p', String(o.dbPort), '-U', o.dbUser, o.dbName], { env: pgEnv, encoding: 'utf8' });
  if (created.status !== 0) {
    stop();
    throw new Error(`createdb failed: ${created.stderr}\n${serverLogs}`);
  }
  const redis = (password: string, ...args: string[]) => execFileSync('redis-cli', ['--tls', '--insecure', '-h', '127.0.0.1', '-p', String(o.redisPort),
    '--user', 'default', '--pass', password, '--no-auth-warning', ...args], { encoding: 'utf8' }).trim();
  return { dir, certFile: join(dir, 'cert.pem'), pgBin, logs: () => serverLogs, psql, redis, stop };
}
