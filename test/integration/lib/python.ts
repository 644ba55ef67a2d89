/**
 * The Python the real-server suite runs Django and the app servers with. One place, so that every
 * test (and every shim that stands in for a container's `python3`) uses the same interpreter.
 */
import { join } from 'node:path';

/** The directory holding `python3` (and the servers' console scripts, where installed with it). */
export const PYTHON_BIN_DIR = process.env.CDK_DJANGO_PYTHON_BIN ?? '/usr/bin';

/** The interpreter itself. */
export const PYTHON = join(PYTHON_BIN_DIR, 'python3');
