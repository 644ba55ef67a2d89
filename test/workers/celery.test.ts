import {
  CeleryPool, CeleryWorkerConfig, celeryBeatProblems, celeryWorkerProblems, defaultCeleryConcurrency,
  renderCeleryBeatArgv, renderCeleryWorkerArgv,
} from '../../src/workers/celery';
import { flag } from '../helpers/template';

const base: CeleryWorkerConfig = {
  app: 'config',
  pool: CeleryPool.PREFORK,
  concurrency: 4,
  prefetchMultiplier: 1,
  softTimeLimitSeconds: 60,
  timeLimitSeconds: 90,
  maxTasksPerChild: 1000,
  queues: ['celery'],
  logLevel: 'INFO',
};

describe('renderCeleryWorkerArgv', () => {
  const argv = renderCeleryWorkerArgv(base);

  test('the app is a global option, before the worker subcommand (Celery 5)', () => {
    expect(argv.slice(0, 3)).toEqual(['celery', '--app=config', 'worker']);
  });

  test.each([
    ['loglevel', 'INFO'],
    ['pool', 'prefork'],
    ['concurrency', '4'],
    ['prefetch-multiplier', '1'],
    ['soft-time-limit', '60'],
    ['time-limit', '90'],
    ['queues', 'celery'],
    ['hostname', 'worker@%h'],
    ['max-tasks-per-child', '1000'],
  ])('--%s=%s', (name, value) => {
    expect(flag(argv, name)).toBe(value);
  });

  test('no worker-to-worker chatter: without gossip, mingle and event heartbeats', () => {
    expect(argv).toEqual(expect.arrayContaining(['--without-gossip', '--without-mingle', '--without-heartbeat']));
  });

  test('max-tasks-per-child only for prefork, and 0 leaves it out', () => {
    expect(flag(renderCeleryWorkerArgv({ ...base, pool: CeleryPool.THREADS }), 'max-tasks-per-child')).toBeUndefined();
    expect(flag(renderCeleryWorkerArgv({ ...base, maxTasksPerChild: 0 }), 'max-tasks-per-child')).toBeUndefined();
  });

  test('several queues, comma-separated, and extra flags at the end', () => {
    const a = renderCeleryWorkerArgv({ ...base, queues: ['high', 'low'], extraArgs: ['--events'] });
    expect(flag(a, 'queues')).toBe('high,low');
    expect(a[a.length - 1]).toBe('--events');
  });
});

test.each([
  [0.25, 2], [0.5, 2], [1, 2], [2, 4], [4, 8], [16, 32],
])('default concurrency for %s vCPU is %s (2 per vCPU, at least 2)', (vcpu, n) => {
  expect(defaultCeleryConcurrency(vcpu)).toBe(n);
});

describe('celeryWorkerProblems names the prop and the fix', () => {
  test.each<[string, Partial<CeleryWorkerConfig>, RegExp]>([
    ['app', { app: 'config/celery.py' }, /^app: 'config\/celery\.py' is not a Celery app/],
    ['concurrency', { concurrency: 0 }, /^concurrency: must be a whole number from 1 to 256/],
    ['solo with concurrency', { pool: CeleryPool.SOLO, concurrency: 4 }, /^concurrency: the solo pool runs one task at a time/],
    ['prefetch', { prefetchMultiplier: 0 }, /^prefetchMultiplier: must be a whole number >= 1/],
    ['hard limit not above soft', { timeLimitSeconds: 60 }, /^timeLimit: \(60 s\) must be longer than softTimeLimit \(60 s\)/],
    ['fractional soft limit', { softTimeLimitSeconds: 1.5 }, /^softTimeLimit: must be a whole number of seconds/],
    ['no queue', { queues: [] }, /^queues: give at least one queue/],
    ['queue name', { queues: ['a.b'] }, /^queues: 'a\.b' is not a queue name/],
    ['log level', { logLevel: 'info' }, /^logLevel: must be one of/],
  ])('%s', (_label, change, message) => {
    const problems = celeryWorkerProblems({ ...base, ...change });
    expect(problems.map((p) => `${p.prop}: ${p.message}`)).toEqual([expect.stringMatching(message)]);
    expect(() => renderCeleryWorkerArgv({ ...base, ...change })).toThrow(/RenderError|must|not|give|solo/);
  });

  test('a valid config has none', () => {
    expect(celeryWorkerProblems(base)).toEqual([]);
  });
});

describe('renderCeleryBeatArgv', () => {
  test('schedule in /tmp and no pidfile, since the image\'s working directory is not writable', () => {
    expect(renderCeleryBeatArgv({ app: 'config', logLevel: 'INFO' }))
      .toEqual(['celery', '--app=config', 'beat', '--loglevel=INFO', '--schedule=/tmp/celerybeat-schedule', '--pidfile=']);
  });

  test('a scheduler class replaces the schedule file', () => {
    const argv = renderCeleryBeatArgv({ app: 'config', logLevel: 'INFO', scheduler: 'django_celery_beat.schedulers:DatabaseScheduler' });
    expect(flag(argv, 'scheduler')).toBe('django_celery_beat.schedulers:DatabaseScheduler');
    expect(flag(argv, 'schedule')).toBeUndefined();
  });

  test('a bad scheduler is a problem naming it', () => {
    expect(celeryBeatProblems({ app: 'config', logLevel: 'INFO', scheduler: 'not a class' }).map((p) => p.prop)).toEqual(['scheduler']);
  });
});
