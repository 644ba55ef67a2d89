/**
 * The README's "Getting started" steps, read from its own code blocks: a block after
 * `<!-- file: PATH -->` is a file to create, after `<!-- append: PATH -->` lines to add at the end of
 * a file, after `<!-- newcomer: shell -->` the commands a user types. Paths are relative to the
 * directory the user works in (the one that holds `mysite/` and the CDK app).
 */
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface ReadmeStep {
  readonly kind: 'file' | 'append';
  readonly path: string;
  readonly content: string;
}

export const README = join(__dirname, '..', '..', '..', 'README.md');

/** The "Getting started" section (up to the next top-level heading). */
export function gettingStarted(readme: string = readFileSync(README, 'utf8')): string {
  const start = readme.indexOf('\n## Getting started\n');
  if (start < 0) throw new Error('README has no "## Getting started" section');
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

const BLOCK = /<!-- (file|append|newcomer): (\S+) -->\s*(?:<!-- [^>]*-->\s*)*```[\w-]*\n([\s\S]*?)```/g;

/** The file steps, in README order. */
export function readmeSteps(section: string = gettingStarted()): ReadmeStep[] {
  return [...section.matchAll(BLOCK)]
    .filter((m) => m[1] !== 'newcomer')
    .map((m) => ({ kind: m[1] as 'file' | 'append', path: m[2], content: m[3] }));
}

/** The commands of the `<!-- newcomer: shell -->` block, one per line. */
export function readmeShell(section: string = gettingStarted()): string[] {
  const m = [...section.matchAll(BLOCK)].find((b) => b[1] === 'newcomer' && b[2] === 'shell');
  if (!m) throw new Error('README "Getting started" has no <!-- newcomer: shell --> block');
  return m[3].split('\n').map((l) => l.trim()).filter(Boolean);
}

/** Applies the steps in `dir` as a user would: create the files, append the blocks. */
export function applySteps(dir: string, steps: readonly ReadmeStep[]): void {
  for (const step of steps) {
    const path = join(dir, step.path);
    if (step.kind === 'file') {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, step.content);
    } else {
      const before = readFileSync(path, 'utf8'); // appending to a file that is not there is a wrong step
      appendFileSync(path, `${before.endsWith('\n') ? '' : '\n'}\n${step.content}`);
    }
  }
}
