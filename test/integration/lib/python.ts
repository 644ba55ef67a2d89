/**
 * The Python the real-server suite runs Django and the app servers with. One place, so that every
 * test (and every container command: `python3`, `gunicorn`, `uwsgi`, `daphne`) uses the same
 * environment: by default the repository's `.venv/` (the latest column, made by scripts/python-env
 * from test/integration/python/latest.txt); `CDK_DJANGO_PYTHON_BIN=<venv>/bin` selects another
 * (the floor column runs with `.venv-floor/bin`).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const REPO = resolve(__dirname, '..', '..', '..');

/** The directory holding `python3` and the servers' console scripts (a virtual environment's bin). */
export const PYTHON_BIN_DIR = resolve(process.env.CDK_DJANGO_PYTHON_BIN ?? join(REPO, '.venv', 'bin'));

/** The interpreter itself. */
export const PYTHON = join(PYTHON_BIN_DIR, 'python3');

if (!existsSync(PYTHON)) {
  throw new Error(`${PYTHON} does not exist: run scripts/python-env (or point CDK_DJANGO_PYTHON_BIN at a virtual environment's bin)`);
}

/**
 * Set (CDK_DJANGO_SMOKE=1) for the floor column's smoke run (`npx projen test:servers:floor`): a test file
 * keeps a few representative cases instead of its whole matrix.
 */
export const SMOKE = process.env.CDK_DJANGO_SMOKE === '1';
