// The Python side of the real-server suite: the README's versions table is generated from the locks, the
// image installs the same versions the suite ran, and the Dockerfile's Python is the one the lock is for.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BEGIN, END, currentTable, parseLock, renderTable, replaceBlock, requirementNames } from '../scripts/python-versions';

const root = join(__dirname, '..');
const read = (p: string) => readFileSync(join(root, p), 'utf8');
const imageLock = parseLock(read('examples/mysite/requirements.txt'));
const latest = parseLock(read('test/integration/python/latest.txt'));
const floor = parseLock(read('test/integration/python/floor.txt'));

/** Pins of `lock` that `other` lacks or pins differently. */
function differences(lock: ReturnType<typeof parseLock>, other: ReturnType<typeof parseLock>): string[] {
  return [...lock.pins].filter(([n, v]) => other.pins.get(n) !== v).map(([n, v]) => `${n}==${v} (other: ${other.pins.get(n) ?? 'missing'})`);
}

/** The Python minor version of the Dockerfile's base image. */
function dockerfilePython(dockerfile: string): string | undefined {
  return dockerfile.match(/^FROM python:(\d+\.\d+)/m)?.[1];
}

describe('the README table of Python versions', () => {
  test('is the table the lock files give', () => {
    const readme = read('README.md');
    expect(readme.slice(readme.indexOf(BEGIN) + BEGIN.length, readme.indexOf(END)).trim()).toBe(currentTable());
  });

  test('negative: a lock pinning another Django gives another table, so the README check fails', () => {
    const readme = read('README.md');
    const changed = parseLock(read('test/integration/python/latest.txt').replace(/^django==\S+/m, 'django==9.9.9'));
    const names = requirementNames(read('examples/mysite/requirements.in'));
    const table = renderTable(names, [['floor (smoke subset)', floor], ['latest (whole suite, the image)', changed]]);
    expect(table).toContain('| django | 5.2');
    expect(replaceBlock(readme, table)).not.toBe(readme);
  });

  test('negative: a requirement missing from a lock is an error naming it, not an empty cell', () => {
    const names = [...requirementNames(read('examples/mysite/requirements.in')), 'not-locked'];
    expect(() => renderTable(names, [['latest', latest]])).toThrow(/not-locked is not pinned in the latest lock/);
  });

  test('reads the project names of a .in file the way pip does (extras and bounds dropped, case and _ folded)', () => {
    expect(requirementNames('# c\n-r other.in\nDjango>=5.2,<6.2\npsycopg[binary]>=3.2\nChannels_Redis>=4.2  # why\n'))
      .toEqual(['django', 'psycopg', 'channels-redis']);
  });
});

describe('the locks', () => {
  test('the suite\'s latest column installs exactly the image\'s versions', () => {
    expect(differences(imageLock, latest)).toEqual([]);
  });

  test('negative: a suite lock that drifted from the image\'s lock is caught', () => {
    const drifted = parseLock(read('test/integration/python/latest.txt').replace(/^gunicorn==\S+/m, 'gunicorn==23.0.0'));
    expect(differences(imageLock, drifted)).toEqual([expect.stringMatching(/^gunicorn==\S+ \(other: 23\.0\.0\)$/)]);
  });

  test('the Dockerfile\'s Python is the one the image\'s lock was compiled for', () => {
    expect(dockerfilePython(read('examples/mysite/Dockerfile'))).toBe(imageLock.python);
  });

  test('negative: another base image Python is caught', () => {
    expect(dockerfilePython(read('examples/mysite/Dockerfile').replace(/FROM python:\S+/, 'FROM python:3.11-slim'))).not.toBe(imageLock.python);
  });

  test('every pin carries hashes (pip install --require-hashes needs them)', () => {
    for (const file of ['examples/mysite/requirements.txt', 'test/integration/python/latest.txt', 'test/integration/python/floor.txt']) {
      const entries = read(file).split(/\n(?=[a-z0-9])/i).filter((e) => /^[A-Za-z0-9][^\s]*==/.test(e));
      expect(entries.length).toBeGreaterThan(10);
      expect(entries.filter((e) => !/--hash=sha256:[0-9a-f]{64}/.test(e)).map((e) => e.split(' ')[0])).toEqual([]);
    }
  });

  test('the floor column is older than the latest for the servers it smoke-tests', () => {
    // Gunicorn's floor is its newest release (27.0.1: the first whose gthread worker recycles without
    // resetting connections, README "Python versions"); it leaves this list when a newer one comes.
    for (const name of ['django', 'uwsgi', 'daphne']) expect(floor.pins.get(name)).not.toBe(latest.pins.get(name));
  });

  test('the Gunicorn floor is the release the README reason names', () => {
    expect(floor.pins.get('gunicorn')).toBe('27.0.1');
    expect(read('README.md')).toContain('**Gunicorn 27.0.1**, the first release whose gthread');
  });

  test('a lock without its target Python in the header is refused', () => {
    expect(() => parseLock('django==6.1.3 \\\n    --hash=sha256:00\n')).toThrow(/--python-version/);
  });
});
