/**
 * The machine-wide lock every run with real servers takes (the loopback ports are shared): held by a
 * `flock` child for as long as one layout runs, released when it ends or this process dies.
 */
import { spawn } from 'node:child_process';

export const SERVERS_LOCK = '/tmp/cdk-django-servers.lock';

export async function withServerLock<T>(fn: () => Promise<T>): Promise<T> {
  const holder = spawn('flock', [SERVERS_LOCK, 'sh', '-c', 'echo locked; exec cat'], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    holder.stdout.on('data', (d) => { if (String(d).includes('locked')) resolve(); });
    holder.on('exit', (code) => reject(new Error(`flock ${SERVERS_LOCK} exited ${code}`)));
  });
  try {
    return await fn();
  } finally {
    holder.stdin.end();
    await new Promise((r) => holder.once('exit', r));
  }
}
