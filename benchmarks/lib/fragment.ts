/**
 * What every benchmark fragment shares: its command line (`[--quick] --out <file>.md`), the machine and
 * versions it ran with, markdown tables, and writing the fragment with its `.json` twin beside it.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { dirname, join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');

/** The arguments every fragment script takes. */
export interface FragmentArgs {
  readonly quick: boolean;
  /** The markdown file; the JSON goes beside it with the same name and `.json`. */
  readonly out: string;
}

export function parseFragmentArgs(argv: string[], script: string): FragmentArgs {
  let quick = false;
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--quick') quick = true;
    else if (argv[i] === '--out' && i + 1 < argv.length) out = argv[++i];
    else throw new Error(`${script}: unknown argument ${argv[i]}; usage: npx tsx benchmarks/${script}.ts [--quick] --out benchmarks/results/${script}.md`);
  }
  if (!out || !out.endsWith('.md')) throw new Error(`${script}: --out <file>.md is required (the .json is written beside it)`);
  return { quick, out };
}

function packageVersion(name: string): string {
  try {
    return JSON.parse(readFileSync(require.resolve(`${name}/package.json`, { paths: [ROOT] }), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/** The machine and versions a fragment states. */
export interface RunContext {
  readonly date: string;
  readonly machine: { readonly cpu: string; readonly cores: number; readonly memoryGiB: number; readonly os: string; readonly loadAverage: number[] };
  readonly versions: Record<string, string>;
}

export function runContext(): RunContext {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    machine: {
      cpu: cpus[0]?.model ?? 'unknown',
      cores: cpus.length,
      memoryGiB: Math.round(os.totalmem() / 1024 ** 3 * 10) / 10,
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
    },
    versions: {
      'node': process.version,
      'cdk-django': `${JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version} (commit ${gitCommit()})`,
      'aws-cdk-lib': packageVersion('aws-cdk-lib'),
      'constructs': packageVersion('constructs'),
      'cdk-nag': packageVersion('cdk-nag'),
    },
  };
}

export function contextLines(ctx: RunContext): string[] {
  const m = ctx.machine;
  return [
    `- Date: ${ctx.date}`,
    `- Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}; load average at start ${m.loadAverage.join(' / ')} (1 / 5 / 15 min)`,
    `- Versions: ${Object.entries(ctx.versions).map(([k, v]) => `${k} ${v}`).join(', ')}`,
  ];
}

/** A markdown table, the first `left` columns left-aligned and the figures after them right-aligned. */
export function table(header: string[], rows: string[][], left = 1): string[] {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map((_, i) => (i < left ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ];
}

/** Writes `<out>.md` and `<out>.json`. */
export function writeFragment(out: string, markdown: string[], data: unknown): void {
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, markdown.join('\n') + '\n');
  writeFileSync(out.replace(/\.md$/, '.json'), JSON.stringify(data, null, 2) + '\n');
}
