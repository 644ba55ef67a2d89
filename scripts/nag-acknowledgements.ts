/**
 * Generates docs/nag-acknowledgements.md: every cdk-nag acknowledgement the library makes, read back
 * from the v3 metadata (`Validations.ACKNOWLEDGED_RULES_METADATA_KEY`) that `acknowledgeFinding` in
 * src/nag.ts writes, over a representative set of apps built in-process.
 *
 *   npx tsx --tsconfig tsconfig.typecheck.json scripts/nag-acknowledgements.ts
 *
 * test/nag-acknowledgements.test.ts regenerates the markdown in memory and fails when the committed
 * file differs, so a new, changed or removed acknowledgement shows up in review.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { App, CfnElement, CfnResource, Duration, Stack, Tokenization, Validations } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct, IConstruct } from 'constructs';
import * as lib from '../src';
import { DeletionProtectionHandler } from '../src/deletion-protection';
import { NAG_V2_METADATA_KEY } from '../src/nag';

/** Where the markdown goes. */
export const DOC_PATH = join(__dirname, '..', 'docs', 'nag-acknowledgements.md');

/** The command that regenerates it. */
export const REGENERATE = 'npx tsx --tsconfig tsconfig.typecheck.json scripts/nag-acknowledgements.ts';

/** One acknowledgement as made on one construct of one app. */
export interface AcknowledgementSite {
  /** The app shape it was seen in. */
  readonly shape: string;
  /** Class of the innermost library construct holding the acknowledged construct. */
  readonly owner: string;
  /** Path of the acknowledged construct relative to that library construct ('.' for itself). */
  readonly path: string;
  /** The rule or finding, app-specific logical IDs replaced by «Class»/path placeholders. */
  readonly rule: string;
  /** The rule or finding as recorded (with this app's logical IDs). */
  readonly rawRule: string;
  readonly reason: string;
  /**
   * Whether CloudFormation resources under the acknowledged construct carry the cdk-nag v2 form of it
   * (`cdk_nag.rules_to_suppress`): `acknowledgeFinding` writes both forms, while aws-cdk-lib's own
   * acknowledgements (`Validations.acknowledge`) have only the v3 form. 'own' when the construct's own
   * resource (itself or its default child) carries it, 'other' when only resources below it do.
   */
  readonly v2: 'own' | 'other' | 'none';
}

/** One row of the document: a distinct (path, rule, reason) and the classes it appears under. */
export interface AcknowledgementRow {
  /** Made by this library (both cdk-nag forms), not by aws-cdk-lib itself (v3 form only). */
  readonly library: boolean;
  readonly owners: string[];
  readonly path: string;
  readonly rule: string;
  readonly reason: string;
}

const CERT_ARN = 'arn:aws:acm:us-east-1:111111111111:certificate/00000000-0000-0000-0000-000000000000';

/** The exported library classes that are constructs (DjangoApp, DjangoGunicornService, DjangoDatabase, ...). */
const LIBRARY_CLASSES = new Set<Function>([
  ...Object.values(lib as Record<string, unknown>).filter((v): v is Function => typeof v === 'function' && v.prototype instanceof Construct),
  // the stack-level handler of Custom::DjangoDeletionProtection, shared by every construct that needs it
  DeletionProtectionHandler,
]);

function ecrImage(scope: Construct): ecs.ContainerImage {
  // An ECR image (as fromAsset and fromEcrRepository give) is the case with the image-pull acknowledgement.
  return ecs.ContainerImage.fromEcrRepository(ecr.Repository.fromRepositoryName(scope, 'Repo', 'mysite'), '1');
}

function certificate(scope: Construct): acm.ICertificate {
  return acm.Certificate.fromCertificateArn(scope, 'Cert', CERT_ARN);
}

/** The shapes: each builds into its own stack; the stack name is the shape's name. */
export const SHAPES: Record<string, (stack: Stack) => void> = {};

const SERVICES = {
  gunicorn: (s: Stack, props: lib.DjangoGunicornServiceProps) => new lib.DjangoGunicornService(s, 'Web', props),
  uwsgi: (s: Stack, props: lib.DjangoUwsgiServiceProps) => new lib.DjangoUwsgiService(s, 'Web', props),
  daphne: (s: Stack, props: lib.DjangoDaphneServiceProps) => new lib.DjangoDaphneService(s, 'Web', props),
};
const PROXIES = { nginx: () => lib.Proxy.nginx(), apache: () => lib.Proxy.apache(), none: () => lib.Proxy.none() };
for (const [server, make] of Object.entries(SERVICES)) {
  for (const [proxy, proxyOf] of Object.entries(PROXIES)) {
    SHAPES[`${server}-${proxy}`] = (s) => make(s, { image: ecrImage(s), proxy: proxyOf(), domainNames: ['app.example.com'] });
  }
  SHAPES[`${server}-https-registry-image`] = (s) => make(s, {
    image: ecs.ContainerImage.fromRegistry('example/mysite:1'), certificate: certificate(s), domainNames: ['app.example.com'],
  });
}

SHAPES['app-simple'] = (s) => new lib.DjangoApp(s, 'Site', { image: ecrImage(s) });
SHAPES['app-mixed'] = (s) => new lib.DjangoApp(s, 'Site', { image: ecrImage(s), requirements: { websockets: true } });
SHAPES['app-full'] = (s) => new lib.DjangoApp(s, 'Site', {
  image: ecrImage(s),
  requirements: { websockets: true },
  domainNames: ['app.example.com'],
  certificate: certificate(s),
  database: {},
  cache: {},
  staticSite: { media: true },
  alarms: { createTopic: true },
});
SHAPES['app-execute-command'] = (s) => new lib.DjangoApp(s, 'Site', { image: ecrImage(s), database: {}, enableExecuteCommand: true });
SHAPES['app-uwsgi-instance-db'] = (s) => new lib.DjangoApp(s, 'Site', {
  image: ecrImage(s),
  server: lib.DjangoServerChoice.UWSGI,
  database: { engine: lib.DatabaseEngineKind.RDS_INSTANCE, proxy: true },
  staticSite: {},
});
SHAPES['app-workers'] = (s) => new lib.DjangoApp(s, 'Site', {
  image: ecrImage(s),
  database: {},
  workers: [{ id: 'Celery', command: lib.WorkerCommand.celeryWorker(), spot: true }, { id: 'Beat', command: lib.WorkerCommand.celeryBeat() }],
});
SHAPES['app-workers-sqs'] = (s) => new lib.DjangoApp(s, 'Site', {
  image: ecrImage(s),
  taskQueue: {},
  workers: [{ id: 'Celery', command: lib.WorkerCommand.celeryWorker() }],
  alarms: { enabled: false },
});

SHAPES['app-canary-https-smoke-test'] = (s) => new lib.DjangoApp(s, 'Site', {
  image: ecrImage(s),
  domainNames: ['app.example.com'],
  certificate: certificate(s),
  deployment: { strategy: ecs.DeploymentStrategy.CANARY, smokeTest: {} },
});
SHAPES['gunicorn-blue-green-http-smoke-test'] = (s) => new lib.DjangoGunicornService(s, 'Web', {
  image: ecrImage(s), domainNames: ['app.example.com'], deployment: { strategy: ecs.DeploymentStrategy.BLUE_GREEN, smokeTest: {} },
});

function vpc(s: Stack): ec2.IVpc {
  return new ec2.Vpc(s, 'Vpc', { maxAzs: 2 });
}
SHAPES['database-aurora'] = (s) => new lib.DjangoDatabase(s, 'Database', {
  vpc: vpc(s), backupPlan: backup.BackupPlan.daily35DayRetention(s, 'Plan'),
});
SHAPES['database-instance'] = (s) => new lib.DjangoDatabase(s, 'Database', {
  vpc: vpc(s), engine: lib.DatabaseEngineKind.RDS_INSTANCE, backupPlan: backup.BackupPlan.daily35DayRetention(s, 'Plan'),
});
SHAPES['database-proxy'] = (s) => new lib.DjangoDatabase(s, 'Database', {
  vpc: vpc(s), proxy: true, rotation: true, rotationInterval: Duration.days(30),
});
SHAPES.cache = (s) => new lib.DjangoCache(s, 'Cache', { vpc: vpc(s) });
SHAPES['static-files'] = (s) => new lib.DjangoStaticFiles(s, 'StaticSite', { media: true });
SHAPES['static-files-certificate'] = (s) => new lib.DjangoStaticFiles(s, 'StaticSite', {
  domainNames: ['static.example.com'], certificate: certificate(s),
});

/** The innermost exported library construct at or above `node`, if any. */
function libraryOwner(node: IConstruct): IConstruct | undefined {
  for (let c: IConstruct | undefined = node; c; c = c.node.scope) {
    if (LIBRARY_CLASSES.has(c.constructor)) return c;
  }
  return undefined;
}

/** `«DjangoStaticFiles»/Media`: a construct named by its library owner's class and its path under it. */
function placeholder(node: IConstruct): string {
  const owner = libraryOwner(node);
  const base = owner ?? Stack.of(node);
  const rel = node.node.path.slice(base.node.path.length).replace(/^\//, '').replace(/\/Resource$/, '');
  const name = owner ? `«${owner.constructor.name}»` : '«Stack»';
  return rel ? `${name}/${rel}` : name;
}

/** Replaces the app-specific names cdk-nag findings embed (logical IDs, task definition families). */
function normalizer(stack: Stack): (rule: string) => string {
  const byLogicalId = new Map<string, IConstruct>();
  const byFamily = new Map<string, IConstruct>();
  for (const c of stack.node.findAll()) {
    if (!(c instanceof CfnElement)) continue;
    byLogicalId.set(stack.resolve(c.logicalId), c);
    const family = (c as any).family;
    if (CfnResource.isCfnResource(c) && c.cfnResourceType === 'AWS::ECS::TaskDefinition' && typeof family === 'string'
      && !Tokenization.isResolvable(family)) {
      byFamily.set(family, c);
    }
  }
  return (rule) => rule
    .replace(/<([A-Za-z0-9]+)((?:\.[A-Za-z0-9.]+)?)>/g, (m, id: string, attr: string) => {
      const el = byLogicalId.get(id);
      return el ? `<${placeholder(el)}${attr}>` : m;
    })
    .replace(/task-definition\/([A-Za-z0-9_-]+):/g, (m, family: string) => {
      const el = byFamily.get(family);
      return el ? `task-definition/{family of ${placeholder(el)}}:` : m;
    });
}

/** Whether the CfnResources under `node` carry the v2 form of the acknowledgement (see src/nag.ts). */
function v2Coverage(node: IConstruct, rawRule: string): 'own' | 'other' | 'none' {
  const m = /^([^[\]]+)(?:\[(.+)\])?$/s.exec(rawRule);
  const carries = (r: CfnResource) => ((r.getMetadata(NAG_V2_METADATA_KEY)?.rules_to_suppress ?? []) as any[])
    .some((x) => x.id === m?.[1] && (!x.applies_to || (m?.[2] !== undefined && x.applies_to.includes(m[2]))));
  const covered = node.node.findAll().filter(CfnResource.isCfnResource).filter(carries);
  if (covered.length === 0) return 'none';
  const own = CfnResource.isCfnResource(node) ? node : node.node.defaultChild;
  // (resources added under the construct after the call do not get the v2 form; the rule's own resource must)
  return !own || !CfnResource.isCfnResource(own) || covered.includes(own) ? 'own' : 'other';
}

/** Builds every shape, synthesizes, and reads back every acknowledgement (v3 metadata). */
export function collectAcknowledgements(shapes: Record<string, (stack: Stack) => void> = SHAPES): AcknowledgementSite[] {
  const app = new App();
  for (const [name, build] of Object.entries(shapes)) build(new Stack(app, name));
  app.synth();

  const sites: AcknowledgementSite[] = [];
  for (const stack of app.node.children.filter(Stack.isStack)) {
    const normalize = normalizer(stack);
    for (const node of stack.node.findAll()) {
      for (const entry of node.node.metadata) {
        if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [qualifiedId, reason] of Object.entries(entry.data as Record<string, string>)) {
          // Validations.acknowledge records plain ids with the annotation prefix; cdk-nag strips it too.
          const rawRule = qualifiedId.replace(/^annotation::/i, '');
          const owner = libraryOwner(node);
          const base = owner ?? stack;
          sites.push({
            shape: stack.stackName,
            owner: owner ? owner.constructor.name : '(outside library constructs)',
            path: node.node.path.slice(base.node.path.length).replace(/^\//, '') || '.',
            rule: normalize(rawRule),
            rawRule,
            reason: String(reason),
            v2: v2Coverage(node, rawRule),
          });
        }
      }
    }
  }
  return sites;
}

/** Distinct (path, rule, reason), each with the library classes it appears under. */
export function rowsOf(sites: AcknowledgementSite[]): AcknowledgementRow[] {
  const rows = new Map<string, { library: boolean; owners: Set<string>; path: string; rule: string; reason: string }>();
  for (const s of sites) {
    const library = s.v2 !== 'none';
    const key = JSON.stringify([library, s.path, s.rule, s.reason]);
    const row = rows.get(key) ?? { library, owners: new Set<string>(), path: s.path, rule: s.rule, reason: s.reason };
    row.owners.add(s.owner);
    rows.set(key, row);
  }
  return [...rows.values()]
    .map((r) => ({ library: r.library, owners: [...r.owners].sort(), path: r.path, rule: r.rule, reason: r.reason }))
    .sort((a, b) => Number(b.library) - Number(a.library) || a.owners.join().localeCompare(b.owners.join())
      || a.path.localeCompare(b.path) || a.rule.localeCompare(b.rule) || a.reason.localeCompare(b.reason));
}

/** `AwsSolutions-IAM5[Resource::*]` -> `AwsSolutions-IAM5`. */
export function ruleOf(id: string): string {
  return id.replace(/\[.*\]$/s, '');
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function code(text: string): string {
  return `\`${text.replace(/`/g, '\'')}\``;
}

/** The markdown for rows (from the representative apps unless given). */
export function renderMarkdown(rows: AcknowledgementRow[] = rowsOf(collectAcknowledgements())): string {
  const lines: string[] = [];
  lines.push(
    '# cdk-nag acknowledgements',
    '',
    `<!-- Generated by scripts/nag-acknowledgements.ts: do not edit. Regenerate with \`${REGENERATE}\`. -->`,
    '',
    'Every cdk-nag finding (and CloudFormation template-validation rule, `CloudFormation-Validate::...`) the library',
    'acknowledges, read back from the apps it builds. Each acknowledgement',
    'exists because the finding is expected for what the construct does (a load balancer open to the internet,',
    'an AWS API without resource-level permissions, a secret that must not rotate on a schedule), and each is',
    'granular: it is made on the one construct that triggers the finding (and the resources under it), never on',
    'a stack or an app, and for a granular rule (IAM4, IAM5) it names the one finding (`[...]`), never the whole rule.',
    'Your own resources are not acknowledged by the library. The reason is what a security reviewer reads.',
    '',
    'Each acknowledgement is written for both cdk-nag generations (`acknowledgeFinding` in `src/nag.ts`):',
    'cdk-nag v3 reads `Validations.acknowledge` metadata, cdk-nag v2 reads `cdk_nag.rules_to_suppress`.',
    '',
    'How to read the tables: **Path** is the acknowledged construct under an instance of the class in the heading',
    '(`.` is the instance itself). In a rule, `«Class»/path` stands for the logical ID of that construct in your',
    'app (cdk-nag names IAM findings by logical IDs), and `{family of ...}` for that task definition\'s family.',
    'The rows come from the shapes built by the script: each server with Nginx, Apache and no proxy,',
    'DjangoApp simple, mixed and with the full data tier and migrations, and each data construct alone.',
    '',
  );

  const mine = rows.filter((r) => r.library);
  const byRule = new Map<string, number>();
  for (const r of mine) byRule.set(ruleOf(r.rule), (byRule.get(ruleOf(r.rule)) ?? 0) + 1);
  lines.push('## Count by rule', '', '| Rule | Acknowledgements |', '| --- | ---: |');
  for (const [rule, n] of [...byRule].sort((a, b) => a[0].localeCompare(b[0]))) lines.push(`| ${code(rule)} | ${n} |`);
  lines.push(`| **total** | **${mine.length}** |`, '');

  const table = (groupRows: AcknowledgementRow[], under = false) => {
    lines.push(`| ${under ? 'Under | ' : ''}Path | Rule or finding | Reason |`, `| ${under ? '--- | ' : ''}--- | --- | --- |`);
    for (const r of groupRows) {
      lines.push(`| ${under ? `${r.owners.join(', ')} | ` : ''}${code(r.path)} | ${code(r.rule)} | ${cell(r.reason)} |`);
    }
    lines.push('');
  };
  const groups = new Map<string, AcknowledgementRow[]>();
  for (const r of mine) groups.set(r.owners.join(', '), [...(groups.get(r.owners.join(', ')) ?? []), r]);
  for (const [owners, groupRows] of groups) {
    lines.push(`## ${owners}`, '');
    table(groupRows);
  }

  const theirs = rows.filter((r) => !r.library);
  if (theirs.length > 0) {
    lines.push(
      '## Made by aws-cdk-lib itself, not by this library',
      '',
      'aws-cdk-lib acknowledges these on its own constructs (v3 form only); they show up in the same metadata',
      'and are listed for completeness.',
      '',
    );
    table(theirs, true);
  }
  return lines.join('\n');
}

if (require.main === module) {
  const markdown = renderMarkdown();
  mkdirSync(dirname(DOC_PATH), { recursive: true });
  writeFileSync(DOC_PATH, markdown);
  console.log(`wrote ${DOC_PATH}`);
}
