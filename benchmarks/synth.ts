/**
 * Synthesis time and memory: 1, 10 and 50 DjangoApps (the quickstart's defaults) in one CDK app, against the
 * same count of aws-ecs-patterns ApplicationLoadBalancedFargateServices; each app in its own stack, and all
 * in one stack; with and without the three cdk-nag packs. Every measurement is a fresh process
 * (benchmarks/synth-run.ts), repeated, in round-robin order so that load from elsewhere falls on every
 * series alike. Writes a markdown fragment and its JSON twin.
 *
 *   npx tsx benchmarks/synth.ts [--quick] --out benchmarks/results/synth.md
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { contextLines, parseFragmentArgs, ROOT, runContext, table, writeFragment } from './lib/fragment';
import { Growth, growth, LINEAR_BAND, relativeSpread, SAFE_RANGE, Spread, spread } from './lib/stats';
import type { RunResult, RunSpec } from './synth-run';

interface Series {
  readonly id: string;
  /** The counts of this series; the one-stack layout stops lower (see plan). */
  readonly counts?: number[];
  readonly label: string;
  readonly kind: RunSpec['kind'];
  readonly layout: RunSpec['layout'];
  readonly nag: boolean;
}

const SERIES: Series[] = [
  { id: 'django-stacks', label: 'DjangoApp, a stack each', kind: 'django', layout: 'stacks', nag: false },
  { id: 'django-stacks-nag', label: 'DjangoApp, a stack each, cdk-nag', kind: 'django', layout: 'stacks', nag: true },
  { id: 'patterns-stacks', label: 'ecs-patterns, a stack each', kind: 'patterns', layout: 'stacks', nag: false },
  // 25, not 50: the one-stack layout costs twice the CPU of the stack-each layout at 50 (aws-cdk-lib's validation
  // of one 2,900-resource template), which would take the full run well past five minutes.
  { id: 'django-one', label: 'DjangoApp, all in one stack', kind: 'django', layout: 'one', nag: false, counts: [1, 10, 25] },
];

const args = parseFragmentArgs(process.argv.slice(2), 'synth');
// --quick keeps the script under a minute: three small counts, one repetition, the two series a user compares.
const plan = args.quick
  ? { reps: 1, series: SERIES.filter((s) => s.id === 'django-stacks-nag' || s.id === 'patterns-stacks').map((s) => ({ ...s, counts: [1, 2, 4] })) }
  : { reps: 3, series: SERIES.map((s) => ({ ...s, counts: s.counts ?? [1, 10, 50] })) };
const countsOf = (s: Series): number[] => s.counts!;
const SPREAD_WARNING = 0.25;

function measure(spec: RunSpec): RunResult {
  const res = spawnSync(process.execPath, [
    '--expose-gc', '--import', 'tsx', join(__dirname, 'synth-run.ts'),
    '--kind', spec.kind, '--count', String(spec.count), '--layout', spec.layout, '--nag', spec.nag ? 'on' : 'off',
  ], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20' }, maxBuffer: 64 * 1024 * 1024 });
  const line = res.stdout.trim().split('\n').pop() ?? '';
  if (res.status !== 0 || !line.startsWith('{')) {
    throw new Error(`synth-run ${JSON.stringify(spec)} failed (exit ${res.status}):\n${res.stderr.slice(-4000)}`);
  }
  return JSON.parse(line);
}

/** With one app, one stack each and all in one stack are the same app: those runs serve both series. */
function specOf(s: Series, count: number): RunSpec {
  return { kind: s.kind, count, layout: count === 1 ? 'stacks' : s.layout, nag: s.nag };
}
const key = (spec: RunSpec) => `${spec.kind}/${spec.layout}/${spec.nag ? 'nag' : 'plain'}/${spec.count}`;

const ctx = runContext();
const started = Date.now();
const unique = new Map<string, RunSpec>();
for (const s of plan.series) for (const c of countsOf(s)) unique.set(key(specOf(s, c)), specOf(s, c));
// Each run is appended to <out>.runs.tmp as it ends; SYNTH_BENCH_RUNS=<that file> renders the fragment from it without measuring again.
const runsFile = args.out.replace(/\.md$/, '.runs.tmp');
const runs: RunResult[] = [];
if (process.env.SYNTH_BENCH_RUNS) {
  runs.push(...readFileSync(process.env.SYNTH_BENCH_RUNS, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l)));
} else {
  mkdirSync(dirname(runsFile), { recursive: true });
  writeFileSync(runsFile, '');
  for (let rep = 1; rep <= plan.reps; rep++) {
    for (const spec of unique.values()) {
      const r = measure(spec);
      runs.push(r);
      appendFileSync(runsFile, JSON.stringify(r) + '\n');
      console.error(`rep ${rep}/${plan.reps} ${key(spec)}: ${(r.totalMs / 1000).toFixed(1)} s, cpu ${(r.cpuMs / 1000).toFixed(1)} s, ${r.peakRssMiB.toFixed(0)} MiB`);
    }
  }
}
const elapsedS = (Date.now() - started) / 1000;
const loadAtEnd = require('node:os').loadavg().map((l: number) => Math.round(l * 100) / 100);

// ---- summaries ----
type Measure = 'totalMs' | 'loadMs' | 'setupMs' | 'constructMs' | 'synthMs' | 'cfnValidateMs' | 'nagMs' | 'ownMs' | 'cpuMs' | 'peakRssMiB' | 'heapRetainedMiB';
const MEASURES: Measure[] = ['totalMs', 'loadMs', 'setupMs', 'constructMs', 'synthMs', 'cfnValidateMs', 'nagMs', 'ownMs', 'cpuMs', 'peakRssMiB', 'heapRetainedMiB'];
const runsOf = (s: Series, c: number) => runs.filter((r) => key(r) === key(specOf(s, c)));

interface Point { readonly count: number; readonly resources: number; readonly stacks: number; readonly figures: Record<Measure, Spread> }
const points = new Map<string, Point[]>();
for (const s of plan.series) {
  points.set(s.id, countsOf(s).map((c) => {
    const rs = runsOf(s, c);
    const figures = Object.fromEntries(MEASURES.map((m) => [m, spread(rs.map((r) => r[m]))])) as Record<Measure, Spread>;
    return { count: c, resources: rs[0].resources, stacks: rs[0].stacks, figures };
  }));
}
const GROWTH_MEASURES: Array<{ measure: Measure; label: string; unit: string; scale: number }> = [
  { measure: 'totalMs', label: 'time (wall)', unit: 's', scale: 1000 },
  { measure: 'cpuMs', label: 'CPU time', unit: 's', scale: 1000 },
  { measure: 'ownMs', label: 'construct + synth without validation', unit: 's', scale: 1000 },
  { measure: 'cfnValidateMs', label: 'CFN validate', unit: 's', scale: 1000 },
  { measure: 'peakRssMiB', label: 'peak RSS', unit: 'MiB', scale: 1 },
  { measure: 'heapRetainedMiB', label: 'heap retained', unit: 'MiB', scale: 1 },
];
const growths: Array<{ series: string; measure: Measure; growth: Growth }> = [];
for (const s of plan.series) {
  for (const g of GROWTH_MEASURES) {
    growths.push({ series: s.id, measure: g.measure, growth: growth(new Map(countsOf(s).map((c) => [c, runsOf(s, c).map((r) => r[g.measure])]))) });
  }
}

// ---- the fragment ----
const sec = (ms: number) => (ms / 1000).toFixed(ms < 10_000 ? 2 : 1);
const mib = (v: number) => v.toFixed(0);
function cell(s: Spread, fmt: (v: number) => string): string {
  const text = s.n === 1 ? fmt(s.median) : `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`;
  return relativeSpread(s) > SPREAD_WARNING ? `${text} †` : text;
}
const seriesOf = (id: string) => plan.series.find((s) => s.id === id)!;
const labelOf = (id: string) => seriesOf(id).label;
const md: string[] = [
  '## Synthesis: time and memory',
  '',
  ...contextLines(ctx),
  process.env.SYNTH_BENCH_RUNS
    ? `- Run: rendered from ${process.env.SYNTH_BENCH_RUNS} (${runs.length} processes); the date and load above are the rendering's, not the measurement's`
    : `- Run: ${plan.reps} repetition(s) of each figure${args.quick ? ' (--quick: small counts, one repetition, two series)' : ''}, ${runs.length} processes, ${elapsedS.toFixed(0)} s; load average at end ${loadAtEnd.join(' / ')}`,
  '',
  'Each figure is a fresh Node process (`benchmarks/synth-run.ts`) that builds N apps in one CDK `App` and calls `app.synth()`',
  'into a temporary directory: `DjangoApp` with the quickstart\'s defaults (examples/django-app-quickstart.ts: the sample',
  'project\'s image from its directory, nothing else), against aws-ecs-patterns\' `ApplicationLoadBalancedFargateService` with',
  'only the same image. "A stack each" gives every app its own stack; "all in one stack" puts them in one (past CloudFormation\'s',
  '500 resources from 10 apps on: it measures the construct tree, not a deployable stack; with one app both layouts are the same',
  'runs). cdk-nag is the three packs the examples register (AwsSolutions, NIST 800-53 r5, HIPAA Security) as cdk-nag v3',
  'validation plugins, which run inside `app.synth()`; aws-ecs-patterns\' default is not nag-clean, so it is measured without.',
  'Runs go round-robin over the series, repetition after repetition, so load from elsewhere falls on all of them alike.',
  `Figures are the median (min–max); † marks a spread (max − min) over ${SPREAD_WARNING * 100} % of the median, where a comparison is unsafe.`,
  'Time is wall time from process start to the end of synth (Node, tsx, loading the modules, creating the App and the',
  'validation plugins, constructing, synthesizing); CPU is the process\'s user + system time over the same span (all threads),',
  'steadier than wall time on a busy machine; peak RSS is the kernel\'s high-water mark; heap retained is V8\'s heap after a',
  'full collection with the app still referenced. "CFN validate" is the CloudFormation rule check aws-cdk-lib runs in every',
  'synth (a WebAssembly engine), timed by registering it explicitly; "own" is construct + synth without any validation.',
  '',
  '### Per run',
  '',
  ...table(
    ['Series', 'N', 'Resources', 'Time s', 'Load s', 'Set-up s', 'Construct s', 'Synth s', 'of it CFN validate s', 'of it cdk-nag s', 'Own s', 'CPU s', 'Peak RSS MiB', 'Heap retained MiB'],
    plan.series.flatMap((s) => points.get(s.id)!.map((p) => [
      s.label, String(p.count), String(p.resources),
      cell(p.figures.totalMs, sec), cell(p.figures.loadMs, sec), cell(p.figures.setupMs, sec), cell(p.figures.constructMs, sec), cell(p.figures.synthMs, sec),
      cell(p.figures.cfnValidateMs, sec), s.nag ? cell(p.figures.nagMs, sec) : '–', cell(p.figures.ownMs, sec), cell(p.figures.cpuMs, sec),
      cell(p.figures.peakRssMiB, mib), cell(p.figures.heapRetainedMiB, mib),
    ]))),
  '',
  '### Growth with N',
  '',
  'Per app and intercept: a least-squares line through every run. t(b)/t(a): the ratio of the medians at the two largest counts;',
  'linear growth with a fixed start-up part gives less than b/a. Marginal ratio: the cost of each app added from a to b, over',
  'the cost of each app added from the smallest count to a: 1 is linear, above 1 each app costs more in a bigger app; its',
  `range comes from the extreme repetitions. Linear: median within ${LINEAR_BAND[0]}–${LINEAR_BAND[1]} and range within ${SAFE_RANGE[0]}–${SAFE_RANGE[1]};`,
  `superlinear: the whole range above ${LINEAR_BAND[1]}; otherwise too noisy to tell (or too few repetitions).`,
  '',
  ...table(
    ['Series', 'Measure', 'Counts', 'Per app', 'Intercept', 'R²', 't(b)/t(a)', 'Marginal ratio', 'Verdict'],
    growths.map(({ series, measure, growth: g }) => {
      const m = GROWTH_MEASURES.find((x) => x.measure === measure)!;
      const f = (v: number) => `${(v / m.scale).toFixed(m.unit === 's' ? 3 : 1)} ${m.unit}`;
      const r = g.marginalRatio;
      return [labelOf(series), m.label, countsOf(seriesOf(series)).join(', '), f(g.fit.slope), f(g.fit.intercept), g.fit.r2.toFixed(3),
        `${g.ratio.toFixed(2)} (b/a = ${(g.large / g.small).toFixed(1)})`, `${r.median.toFixed(2)} (${r.min.toFixed(2)}–${r.max.toFixed(2)})`, g.verdict];
    }), 3),
  '',
];

const nagOn = points.get('django-stacks-nag');
const nagOff = points.get('django-stacks');
if (nagOn && nagOff) {
  md.push('### cdk-nag', '', ...table(['N', 'Without cdk-nag s', 'With cdk-nag s', 'Ratio', 'cdk-nag\'s own validation s', 'Peak RSS without / with MiB'],
    nagOff.map((off, i) => [String(off.count), cell(off.figures.totalMs, sec), cell(nagOn[i].figures.totalMs, sec),
      (nagOn[i].figures.totalMs.median / off.figures.totalMs.median).toFixed(2), cell(nagOn[i].figures.nagMs, sec),
      `${mib(off.figures.peakRssMiB.median)} / ${mib(nagOn[i].figures.peakRssMiB.median)}`])), '');
}
const djangoId = nagOff ? 'django-stacks' : 'django-stacks-nag';
const django = points.get(djangoId)!;
const patterns = points.get('patterns-stacks')!;
md.push(`### Against aws-ecs-patterns (a stack each${nagOff ? '' : '; DjangoApp with cdk-nag'})`, '', ...table(
  ['N', 'Resources DjangoApp / ecs-patterns', 'Time ratio', 'CPU ratio', 'Own ratio', 'Peak RSS ratio', 'Own ms per resource DjangoApp / ecs-patterns'],
  django.map((d, i) => {
    const p = patterns[i];
    return [String(d.count), `${d.resources} / ${p.resources}`, (d.figures.totalMs.median / p.figures.totalMs.median).toFixed(2),
      (d.figures.cpuMs.median / p.figures.cpuMs.median).toFixed(2), (d.figures.ownMs.median / p.figures.ownMs.median).toFixed(2),
      (d.figures.peakRssMiB.median / p.figures.peakRssMiB.median).toFixed(2),
      `${(d.figures.ownMs.median / d.resources).toFixed(1)} / ${(p.figures.ownMs.median / p.resources).toFixed(1)}`];
  })), '');

// ---- findings, from the figures above ----
const verdictOf = (series: string, measure: Measure) => growths.find((g) => g.series === series && g.measure === measure)?.growth;
md.push('### Findings', '');
for (const s of plan.series) {
  const [wall, cpu, own, cfn] = (['totalMs', 'cpuMs', 'ownMs', 'cfnValidateMs'] as Measure[]).map((m) => verdictOf(s.id, m)!);
  const ratio = (g: Growth) => `marginal ratio ${g.marginalRatio.median.toFixed(2)}`;
  const line = [`- ${s.label}: time ${wall.verdict} (${ratio(wall)}), CPU ${cpu.verdict} (${ratio(cpu)}), construct + synth without validation ${own.verdict} (${ratio(own)}, ${(own.fit.slope / 1000).toFixed(3)} s per app)`];
  if (cpu.verdict === 'superlinear' && own.verdict !== 'superlinear' && cfn.verdict === 'superlinear') {
    line.push(`; the superlinear part is aws-cdk-lib's CloudFormation validation (${ratio(cfn)}), which checks the template as a whole`);
  }
  md.push(line.join('') + '.');
}
const last = django[django.length - 1];
const cfnShare = last.figures.cfnValidateMs.median / last.figures.synthMs.median;
md.push(`- aws-cdk-lib's own CloudFormation validation is ${(cfnShare * 100).toFixed(0)} % of synth at N = ${last.count} (${labelOf(djangoId)}), and its WebAssembly engine sets the memory floor: peak RSS ${mib(django[0].figures.peakRssMiB.median)} MiB for one app, against ${mib(django[0].figures.heapRetainedMiB.median)} MiB of retained heap.`);
md.push('');

writeFragment(args.out, md, { title: 'Synthesis: time and memory', ...ctx, loadAverageAtEnd: loadAtEnd, elapsedSeconds: elapsedS, plan, runs, points: Object.fromEntries(points), growth: growths });
if (!process.env.SYNTH_BENCH_RUNS) rmSync(runsFile, { force: true });
console.error(`wrote ${args.out} and its .json (${elapsedS.toFixed(0)} s)`);
