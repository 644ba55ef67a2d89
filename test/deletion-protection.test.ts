/**
 * Deletion protection that belongs to a created stack: the handler behind Custom::DjangoDeletionProtection
 * (run as Lambda runs it, with fake AWS SDK clients and a fake response endpoint), and what the
 * template gives it.
 */
import * as vm from 'vm';
import { CfnElement, CfnResource } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { DjangoDatabase, DjangoGunicornService } from '../src';
import { DELETION_PROTECTION_HANDLER_SOURCE } from '../src/deletion-protection-handler';
import { IMAGE, newStack } from './helpers/template';
import { CfnTemplate, deletionProtectionProblems } from './helpers/template-checks';

const ALB = 'arn:aws:elasticloadbalancing:eu-west-1:111111111111:loadbalancer/app/site/0123';
const STACK_ID = 'arn:aws:cloudformation:eu-west-1:111111111111:stack/Site/uuid';

interface Sent { readonly command: string; readonly input: any }

function load(answers: { [command: string]: Array<any | Error> }) {
  const sent: Sent[] = [];
  const responses: any[] = [];
  class Command {
    constructor(public readonly input: any) {}
  }
  const commands = ['ModifyLoadBalancerAttributes', 'ModifyDBCluster', 'ModifyDBInstance', 'DescribeStacks'];
  const classes: Record<string, any> = {};
  for (const c of commands) classes[`${c}Command`] = class extends Command {};
  for (const c of commands) Object.defineProperty(classes[`${c}Command`], 'name', { value: `${c}Command` });
  class Client {
    async send(cmd: Command) {
      const command = cmd.constructor.name.replace(/Command$/, '');
      sent.push({ command, input: cmd.input });
      const queue = answers[command] ?? [];
      const next = queue.length > 0 ? queue.shift() : {};
      if (next instanceof Error) throw next;
      return next;
    }
  }
  const https = {
    request: (_url: string, _opts: any, onResponse: (res: any) => void) => ({
      on: () => undefined,
      end: (body: string) => {
        responses.push(JSON.parse(body));
        onResponse({ resume: () => undefined, on: (_e: string, done: () => void) => done() });
      },
    }),
  };
  const module = { exports: {} as any };
  vm.runInNewContext(DELETION_PROTECTION_HANDLER_SOURCE, {
    module,
    exports: module.exports,
    Buffer,
    setTimeout,
    require: (id: string) => {
      if (id === 'https') return https;
      if (id === '@aws-sdk/client-elastic-load-balancing-v2') return { ElasticLoadBalancingV2Client: Client, ...classes };
      if (id === '@aws-sdk/client-rds') return { RDSClient: Client, ...classes };
      if (id === '@aws-sdk/client-cloudformation') return { CloudFormationClient: Client, ...classes };
      throw new Error(`unexpected require ${id}`);
    },
    process: { env: { ATTEMPTS: '3', PAUSE_MS: '1' } },
    console: { log: () => undefined },
  }, { filename: 'index.js' });
  return { handler: module.exports.handler as (e: any) => Promise<void>, sent, responses };
}

const event = (type: string, props: any, extra: any = {}) => ({
  RequestType: type,
  ResourceProperties: props,
  StackId: STACK_ID,
  RequestId: 'r1',
  LogicalResourceId: 'Protection',
  ResponseURL: 'https://cloudformation-custom-resource-response.example/x',
  ...extra,
});
const named = (name: string, message = name) => Object.assign(new Error(message), { name });

describe('the handler', () => {
  test('Create turns protection on, and answers SUCCESS', async () => {
    const h = load({});
    await h.handler(event('Create', { Kind: 'LoadBalancer', Target: ALB, Enabled: 'true' }));
    expect(h.sent).toEqual([{ command: 'ModifyLoadBalancerAttributes', input: { LoadBalancerArn: ALB, Attributes: [{ Key: 'deletion_protection.enabled', Value: 'true' }] } }]);
    expect(h.responses).toEqual([expect.objectContaining({ Status: 'SUCCESS', PhysicalResourceId: 'LoadBalancer:Protection', RequestId: 'r1' })]);
  });

  test('Delete during a rollback (or a removal) turns protection off, so the target can be deleted next', async () => {
    for (const status of ['ROLLBACK_IN_PROGRESS', 'UPDATE_ROLLBACK_IN_PROGRESS', 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS']) {
      const h = load({ DescribeStacks: [{ Stacks: [{ StackStatus: status }] }] });
      await h.handler(event('Delete', { Kind: 'DBCluster', Target: 'site-db', Enabled: 'true' }, { PhysicalResourceId: 'DBCluster:Protection' }));
      expect(h.sent.map((s) => s.command)).toEqual(['DescribeStacks', 'ModifyDBCluster']);
      expect(h.sent[1].input).toEqual({ DBClusterIdentifier: 'site-db', DeletionProtection: false, ApplyImmediately: true });
      expect(h.responses[0]).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'DBCluster:Protection' });
    }
  });

  test('Delete while the whole stack is deleted keeps protection on (the stack deletion stops at the target)', async () => {
    const h = load({ DescribeStacks: [{ Stacks: [{ StackStatus: 'DELETE_IN_PROGRESS' }] }] });
    await h.handler(event('Delete', { Kind: 'DBInstance', Target: 'site-db', Enabled: 'true' }));
    expect(h.sent.map((s) => s.command)).toEqual(['DescribeStacks']);
    expect(h.responses[0].Status).toBe('SUCCESS');
  });

  test('Delete of a target that is already gone succeeds', async () => {
    const h = load({ DescribeStacks: [{ Stacks: [{ StackStatus: 'ROLLBACK_IN_PROGRESS' }] }], ModifyDBInstance: [named('DBInstanceNotFoundFault')] });
    await h.handler(event('Delete', { Kind: 'DBInstance', Target: 'site-db', Enabled: 'true' }));
    expect(h.responses[0].Status).toBe('SUCCESS');
  });

  test('Update to Enabled false turns it off; a new target gets it and the old one loses it', async () => {
    const off = load({});
    await off.handler(event('Update', { Kind: 'LoadBalancer', Target: ALB, Enabled: 'false' }, { OldResourceProperties: { Kind: 'LoadBalancer', Target: ALB, Enabled: 'true' } }));
    expect(off.sent).toEqual([expect.objectContaining({ input: expect.objectContaining({ Attributes: [{ Key: 'deletion_protection.enabled', Value: 'false' }] }) })]);
    const moved = load({});
    await moved.handler(event('Update', { Kind: 'DBCluster', Target: 'new-db', Enabled: 'true' }, { OldResourceProperties: { Kind: 'DBCluster', Target: 'old-db', Enabled: 'true' } }));
    expect(moved.sent.map((s) => [s.input.DBClusterIdentifier, s.input.DeletionProtection])).toEqual([['old-db', false], ['new-db', true]]);
  });

  test('a database that is still settling is retried; a lasting failure answers FAILED with the reason', async () => {
    const busy = () => named('InvalidDBClusterStateFault', 'instances are being added');
    const retried = load({ ModifyDBCluster: [busy(), {}] });
    await retried.handler(event('Create', { Kind: 'DBCluster', Target: 'site-db', Enabled: 'true' }));
    expect(retried.sent).toHaveLength(2);
    expect(retried.responses[0].Status).toBe('SUCCESS');
    const failed = load({ ModifyDBCluster: [busy(), busy(), busy()] });
    await failed.handler(event('Create', { Kind: 'DBCluster', Target: 'site-db', Enabled: 'true' }));
    expect(failed.responses[0]).toMatchObject({ Status: 'FAILED', Reason: 'deletion protection of DBCluster site-db: InvalidDBClusterStateFault: instances are being added' });
  });

  test('an access error on Create fails the resource rather than pretending', async () => {
    const h = load({ ModifyLoadBalancerAttributes: [named('AccessDenied', 'not allowed')] });
    await h.handler(event('Create', { Kind: 'LoadBalancer', Target: ALB, Enabled: 'true' }));
    expect(h.responses[0].Status).toBe('FAILED');
  });
});

describe('the template check', () => {
  const build = (breakIt: boolean) => {
    const stack = newStack();
    const web = new DjangoGunicornService(stack, 'Web', { image: IMAGE });
    const db = new DjangoDatabase(stack, 'Db', { vpc: web.vpc });
    if (breakIt) {
      // the template before this change: protection in the template, nothing switching it on
      (db.cluster!.node.defaultChild as CfnResource).addPropertyOverride('DeletionProtection', true);
      (db.cluster!.node.findChild('DeletionProtection').node.defaultChild as CfnResource).addPropertyOverride('Enabled', 'false');
      (web.loadBalancer!.node.defaultChild as CfnResource).addPropertyOverride('LoadBalancerAttributes.99', { Key: 'deletion_protection.enabled', Value: 'true' });
    }
    const t = Template.fromStack(stack).toJSON() as CfnTemplate;
    const lb = stack.getLogicalId(web.loadBalancer!.node.defaultChild as CfnElement);
    const cluster = stack.getLogicalId(db.cluster!.node.defaultChild as CfnElement);
    return { lb: deletionProtectionProblems(t, lb), cluster: deletionProtectionProblems(t, cluster) };
  };

  test('passes the library\'s database and load balancer', () => {
    expect(build(false)).toEqual({ lb: [], cluster: [] });
  });

  test('fails protection in the template, and a database nothing switches it on for', () => {
    expect(build(true)).toEqual({
      lb: ['deletion protection in the template (a failed first create could not roll back)'],
      cluster: [
        'deletion protection in the template (a failed first create could not roll back)',
        'no Custom::DjangoDeletionProtection switches deletion protection on',
      ],
    });
  });
});

describe('the template', () => {
  const stack = newStack();
  new DjangoGunicornService(stack, 'Web', { image: IMAGE });
  new DjangoGunicornService(stack, 'Other', { image: IMAGE, loadBalancerDeletionProtection: false });
  const t = Template.fromStack(stack);

  test('the load balancer carries no deletion protection attribute: a failed first create can delete it', () => {
    for (const lb of Object.values<any>(t.findResources('AWS::ElasticLoadBalancingV2::LoadBalancer'))) {
      expect(lb.Properties.LoadBalancerAttributes.map((a: any) => a.Key)).not.toContain('deletion_protection.enabled');
    }
  });

  test('a custom resource per load balancer sets it, from one handler per stack allowed to modify exactly those', () => {
    const protections = Object.values<any>(t.findResources('Custom::DjangoDeletionProtection')).map((r) => r.Properties);
    expect(protections.map((p) => [p.Kind, p.Enabled]).sort()).toEqual([['LoadBalancer', 'false'], ['LoadBalancer', 'true']]);
    expect(Object.keys(t.findResources('AWS::Lambda::Function')).filter((id) => id.includes('DeletionProtection'))).toHaveLength(1);
    // The handler's rights sit in its one customer-managed policy, no inline policy.
    expect(Object.keys(t.findResources('AWS::IAM::Policy')).filter((id) => id.startsWith('CdkDjangoDeletionProtection'))).toEqual([]);
    const [policy] = Object.entries<any>(t.findResources('AWS::IAM::ManagedPolicy')).filter(([id]) => id.startsWith('CdkDjangoDeletionProtection')).map(([, p]) => p);
    const statements: any[] = policy.Properties.PolicyDocument.Statement;
    const modify = statements.filter((st) => st.Action === 'elasticloadbalancing:ModifyLoadBalancerAttributes');
    expect(modify.map((st) => st.Resource.Ref).sort()).toEqual(Object.keys(t.findResources('AWS::ElasticLoadBalancingV2::LoadBalancer')).sort());
    expect(JSON.stringify(statements)).not.toMatch(/"Resource":"\*"/);
  });
});
