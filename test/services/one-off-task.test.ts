/**
 * One-off commands: the single-container task definition every DjangoApp has (and a service gets with
 * addOneOffTask), the migrations running it, the run-task and logs outputs, and ECS Exec as an opt-in.
 */
import { spawnSync } from 'node:child_process';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { DjangoApp, DjangoAppProps, DjangoGunicornService, DjangoOneOffTask, DjangoUwsgiService } from '../../src';
import { renderExecuteCommand, renderLogsTailCommand, renderRunTaskCommand } from '../../src/services/run-task-command';
import { formatFindings, nagFindings } from '../helpers/compliance';
import { migrationsTaskProblems, runTaskOutputProblems } from '../helpers/one-off-checks';
import { IMAGE, newStack, validationMessage } from '../helpers/template';
import { CfnTemplate, Shape, refId, resourcesOfType } from '../helpers/template-checks';

function build(props: Partial<DjangoAppProps> = {}): { stack: Stack; app: DjangoApp; template: CfnTemplate; shape: Shape } {
  const stack = newStack();
  const app = new DjangoApp(stack, 'Site', { image: IMAGE, ...props });
  const template = Template.fromStack(stack).toJSON() as CfnTemplate;
  return { stack, app, template, shape: { name: 'app', template } };
}

const idOf = (t: CfnTemplate, type: string, pattern: RegExp = /./) => resourcesOfType(t, type).map(([id]) => id).find((id) => pattern.test(id))!;
const clone = (s: Shape): Shape => ({ name: `${s.name}-broken`, template: JSON.parse(JSON.stringify(s.template)) });

// GIVEN an app with a database (migrations on), and one with ECS Exec (each template costs seconds)
const plain = build({ databaseOptions: {} });
const exec = build({ databaseOptions: {}, enableExecuteCommand: true });

describe('the one-off task definition of a DjangoApp', () => {
  const t = plain.template;
  const web = t.Resources[idOf(t, 'AWS::ECS::TaskDefinition', /WebTask/)].Properties;
  const oneOff = t.Resources[idOf(t, 'AWS::ECS::TaskDefinition', /OneOff/)].Properties;
  const webApp = web.ContainerDefinitions.find((c: any) => c.Name === 'app');

  test('holds the app container alone: no proxy, no port, no health check, its own stream prefix', () => {
    expect(oneOff.ContainerDefinitions.map((c: any) => c.Name)).toEqual(['app']);
    const [c] = oneOff.ContainerDefinitions;
    expect(c.PortMappings).toBeUndefined();
    expect(c.HealthCheck).toBeUndefined();
    expect(c.DependsOn).toBeUndefined();
    expect(c.LogConfiguration.Options).toEqual({ ...webApp.LogConfiguration.Options, 'awslogs-stream-prefix': 'one-off' });
    // without --overrides it checks the settings and exits, never serves
    expect(c.Command).toEqual(['python', 'manage.py', 'check', '--deploy']);
  });

  test('has the image, environment, secrets, roles and size of the web service\'s app container', () => {
    const [c] = oneOff.ContainerDefinitions;
    expect(c.Image).toEqual(webApp.Image);
    expect(c.Environment).toEqual(webApp.Environment);
    expect(c.Environment.map((e: any) => e.Name)).toEqual(expect.arrayContaining(['DATABASE_HOST', 'DJANGO_ALLOWED_HOSTS']));
    expect(c.Secrets).toEqual(webApp.Secrets);
    expect(c.Secrets.map((s: any) => s.Name)).toEqual(expect.arrayContaining(['DJANGO_SECRET_KEY', 'DATABASE_PASSWORD']));
    expect([oneOff.TaskRoleArn, oneOff.ExecutionRoleArn]).toEqual([web.TaskRoleArn, web.ExecutionRoleArn]);
    expect([oneOff.Cpu, oneOff.Memory, oneOff.RequiresCompatibilities, oneOff.NetworkMode]).toEqual([web.Cpu, web.Memory, ['FARGATE'], 'awsvpc']);
    expect(plain.app.oneOffTask).toBe(plain.app.httpService.oneOffTask);
  });

  test('the migrations run it, wait for the roles\' policies it shares, and may start only its family', () => {
    expect(migrationsTaskProblems(plain.shape)).toEqual([]);
    const m = t.Resources[idOf(t, 'Custom::DjangoMigrations')];
    expect(refId(m.Properties.TaskDefinitionArn)).toBe(idOf(t, 'AWS::ECS::TaskDefinition', /OneOff/));
    expect(m.Properties).toMatchObject({ TaskDefinitionFamily: oneOff.Family, ContainerName: 'app', LogStreamPrefix: 'one-off' });
    expect(m.DependsOn).toEqual(expect.arrayContaining([idOf(t, 'AWS::IAM::Policy', /WebTaskExecutionRoleDefaultPolicy/)]));
    // The migrations handler's rights sit in its own managed policy (one builder for every inline function).
    const runTask = [...resourcesOfType(t, 'AWS::IAM::Policy'), ...resourcesOfType(t, 'AWS::IAM::ManagedPolicy')]
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement)
      .find((s: any) => [s.Action].flat().includes('ecs:RunTask'));
    expect(JSON.stringify(runTask.Resource)).toContain(`:task-definition/${oneOff.Family}:*`);
  });

  test('follows a size and CPU architecture the service\'s task definition is given later (read at synthesis)', () => {
    const stack = newStack();
    const svc = new DjangoGunicornService(stack, 'Web', { image: IMAGE, cpu: 1024, memoryLimitMiB: 4096 });
    svc.addOneOffTask();
    (svc.taskDefinition.node.defaultChild as ecs.CfnTaskDefinition).runtimePlatform = { cpuArchitecture: 'ARM64', operatingSystemFamily: 'LINUX' };
    const tds = resourcesOfType(Template.fromStack(stack).toJSON() as CfnTemplate, 'AWS::ECS::TaskDefinition').map(([, td]) => td.Properties);
    expect(tds.map((p) => [p.Cpu, p.Memory, p.RuntimePlatform])).toEqual([
      ['1024', '4096', { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' }],
      ['1024', '4096', { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' }],
    ]);
  });

  test('the check fails on a migrations run of the web task definition, on a second container, and on other roles', () => {
    const onWeb = clone(plain.shape);
    onWeb.template.Resources[idOf(t, 'Custom::DjangoMigrations')].Properties.TaskDefinitionArn = { Ref: idOf(t, 'AWS::ECS::TaskDefinition', /WebTask/) };
    expect(migrationsTaskProblems(onWeb)).toEqual([expect.stringMatching(/runs SiteWebTask\w+, the task definition of a service/)]);

    const sidecar = clone(plain.shape);
    const sidecarTd = sidecar.template.Resources[idOf(t, 'AWS::ECS::TaskDefinition', /OneOff/)].Properties;
    sidecarTd.ContainerDefinitions.push(web.ContainerDefinitions.find((c: any) => c.Name === 'nginx'));
    expect(migrationsTaskProblems(sidecar)).toEqual([expect.stringMatching(/has 2 containers \(app, nginx\), not the app alone/)]);

    const ownRole = clone(plain.shape);
    ownRole.template.Resources[idOf(t, 'AWS::ECS::TaskDefinition', /OneOff/)].Properties.TaskRoleArn = { 'Fn::GetAtt': ['Other', 'Arn'] };
    expect(migrationsTaskProblems(ownRole)).toEqual([expect.stringMatching(/has another TaskRoleArn than SiteWebTask/)]);

    const otherEnv = clone(plain.shape);
    otherEnv.template.Resources[idOf(t, 'AWS::ECS::TaskDefinition', /OneOff/)].Properties.ContainerDefinitions[0].Environment.pop();
    expect(migrationsTaskProblems(otherEnv)).toEqual([expect.stringMatching(/has the image and environment of no service's app container/)]);
  });
});

describe('the RunTaskCommand output', () => {
  const t = plain.template;
  const outputs = Object.entries<any>(t.Outputs!);
  const [runId, run] = outputs.find(([id]) => /RunTaskCommand/.test(id))!;
  const parts: any[] = run.Value['Fn::Join'][1];
  const service = t.Resources[idOf(t, 'AWS::ECS::Service')].Properties;

  test('names the template\'s cluster, one-off task definition, the service\'s subnets and security group', () => {
    expect(runTaskOutputProblems(plain.shape)).toEqual([]);
    expect(parts.filter((p) => typeof p !== 'string')).toEqual([
      service.Cluster,
      { Ref: idOf(t, 'AWS::ECS::TaskDefinition', /OneOff/) },
      ...service.NetworkConfiguration.AwsvpcConfiguration.Subnets,
      ...service.NetworkConfiguration.AwsvpcConfiguration.SecurityGroups,
    ]);
    expect(service.NetworkConfiguration.AwsvpcConfiguration.Subnets).toHaveLength(2);
    expect(parts[0]).toBe('aws ecs run-task --cluster ');
    expect(parts.join(' ')).not.toContain('--enable-execute-command');
  });

  test('is one shell command whose arguments arrive whole: the network shorthand and the overrides JSON', () => {
    // the references as the values CloudFormation gives them, then the line through a real shell
    const line = parts.map((p) => (typeof p === 'string' ? p : `${refId(p) ?? 'x'}-id`)).join('');
    const res = spawnSync('/bin/sh', ['-c', line.replace(/^aws /, 'printf "%s\\n" ')], { encoding: 'utf8' });
    expect(res.status).toBe(0);
    const argv = res.stdout.split('\n').slice(0, -1);
    const arg = (flag: string) => argv[argv.indexOf(flag) + 1];
    expect(argv.slice(0, 2)).toEqual(['ecs', 'run-task']);
    expect(arg('--launch-type')).toBe('FARGATE');
    expect(arg('--network-configuration')).toMatch(/^awsvpcConfiguration=\{subnets=\[SiteVpcappSubnet1\w+-id,SiteVpcappSubnet2\w+-id\],securityGroups=\[SiteWebServiceSecurityGroup\w+-id\],assignPublicIp=DISABLED\}$/);
    expect(JSON.parse(arg('--overrides'))).toEqual({
      containerOverrides: [{ name: 'app', command: ['python', 'manage.py', 'createsuperuser', '--noinput', '--username', 'admin', '--email', 'admin@example.com'] }],
    });
  });

  test('the logs output tails the one-off streams of the service\'s log group', () => {
    const [, logsOut] = outputs.find(([id]) => /OneOffLogsCommand/.test(id))!;
    expect(logsOut.Value['Fn::Join'][1]).toEqual(['aws logs tail ', { Ref: idOf(t, 'AWS::Logs::LogGroup', /^SiteWebLogs/) }, ' --follow --log-stream-name-prefix one-off/app/']);
  });

  test('every DjangoApp has it, without a database too, and a mixed app one (of the HTTP service)', () => {
    const simple = build();
    expect(Object.keys(simple.template.Outputs!).filter((id) => /RunTaskCommand/.test(id))).toEqual([expect.stringMatching(/^SiteWebOneOffRunTaskCommand/)]);
    expect(runTaskOutputProblems(simple.shape)).toEqual([]);
    const mixed = build({ requirements: { websockets: true } });
    expect(Object.keys(mixed.template.Outputs!).filter((id) => /RunTaskCommand/.test(id))).toEqual([expect.stringMatching(/^SiteWebOneOffRunTaskCommand/)]);
    expect(runTaskOutputProblems(mixed.shape)).toEqual([]);
  });

  test('the check fails on an output with another subnet, security group, cluster, task definition or broken quoting', () => {
    const edit = (change: (p: any[]) => void): Shape => {
      const s = clone(plain.shape);
      change(s.template.Outputs![runId].Value['Fn::Join'][1]);
      return s;
    };
    const at = (ref: any) => parts.findIndex((p) => JSON.stringify(p) === JSON.stringify(ref));
    expect(runTaskOutputProblems(edit((p) => { p[at(service.NetworkConfiguration.AwsvpcConfiguration.Subnets[1])] = { Ref: 'SiteVpcpublicSubnet1Subnet' }; })))
      .toEqual([expect.stringMatching(/subnets .* are not the service's/)]);
    expect(runTaskOutputProblems(edit((p) => { p[at(service.NetworkConfiguration.AwsvpcConfiguration.SecurityGroups[0])] = { 'Fn::GetAtt': ['SiteDatabaseSg', 'GroupId'] }; })))
      .toEqual([expect.stringMatching(/security groups .* are not the service's/)]);
    expect(runTaskOutputProblems(edit((p) => { p[at(service.Cluster)] = 'default'; })))
      .toEqual([expect.stringMatching(/--cluster is not the cluster of the service/)]);
    expect(runTaskOutputProblems(edit((p) => { p[at({ Ref: idOf(t, 'AWS::ECS::TaskDefinition', /OneOff/) })] = { Ref: idOf(t, 'AWS::ECS::TaskDefinition', /WebTask/) }; })))
      .toEqual([expect.stringMatching(/--task-definition SiteWebTask\w+ is a service's task definition/)]);
    expect(runTaskOutputProblems(edit((p) => { p[p.length - 1] = p[p.length - 1].replace(/'$/, ''); })))
      .toEqual([expect.stringMatching(/--overrides is not single-quoted JSON overriding the command of app/)]);
    expect(runTaskOutputProblems(edit((p) => { p[4] = p[4].replace('FARGATE', 'EC2'); })))
      .toEqual([expect.stringMatching(/--launch-type is not FARGATE/)]);
    expect(runTaskOutputProblems(edit((p) => { p[4] = p[4].replace("'awsvpc", 'awsvpc'); })))
      .toEqual([expect.stringMatching(/--network-configuration is not the single-quoted shorthand/)]);
  });

  test('runTaskCommandFor renders a command of the user\'s, and refuses a single quote', () => {
    const cmd = plain.stack.resolve(plain.app.oneOffTask.runTaskCommandFor(['python', 'manage.py', 'clearsessions']));
    expect(cmd['Fn::Join'][1].slice(-1)[0]).toMatch(/--overrides '\{"containerOverrides":\[\{"name":"app","command":\["python","manage.py","clearsessions"\]\}\]\}'$/);
    expect(() => plain.app.oneOffTask.runTaskCommandFor(['python', '-c', "print('x')"])).toThrow(/^command: 'print\('x'\)' holds a single quote/);
  });
});

describe('the renderers', () => {
  test('run-task, logs tail and execute-command lines', () => {
    expect(renderRunTaskCommand({
      cluster: 'c', taskDefinition: 'td', subnets: ['s1', 's2'], securityGroups: ['g'], containerName: 'app', command: ['python', 'manage.py', 'migrate'], enableExecuteCommand: true,
    })).toBe('aws ecs run-task --cluster c --task-definition td --launch-type FARGATE '
      + '--network-configuration \'awsvpcConfiguration={subnets=[s1,s2],securityGroups=[g],assignPublicIp=DISABLED}\' --enable-execute-command '
      + '--overrides \'{"containerOverrides":[{"name":"app","command":["python","manage.py","migrate"]}]}\'');
    expect(renderLogsTailCommand('/g', 'one-off', 'app')).toBe('aws logs tail /g --follow --log-stream-name-prefix one-off/app/');
    expect(renderExecuteCommand('c', 's', 'app', 'python manage.py shell')).toBe('aws ecs execute-command --cluster c '
      + '--task "$(aws ecs list-tasks --cluster c --service-name s --desired-status RUNNING --query \'taskArns[0]\' --output text)" '
      + '--container app --interactive --command \'python manage.py shell\'');
  });
});

describe('a standalone service', () => {
  test('has no one-off task unless asked; addOneOffTask adds it with its outputs, once', () => {
    const stack = newStack();
    const svc = new DjangoUwsgiService(stack, 'Web', { image: IMAGE });
    expect(svc.oneOffTask).toBeUndefined();
    const before = Template.fromStack(stack).toJSON() as CfnTemplate;
    expect(resourcesOfType(before, 'AWS::ECS::TaskDefinition')).toHaveLength(1);
    expect(before.Outputs).toBeUndefined();

    const stack2 = newStack();
    const svc2 = new DjangoUwsgiService(stack2, 'Web', { image: IMAGE });
    const task = svc2.addOneOffTask({ logStreamPrefix: 'admin', command: ['python', 'manage.py', 'help'] });
    expect(task).toBeInstanceOf(DjangoOneOffTask);
    expect(svc2.oneOffTask).toBe(task);
    const t = Template.fromStack(stack2).toJSON() as CfnTemplate;
    const c = t.Resources[idOf(t, 'AWS::ECS::TaskDefinition', /OneOff/)].Properties.ContainerDefinitions[0];
    expect([c.Command, c.LogConfiguration.Options['awslogs-stream-prefix']]).toEqual([['python', 'manage.py', 'help'], 'admin']);
    // the rendered uwsgi.ini rides along (same environment); it is inert for manage.py
    expect(c.Environment.map((e: any) => e.Name)).toContain('CDK_DJANGO_UWSGI_INI');
    expect(runTaskOutputProblems({ name: 'uwsgi', template: t })).toEqual([]);
    expect(formatFindings(nagFindings(stack2))).toBe('');
    expect(() => svc2.addOneOffTask()).toThrow(/^addOneOffTask: was called before on this service; use its oneOffTask/);
  });

  test.each<[string, any, RegExp]>([
    ['an empty command', { command: [] }, /^command: is empty/],
    ['a single quote in the example command', { exampleCommand: ['python', '-c', "print('hi')"] }, /^exampleCommand: 'print\('hi'\)' holds a single quote/],
    ['a log stream prefix with a slash', { logStreamPrefix: 'one/off' }, /^logStreamPrefix: must be letters, digits/],
  ])('%s is a ValidationError naming the prop', (_name, options, message) => {
    expect(validationMessage((scope) => new DjangoGunicornService(scope, 'Web', { image: IMAGE }).addOneOffTask(options))).toMatch(message);
  });

  test('DjangoOneOffTask alone: no security group, or subnets the VPC lacks, are ValidationErrors', () => {
    const make = (scope: any, extra: any) => {
      const vpc = new ec2.Vpc(scope, 'Vpc', { natGateways: 0, subnetConfiguration: [{ name: 'p', subnetType: ec2.SubnetType.PUBLIC }] });
      const cluster = new ecs.Cluster(scope, 'Cluster', { vpc });
      new DjangoOneOffTask(scope, 'OneOff', {
        cluster, image: IMAGE, logGroup: new logs.LogGroup(scope, 'Logs'), securityGroups: [new ec2.SecurityGroup(scope, 'Sg', { vpc })], ...extra,
      });
    };
    expect(validationMessage((s) => make(s, { securityGroups: [] }))).toMatch(/securityGroups: give 1 to 5 security groups/);
    expect(validationMessage((s) => make(s, {}))).toMatch(/^vpcSubnets: selects no usable subnets/);
    expect(validationMessage((s) => make(s, { enableExecuteCommand: true, vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC } })))
      .toMatch(/enableExecuteCommand: the given cluster has no executeCommandConfiguration.*\n.*taskRole: is needed with enableExecuteCommand/s);
  });
});

describe('ECS Exec', () => {
  const t = exec.template;

  test('off by default: the service disables it, the cluster has no configuration, no role has the channel actions', () => {
    const p = plain.template;
    expect(resourcesOfType(p, 'AWS::ECS::Service').map(([, s]) => s.Properties.EnableExecuteCommand)).toEqual([false]);
    expect(resourcesOfType(p, 'AWS::ECS::Cluster').map(([, c]) => c.Properties.Configuration)).toEqual([undefined]);
    expect(JSON.stringify(p)).not.toContain('ssmmessages');
    expect(Object.keys(p.Outputs!).filter((id) => /ShellCommand/.test(id))).toEqual([]);
  });

  test('on: sessions encrypted with a rotating key of their own and logged to an encrypted, retained log group', () => {
    const [, cluster] = resourcesOfType(t, 'AWS::ECS::Cluster')[0];
    const keyId = idOf(t, 'AWS::KMS::Key', /ExecuteCommandKey/);
    const logId = idOf(t, 'AWS::Logs::LogGroup', /ExecuteCommandLogs/);
    expect(cluster.Properties.Configuration.ExecuteCommandConfiguration).toEqual({
      KmsKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
      Logging: 'OVERRIDE',
      LogConfiguration: { CloudWatchEncryptionEnabled: true, CloudWatchLogGroupName: { Ref: logId } },
    });
    expect(t.Resources[keyId].Properties.EnableKeyRotation).toBe(true);
    expect(t.Resources[logId]).toMatchObject({ DeletionPolicy: 'Retain', Properties: { RetentionInDays: 365, KmsKeyId: { 'Fn::GetAtt': [expect.stringMatching(/^CdkDjangoKey/), 'Arn'] } } });
    expect(resourcesOfType(t, 'AWS::ECS::Service').map(([, s]) => s.Properties.EnableExecuteCommand)).toEqual([true]);
  });

  test('on: the task role (the one-off task\'s too) gets the channel actions, the session key and the session log group only', () => {
    const statements = t.Resources[idOf(t, 'AWS::IAM::Policy', /WebTaskTaskRoleDefaultPolicy/)].Properties.PolicyDocument.Statement;
    expect(statements).toEqual(expect.arrayContaining([
      expect.objectContaining({ Action: expect.arrayContaining(['ssmmessages:CreateControlChannel', 'ssmmessages:OpenDataChannel']), Resource: '*' }),
      expect.objectContaining({ Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: { 'Fn::GetAtt': [idOf(t, 'AWS::KMS::Key', /ExecuteCommandKey/), 'Arn'] } }),
    ]));
    const writes = statements.find((s: any) => JSON.stringify(s.Action).includes('logs:PutLogEvents'));
    expect(JSON.stringify(writes.Resource)).toContain(idOf(t, 'AWS::Logs::LogGroup', /ExecuteCommandLogs/));
    const oneOff = t.Resources[idOf(t, 'AWS::ECS::TaskDefinition', /OneOff/)].Properties;
    expect(oneOff.TaskRoleArn).toEqual({ 'Fn::GetAtt': [idOf(t, 'AWS::IAM::Role', /WebTaskTaskRole/), 'Arn'] });
  });

  test('on: the run-task line enables it, and a shell output opens manage.py shell in a running task of the service', () => {
    const run = Object.entries<any>(t.Outputs!).find(([id]) => /RunTaskCommand/.test(id))![1];
    expect(run.Value['Fn::Join'][1].join(' ')).toContain('--enable-execute-command');
    expect(runTaskOutputProblems(exec.shape)).toEqual([]);
    const shell = Object.entries<any>(t.Outputs!).find(([id]) => /ShellCommand/.test(id))![1];
    const parts = shell.Value['Fn::Join'][1];
    const service = t.Resources[idOf(t, 'AWS::ECS::Service')].Properties;
    expect(parts.filter((p: any) => typeof p !== 'string')).toEqual([service.Cluster, service.Cluster, { 'Fn::GetAtt': [idOf(t, 'AWS::ECS::Service'), 'Name'] }]);
    expect(parts[parts.length - 1]).toMatch(/--container app --interactive --command 'python manage.py shell'$/);
  });

  test('on: AwsSolutions, NIST 800-53 r5 and HIPAA stay clean, for DjangoApp and for a service alone', () => {
    expect(formatFindings(nagFindings(exec.stack))).toBe('');
    const stack = newStack();
    new DjangoGunicornService(stack, 'Web', { image: IMAGE, enableExecuteCommand: true }).addOneOffTask();
    expect(formatFindings(nagFindings(stack))).toBe('');
  });

  test('a given cluster without encrypted session logging is a ValidationError naming enableExecuteCommand', () => {
    const message = validationMessage((scope) => {
      const vpc = new ec2.Vpc(scope, 'Vpc');
      new DjangoGunicornService(scope, 'Web', { image: IMAGE, cluster: new ecs.Cluster(scope, 'Cluster', { vpc }), enableExecuteCommand: true });
    });
    expect(message).toMatch(/^enableExecuteCommand: the given cluster has no executeCommandConfiguration with a kmsKey and encrypted session logs/);
    // logging on, but unencrypted
    expect(validationMessage((scope) => {
      const vpc = new ec2.Vpc(scope, 'Vpc');
      const cluster = new ecs.Cluster(scope, 'Cluster', {
        vpc,
        executeCommandConfiguration: { kmsKey: new kms.Key(scope, 'K'), logging: ecs.ExecuteCommandLogging.OVERRIDE, logConfiguration: { cloudWatchLogGroup: new logs.LogGroup(scope, 'L') } },
      });
      new DjangoGunicornService(scope, 'Web', { image: IMAGE, cluster, enableExecuteCommand: true });
    })).toMatch(/^enableExecuteCommand: /);
  });

  test('a given cluster configured with a key and encrypted logs is accepted', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc');
    const cluster = ecs.Cluster.fromClusterAttributes(stack, 'Cluster', {
      clusterName: 'shared',
      vpc,
      executeCommandConfiguration: {
        kmsKey: kms.Key.fromKeyArn(stack, 'K', 'arn:aws:kms:eu-west-1:111111111111:key/abc'),
        logging: ecs.ExecuteCommandLogging.OVERRIDE,
        logConfiguration: { cloudWatchLogGroup: logs.LogGroup.fromLogGroupName(stack, 'L', 'exec-sessions'), cloudWatchEncryptionEnabled: true },
      },
    });
    const svc = new DjangoGunicornService(stack, 'Web', { image: IMAGE, cluster, enableExecuteCommand: true });
    expect(svc.service).toBeDefined();
  });
});
