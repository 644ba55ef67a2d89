/**
 * The monthly fixed cost of the default stacks' parts, read from their synthesized templates and priced
 * with benchmarks/prices.json (benchmarks/lib/cost-model.ts): the quickstart (DjangoApp's defaults), the
 * whole-stack example (database, cache, static site, alarms), and aws-ecs-patterns' default
 * ApplicationLoadBalancedFargateService; the full run adds every other example. Writes a markdown
 * fragment and its JSON twin.
 *
 *   npx tsx benchmarks/cost.ts [--quick] --out benchmarks/results/cost.md
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as ecsPatterns from 'aws-cdk-lib/aws-ecs-patterns';
import { CfnTemplate, CostPart, CostReport, monthlyCost, PART_ORDER, PriceTable } from './lib/cost-model';
import { contextLines, parseFragmentArgs, ROOT, runContext, table, writeFragment } from './lib/fragment';

const args = parseFragmentArgs(process.argv.slice(2), 'cost');
const prices: PriceTable = JSON.parse(readFileSync(join(__dirname, 'prices.json'), 'utf8'));

/** The templates of an example app, synthesized as `cdk synth` runs it (CDK_OUTDIR). */
function synthExample(name: string): CfnTemplate[] {
  const out = mkdtempSync(join(tmpdir(), 'cdk-django-cost-'));
  try {
    const res = spawnSync('npx', ['tsx', '--tsconfig', 'tsconfig.typecheck.json', `examples/${name}.ts`], {
      cwd: ROOT, encoding: 'utf8', env: { ...process.env, CDK_OUTDIR: out, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20' },
    });
    if (res.status !== 0) throw new Error(`examples/${name}.ts did not synthesize (exit ${res.status}):\n${(res.stdout + res.stderr).slice(-4000)}`);
    return readdirSync(out).filter((f) => f.endsWith('.template.json')).map((f) => JSON.parse(readFileSync(join(out, f), 'utf8')));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** aws-ecs-patterns' default: an ApplicationLoadBalancedFargateService given nothing but an image. */
function patternsDefault(): CfnTemplate[] {
  const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'cdk-django-cost-patterns-')) });
  const stack = new Stack(app, 'EcsPatternsDefault');
  new ecsPatterns.ApplicationLoadBalancedFargateService(stack, 'Service', {
    taskImageOptions: { image: ecs.ContainerImage.fromRegistry('amazon/amazon-ecs-sample') },
  });
  const assembly = app.synth();
  try {
    return assembly.stacks.map((s) => s.template);
  } finally {
    rmSync(assembly.directory, { recursive: true, force: true });
  }
}

/** One app's cost: the sum over its stacks. */
interface Priced { readonly id: string; readonly label: string; readonly reports: CostReport[]; readonly total: number; readonly byPart: Record<CostPart, number>; readonly counts: Record<string, number> }
function price(id: string, label: string, templates: CfnTemplate[]): Priced {
  const reports = templates.map((t) => monthlyCost(t, prices));
  const byPart = Object.fromEntries(PART_ORDER.map((p) => [p, reports.reduce((s, r) => s + r.byPart[p], 0)])) as Record<CostPart, number>;
  const counts: Record<string, number> = {};
  for (const r of reports) for (const [t, n] of Object.entries(r.counts)) counts[t] = (counts[t] ?? 0) + n;
  return { id, label, reports, total: reports.reduce((s, r) => s + r.total, 0), byPart, counts };
}

const ctx = runContext();
const started = Date.now();
const MAIN = [
  { id: 'django-app-quickstart', label: 'DjangoApp quickstart' },
  { id: 'django-app-channels', label: 'DjangoApp whole stack' },
];
const main = MAIN.map((m) => price(m.id, m.label, synthExample(m.id)));
const patterns = price('ecs-patterns-default', 'ecs-patterns default', patternsDefault());
const columns = [...main, patterns];
// The full run prices every other example too; --quick keeps to the three stacks above.
const others = args.quick ? [] : readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.ts')).map((f) => basename(f, '.ts'))
  .filter((n) => !MAIN.some((m) => m.id === n)).sort().map((n) => price(n, n, synthExample(n)));
const elapsedS = (Date.now() - started) / 1000;

const usd = (v: number) => `$${v.toFixed(2)}`;
const md: string[] = [
  '## Cost: the monthly fixed cost of the defaults',
  '',
  ...contextLines(ctx),
  `- Prices: benchmarks/prices.json, ${prices.region}, ${prices.currency}, as of ${prices.date}; ${prices.hoursPerMonth} hours a month. ${prices.basis}`,
  `- Run: ${elapsedS.toFixed(0)} s${args.quick ? ' (--quick: the three stacks below only)' : ''}`,
  '',
  'What each stack costs a month while it stands idle: every resource of the synthesized template is priced from the table',
  '(benchmarks/lib/cost-model.ts), with counts read from the template: NAT gateways and their Elastic IPs, the load balancer and',
  'the public IPv4 address of each of its zones, the minimum tasks (the scaling floor × the task size), the database at its',
  'minimum (each Aurora Serverless v2 instance at the minimum ACU, or an RDS instance and its allocated storage, twice for',
  'Multi-AZ), cache nodes, KMS keys, secrets, alarm metrics, dashboards, a web ACL and its rules, interface endpoints. Usage is',
  'not counted: requests, LCUs, data processed and transferred, logs, storage that grows, capacity above the minimum. Account-wide',
  'free tiers (10 alarm metrics, 3 dashboards) are not subtracted. A resource type the model neither prices nor lists as free fails',
  `the run. The whole stack is examples/django-app-channels.ts (HTTPS, Aurora Serverless v2, the Valkey cache of the Channels layer,`,
  'S3 + CloudFront static files, migrations, alarms); aws-ecs-patterns\' default is `ApplicationLoadBalancedFargateService` given only an image.',
  '',
  '### By part (USD a month)',
  '',
  ...table(['Part', ...columns.map((c) => c.label)], [
    ...PART_ORDER.filter((p) => columns.some((c) => c.byPart[p] > 0)).map((p) => [p, ...columns.map((c) => usd(c.byPart[p]))]),
    ['**Total**', ...columns.map((c) => `**${usd(c.total)}**`)],
    ['Against ecs-patterns', ...columns.map((c) => `${(c.total / patterns.total).toFixed(2)} ×`)],
  ]),
  '',
  '### What was counted',
  '',
];
for (const c of columns) {
  md.push(`**${c.label}** (${Object.values(c.counts).reduce((s, n) => s + n, 0)} resources):`, '');
  const lines = new Map<string, { what: string; part: CostPart; n: number; monthly: number; unit: number; key: string }>();
  for (const item of c.reports.flatMap((r) => r.items)) {
    const k = `${item.part}|${item.what}|${item.priceKey}`;
    const prev = lines.get(k);
    lines.set(k, { what: item.what, part: item.part, key: item.priceKey, unit: item.unitPrice, n: (prev?.n ?? 0) + 1, monthly: (prev?.monthly ?? 0) + item.monthly });
  }
  md.push(...table(['Part', 'What', 'Count', 'Unit price', 'USD a month'],
    [...lines.values()].map((l) => [l.part, l.what, String(l.n), `${l.unit} (${prices.prices[l.key].unit})`, usd(l.monthly)]), 3), '');
}
if (others.length > 0) {
  md.push('### Every other example (USD a month)', '', ...table(['Example', ...PART_ORDER.filter((p) => others.some((o) => o.byPart[p] > 0)), 'Total'],
    others.map((o) => [o.id, ...PART_ORDER.filter((p) => others.some((x) => x.byPart[p] > 0)).map((p) => usd(o.byPart[p])), usd(o.total)])), '');
}
const q = main[0];
const share = (part: CostPart) => `${((q.byPart[part] / q.total) * 100).toFixed(0)} %`;
const extra = PART_ORDER.filter((p) => q.byPart[p] - patterns.byPart[p] > 0.005)
  .map((p) => `${p} +${usd(q.byPart[p] - patterns.byPart[p])}`).join(', ');
md.push('### Findings', '',
  `- The quickstart costs ${usd(q.total)} a month idle, ${(q.total / patterns.total).toFixed(2)} × aws-ecs-patterns' default (${usd(patterns.total)}).`
  + ` NAT gateways are ${share('NAT gateways')} of it, the minimum tasks ${share('Tasks (minimum)')}, the load balancer ${share('Load balancer')}.`
  + ` Both put two NAT gateways in a two-zone VPC; the difference is ${extra}.`,
  `- The whole stack adds the database (${usd(main[1].byPart.Database)}: two Aurora Serverless v2 instances, writer and reader, at the minimum ACU) and the cache (${usd(main[1].byPart.Cache)}): ${usd(main[1].total)} a month.`,
  `- KMS keys with rotation on cost more from the second year: each of a key's first two rotations adds $1 a month (${main[1].counts['AWS::KMS::Key'] ?? 0} keys in the whole stack).`,
  '- Prices are list prices written down by hand (see benchmarks/prices.json for each source): re-check them before quoting a total.', '');

writeFragment(args.out, md, {
  title: 'Cost: the monthly fixed cost of the defaults', ...ctx, elapsedSeconds: elapsedS,
  prices: { date: prices.date, region: prices.region, currency: prices.currency, hoursPerMonth: prices.hoursPerMonth },
  stacks: [...columns, ...others].map((c) => ({ id: c.id, label: c.label, total: c.total, byPart: c.byPart, counts: c.counts, items: c.reports.flatMap((r) => r.items) })),
});
console.error(`wrote ${args.out} and its .json (${elapsedS.toFixed(0)} s)`);
