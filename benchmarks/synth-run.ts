/**
 * One synthesis measurement, in its own process (benchmarks/synth.ts starts one per run, so memory is per run):
 * builds `count` DjangoApps (or aws-ecs-patterns ApplicationLoadBalancedFargateServices) with the quickstart's
 * defaults, each in its own stack or all in one, synthesizes the app into a temporary directory, and prints
 * one JSON line with the times and memory.
 *
 *   node --expose-gc --import tsx benchmarks/synth-run.ts --kind django|patterns --count N --layout stacks|one --nag on|off
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { App, CloudFormationValidatePlugin, IPolicyValidationPlugin, Stack, STACK_RESOURCE_LIMIT_CONTEXT, Validations } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as ecsPatterns from 'aws-cdk-lib/aws-ecs-patterns';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks } from 'cdk-nag';
import { DjangoApp } from '../src';

/** What one run builds. */
export interface RunSpec {
  readonly kind: 'django' | 'patterns';
  readonly count: number;
  readonly layout: 'stacks' | 'one';
  readonly nag: boolean;
}

/** What one run measured; times in milliseconds, memory in MiB. */
export interface RunResult extends RunSpec {
  /** Process start to the first line of the run: Node, tsx, and loading aws-cdk-lib, cdk-nag and the library. */
  readonly loadMs: number;
  /** Creating the App and the validation plugins (aws-cdk-lib's CloudFormation rule engine starts here). */
  readonly setupMs: number;
  /** Constructing the apps (the constructors). */
  readonly constructMs: number;
  /** `app.synth()`: preparing, validating (the cdk-nag packs when on) and writing the cloud assembly. */
  readonly synthMs: number;
  /** Of synthMs: aws-cdk-lib's own CloudFormation validation (a WebAssembly rule engine every synth runs). */
  readonly cfnValidateMs: number;
  /** Of synthMs: the three cdk-nag packs (0 when off). */
  readonly nagMs: number;
  /** Constructing and synthesizing without the validation plugins: the part the construct library and aws-cdk-lib's core own. */
  readonly ownMs: number;
  /** Process start to the end of synth: what `cdk synth` waits for the app. */
  readonly totalMs: number;
  /** CPU time (user + system, all threads) from process start to the end of synth: less sensitive than wall time to other load on the machine. */
  readonly cpuMs: number;
  /** Peak resident set size of the process, from the kernel. */
  readonly peakRssMiB: number;
  /** V8 heap in use right after synth, before any forced collection. */
  readonly heapUsedMiB: number;
  /** V8 heap still in use after a full collection, with the app and its assembly still referenced. */
  readonly heapRetainedMiB: number;
  readonly resources: number;
  readonly stacks: number;
}

function parse(argv: string[]): RunSpec {
  const arg = (name: string): string => {
    const i = argv.indexOf(`--${name}`);
    if (i < 0 || i + 1 >= argv.length) throw new Error(`synth-run: --${name} is required`);
    return argv[i + 1];
  };
  const kind = arg('kind');
  const layout = arg('layout');
  const count = Number(arg('count'));
  const nag = arg('nag');
  if (kind !== 'django' && kind !== 'patterns') throw new Error(`synth-run: --kind must be django or patterns, got ${kind}`);
  if (layout !== 'stacks' && layout !== 'one') throw new Error(`synth-run: --layout must be stacks or one, got ${layout}`);
  if (!Number.isInteger(count) || count < 1) throw new Error(`synth-run: --count must be a whole number >= 1, got ${count}`);
  if (nag !== 'on' && nag !== 'off') throw new Error(`synth-run: --nag must be on or off, got ${nag}`);
  return { kind, count, layout, nag: nag === 'on' };
}

const MIB = 1024 * 1024;

/** Wraps a plugin's validate() to add up the time spent in it. */
function timed<P extends IPolicyValidationPlugin>(plugin: P): { plugin: P; ms: () => number } {
  let total = 0;
  const validate = plugin.validate.bind(plugin);
  plugin.validate = (context) => {
    const start = performance.now();
    try {
      return validate(context);
    } finally {
      total += performance.now() - start;
    }
  };
  return { plugin, ms: () => total };
}

function run(spec: RunSpec): RunResult {
  const loadMs = performance.now();
  const outdir = mkdtempSync(join(tmpdir(), 'cdk-django-synth-bench-'));
  try {
    // CloudFormation allows 500 resources per stack; `one` goes past that on purpose (it measures the tree, not a deployable stack).
    const app = new App({ outdir, context: spec.layout === 'one' ? { [STACK_RESOURCE_LIMIT_CONTEXT]: 0 } : {} });
    // The CloudFormation validation aws-cdk-lib runs on every synth, registered here only to be timed.
    const cfnValidate = timed(new CloudFormationValidatePlugin());
    Validations.of(app).addPlugins(cfnValidate.plugin);
    // As the examples apply them: cdk-nag v3 packs as policy-validation plugins, run during synth.
    const packs = spec.nag ? [new AwsSolutionsChecks(app), new NIST80053R5Checks(app), new HIPAASecurityChecks(app)].map(timed) : [];
    if (packs.length > 0) Validations.of(app).addPlugins(...packs.map((p) => p.plugin));
    // The quickstart's image: the sample project, built from its directory (staged once: every app shares the hash).
    const image = ecs.ContainerImage.fromAsset(join(__dirname, '..', 'examples', 'mysite'));
    const shared = spec.layout === 'one' ? new Stack(app, 'All') : undefined;
    const constructStart = performance.now();
    for (let i = 0; i < spec.count; i++) {
      const stack = shared ?? new Stack(app, `Site${i}`);
      if (spec.kind === 'django') {
        new DjangoApp(stack, `Site${i}`, { image });
      } else {
        new ecsPatterns.ApplicationLoadBalancedFargateService(stack, `Service${i}`, { taskImageOptions: { image } });
      }
    }
    const synthStart = performance.now();
    const assembly = app.synth();
    const synthEnd = performance.now();
    const cpu = process.cpuUsage();
    const heapUsed = getHeapStatistics().used_heap_size;
    (globalThis as any).gc?.();
    const heapRetained = getHeapStatistics().used_heap_size;
    const templates = assembly.stacks.map((s) => s.template);
    return {
      ...spec,
      loadMs,
      setupMs: constructStart - loadMs,
      constructMs: synthStart - constructStart,
      synthMs: synthEnd - synthStart,
      cfnValidateMs: cfnValidate.ms(),
      nagMs: packs.reduce((n, p) => n + p.ms(), 0),
      ownMs: (synthEnd - constructStart) - cfnValidate.ms() - packs.reduce((n, p) => n + p.ms(), 0),
      totalMs: synthEnd,
      cpuMs: (cpu.user + cpu.system) / 1000,
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
      heapUsedMiB: heapUsed / MIB,
      heapRetainedMiB: heapRetained / MIB,
      resources: templates.reduce((n, t) => n + Object.keys(t.Resources ?? {}).length, 0),
      stacks: templates.length,
    };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  if (!(globalThis as any).gc) throw new Error('synth-run: start node with --expose-gc (the retained heap needs a full collection)');
  process.stdout.write(JSON.stringify(run(parse(process.argv.slice(2)))) + '\n');
}
