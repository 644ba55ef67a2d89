import { Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';
import { DjangoApp, DjangoAppProps, DjangoGunicornService, DjangoVpcEndpoints, ReverseProxy } from '../../src';
import { requireInterfaceEndpoint, vpcEndpointsOf } from '../../src/endpoints';
import { DjangoServiceBaseProps } from '../../src/services/service-props';
import { formatFindings, nagFindings } from '../helpers/compliance';
import { IMAGE, newStack, only, validationMessage } from '../helpers/template';

const SAMPLE_PROJECT = `${__dirname}/../../examples/mysite`;

/** Images a VPC without NAT can pull: this account's ECR (tokens), for the app and the proxy. */
function privateImages(stack: Construct): Pick<DjangoServiceBaseProps, 'image' | 'reverseProxy'> {
  const repo = ecr.Repository.fromRepositoryName(stack, 'Repo', 'mysite');
  const nginx = ecr.Repository.fromRepositoryName(stack, 'NginxRepo', 'nginx');
  return {
    image: ecs.ContainerImage.fromEcrRepository(repo, '1.0.0'),
    reverseProxy: ReverseProxy.nginx({ image: ecs.ContainerImage.fromEcrRepository(nginx, '1.28-alpine') }),
  };
}

function service(props: (stack: Stack) => Partial<DjangoServiceBaseProps>): { stack: Stack; svc: DjangoGunicornService; template: Template } {
  const stack = newStack();
  const svc = new DjangoGunicornService(stack, 'Web', { image: IMAGE, ...props(stack) });
  return { stack, svc, template: Template.fromStack(stack) };
}

function app(props: (stack: Stack) => Partial<DjangoAppProps>): { stack: Stack; app: DjangoApp; template: Template } {
  const stack = newStack();
  const site = new DjangoApp(stack, 'Site', { image: IMAGE, ...props(stack) });
  return { stack, app: site, template: Template.fromStack(stack) };
}

const interfaceServices = (t: Template) => Object.values(t.findResources('AWS::EC2::VPCEndpoint'))
  .filter((e: any) => e.Properties.VpcEndpointType === 'Interface')
  .map((e: any) => JSON.stringify(e.Properties.ServiceName).match(/\.([a-z.-]+)"\]\]\}$/)?.[1] ?? JSON.stringify(e.Properties.ServiceName))
  .sort();

describe('ARM64 (Graviton)', () => {
  const arm = service(() => ({ cpuArchitecture: ecs.CpuArchitecture.ARM64 }));

  test('sets the task definition\'s runtime platform to ARM64 on Linux', () => {
    expect(only(arm.template, 'AWS::ECS::TaskDefinition').RuntimePlatform).toEqual({ CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' });
  });

  test('leaves the runtime platform out by default (x86_64, templates unchanged)', () => {
    const plain = service(() => ({}));
    expect(only(plain.template, 'AWS::ECS::TaskDefinition').RuntimePlatform).toBeUndefined();
  });

  test('reaches every task definition of a DjangoApp', () => {
    const site = app(() => ({ cpuArchitecture: ecs.CpuArchitecture.ARM64, requirements: { websockets: true } }));
    const platforms = Object.values(site.template.findResources('AWS::ECS::TaskDefinition')).map((t: any) => t.Properties.RuntimePlatform?.CpuArchitecture);
    // the HTTP service, the WebSocket service and the one-off task (the migrations run it)
    expect(platforms).toEqual(['ARM64', 'ARM64', 'ARM64']);
  });

  test('an asset image built for linux/amd64 is refused on ARM64', () => {
    const image = ecs.ContainerImage.fromAsset(SAMPLE_PROJECT, { platform: Platform.LINUX_AMD64 });
    expect(validationMessage((s) => new DjangoGunicornService(s, 'Web', { image, cpuArchitecture: ecs.CpuArchitecture.ARM64 })))
      .toMatch(/cpuArchitecture: the image is built for linux\/amd64 but the tasks run on linux\/arm64: build it with platform: Platform.LINUX_ARM64/);
  });

  test('an asset image built for linux/arm64 is refused on the default x86_64', () => {
    const image = ecs.ContainerImage.fromAsset(SAMPLE_PROJECT, { platform: Platform.LINUX_ARM64 });
    expect(validationMessage((s) => new DjangoGunicornService(s, 'Web', { image })))
      .toMatch(/cpuArchitecture: the image is built for linux\/arm64 but the tasks run on linux\/amd64/);
  });

  test('an asset image without a platform on ARM64 is warned about; with linux/arm64 it is not', () => {
    const warned = service(() => ({ image: ecs.ContainerImage.fromAsset(SAMPLE_PROJECT), cpuArchitecture: ecs.CpuArchitecture.ARM64 }));
    Annotations.fromStack(warned.stack).hasWarning('/Test/Web', Match.stringLikeRegexp('image asset has no platform.*Platform.LINUX_ARM64.*cdk-django:asset-platform'));
    const image = ecs.ContainerImage.fromAsset(SAMPLE_PROJECT, { platform: Platform.LINUX_ARM64 });
    const built = service(() => ({ image, cpuArchitecture: ecs.CpuArchitecture.ARM64 }));
    expect(Annotations.fromStack(built.stack).findWarning('*', Match.stringLikeRegexp('asset-platform'))).toEqual([]);
  });
});

describe('Fargate Spot for web', () => {
  const spot = service(() => ({ spot: true }));

  test('keeps one on-demand task and puts the rest on Spot, with no launch type', () => {
    const svc = only(spot.template, 'AWS::ECS::Service');
    expect(svc.CapacityProviderStrategy).toEqual([
      { CapacityProvider: 'FARGATE', Base: 1, Weight: 0 },
      { CapacityProvider: 'FARGATE_SPOT', Weight: 1 },
    ]);
    expect(svc.LaunchType).toBeUndefined();
  });

  test('associates FARGATE and FARGATE_SPOT with the cluster created here, before the service', () => {
    const assoc = spot.template.findResources('AWS::ECS::ClusterCapacityProviderAssociations');
    const [id] = Object.keys(assoc);
    expect((assoc[id] as any).Properties.CapacityProviders).toEqual(['FARGATE', 'FARGATE_SPOT']);
    const [svc] = Object.values(spot.template.findResources('AWS::ECS::Service')) as any[];
    expect(svc.DependsOn).toContain(id);
  });

  test('is off by default: launch type FARGATE, no capacity provider association', () => {
    const plain = service(() => ({}));
    expect(only(plain.template, 'AWS::ECS::Service')).toMatchObject({ LaunchType: 'FARGATE' });
    expect(only(plain.template, 'AWS::ECS::Service').CapacityProviderStrategy).toBeUndefined();
    plain.template.resourceCountIs('AWS::ECS::ClusterCapacityProviderAssociations', 0);
  });

  test('an existing cluster without Fargate capacity providers is refused', () => {
    expect(validationMessage((s) => {
      const vpc = new ec2.Vpc(s, 'Vpc');
      new DjangoGunicornService(s, 'Web', { image: IMAGE, spot: true, cluster: new ecs.Cluster(s, 'Cluster', { vpc }) });
    })).toMatch(/spot: the existing cluster has no FARGATE_SPOT capacity provider: create it with enableFargateCapacityProviders: true/);
  });

  test('an existing cluster with Fargate capacity providers is accepted', () => {
    const ok = service((s) => ({ spot: true, cluster: new ecs.Cluster(s, 'Cluster', { vpc: new ec2.Vpc(s, 'Vpc'), enableFargateCapacityProviders: true }) }));
    expect(only(ok.template, 'AWS::ECS::Service').CapacityProviderStrategy).toHaveLength(2);
  });

  test('an imported cluster is warned about (its capacity providers are not in the app); a defined one is not', () => {
    const imported = service((s) => ({
      spot: true,
      cluster: ecs.Cluster.fromClusterAttributes(s, 'Imported', { clusterName: 'shared', vpc: new ec2.Vpc(s, 'Vpc') }),
    }));
    Annotations.fromStack(imported.stack).hasWarning('/Test/Web', Match.stringLikeRegexp('spot: the cluster is imported.*FARGATE_SPOT.*cdk-django:spot-cluster'));
    expect(Annotations.fromStack(spot.stack).findWarning('*', Match.stringLikeRegexp('spot-cluster'))).toEqual([]);
  });

  test('reaches the web services of a DjangoApp and its cluster', () => {
    const site = app(() => ({ spot: true }));
    expect(only(site.template, 'AWS::ECS::Service').CapacityProviderStrategy).toHaveLength(2);
    site.template.resourceCountIs('AWS::ECS::ClusterCapacityProviderAssociations', 1);
  });
});

describe('NAT gateways', () => {
  test('two by default, one per AZ', () => {
    service(() => ({})).template.resourceCountIs('AWS::EC2::NatGateway', 2);
  });

  test('one, shared by both AZs, and no endpoints', () => {
    const one = service(() => ({ vpcOptions: { natGateways: 1 } }));
    one.template.resourceCountIs('AWS::EC2::NatGateway', 1);
    one.template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    // both private route tables route out through it
    const routes = Object.values(one.template.findResources('AWS::EC2::Route')).filter((r: any) => r.Properties.NatGatewayId);
    expect(routes).toHaveLength(2);
  });

  test('interface endpoints with NAT, when listed, plus the S3 gateway endpoint', () => {
    const t = service(() => ({ vpcOptions: { natGateways: 1, interfaceEndpoints: [ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER] } })).template;
    expect(interfaceServices(t)).toEqual(['ecr.dkr']);
    t.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway' });
  });

  test.each([3, -1, 1.5])('natGateways %p is refused', (natGateways) => {
    expect(validationMessage((s) => new DjangoGunicornService(s, 'Web', { image: IMAGE, vpcOptions: { natGateways } })))
      .toMatch(new RegExp(`vpcOptions.natGateways: must be 0, 1 or 2 \\(the VPC spans 2 AZs\\), got ${natGateways}`));
  });

  test('vpcOptions with an existing vpc is refused', () => {
    expect(validationMessage((s) => new DjangoGunicornService(s, 'Web', { image: IMAGE, vpc: new ec2.Vpc(s, 'Vpc'), vpcOptions: { natGateways: 1 } })))
      .toMatch(/vpcOptions: applies to the VPC created here; with an existing vpc/);
  });

  test('vpcOptions with an existing cluster is refused (on DjangoApp too)', () => {
    expect(validationMessage((s) => new DjangoApp(s, 'Site', {
      image: IMAGE, cluster: new ecs.Cluster(s, 'Cluster', { vpc: new ec2.Vpc(s, 'Vpc') }), vpcOptions: { natGateways: 0 },
    }))).toMatch(/vpcOptions: applies to the VPC created here; with an existing cluster/);
  });
});

describe('no NAT gateway: VPC endpoints', () => {
  const none = service((s) => ({ ...privateImages(s), vpcOptions: { natGateways: 0 } }));

  test('no NAT gateway, isolated app subnets, tasks in them', () => {
    none.template.resourceCountIs('AWS::EC2::NatGateway', 0);
    const subnets = none.svc.vpc.isolatedSubnets.map((sn) => none.stack.resolve(sn.subnetId));
    expect(subnets).toHaveLength(2);
    expect(only(none.template, 'AWS::ECS::Service').NetworkConfiguration.AwsvpcConfiguration.Subnets).toEqual(subnets);
  });

  test('interface endpoints for ECR (api, dkr), Logs, Secrets Manager and KMS, private DNS on, in the app subnets', () => {
    expect(interfaceServices(none.template)).toEqual(['ecr.api', 'ecr.dkr', 'kms', 'logs', 'secretsmanager']);
    const subnets = none.svc.vpc.isolatedSubnets.map((sn) => none.stack.resolve(sn.subnetId));
    for (const e of Object.values(none.template.findResources('AWS::EC2::VPCEndpoint')) as any[]) {
      if (e.Properties.VpcEndpointType !== 'Interface') continue;
      expect(e.Properties.PrivateDnsEnabled).toBe(true);
      expect(e.Properties.SubnetIds).toEqual(subnets);
    }
  });

  test('an S3 gateway endpoint on the app subnets\' route tables (image layers, custom resource responses)', () => {
    const gw = Object.values(none.template.findResources('AWS::EC2::VPCEndpoint')).filter((e: any) => e.Properties.VpcEndpointType === 'Gateway') as any[];
    expect(gw).toHaveLength(1);
    expect(JSON.stringify(gw[0].Properties.ServiceName)).toMatch(/\.s3"/);
    const tables = none.svc.vpc.isolatedSubnets.map((sn) => none.stack.resolve(sn.routeTable.routeTableId));
    expect(gw[0].Properties.RouteTableIds).toEqual(tables);
  });

  test('the endpoints admit HTTPS from the VPC CIDR only, and open nothing outbound', () => {
    const endpoints = vpcEndpointsOf(none.svc.vpc)!;
    const sg = none.stack.resolve(endpoints.securityGroup.securityGroupId)['Fn::GetAtt'][0];
    const props = (none.template.findResources('AWS::EC2::SecurityGroup')[sg] as any).Properties;
    expect(props.SecurityGroupIngress).toEqual([expect.objectContaining({
      CidrIp: '10.0.0.0/16', FromPort: 443, ToPort: 443, IpProtocol: 'tcp',
    })]);
    expect(props.SecurityGroupEgress).toEqual([expect.objectContaining({ CidrIp: '255.255.255.255/32' })]);
  });

  test('is clean on AwsSolutions, NIST 800-53 r5 and HIPAA', () => {
    expect(formatFindings(nagFindings(none.stack))).toBe('');
  });

  test('a listed endpoint set must hold what every task needs to start', () => {
    expect(validationMessage((s) => new DjangoGunicornService(s, 'Web', {
      ...privateImages(s),
      vpcOptions: { natGateways: 0, interfaceEndpoints: [ec2.InterfaceVpcEndpointAwsService.ECR, ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER] },
    }))).toMatch(/vpcOptions.interfaceEndpoints: without NAT gateways a task cannot start without CLOUDWATCH_LOGS .*SECRETS_MANAGER .*add ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS, SECRETS_MANAGER/);
  });

  test('a listed set with the required four is taken as given (KMS left out)', () => {
    const t = service((s) => ({
      ...privateImages(s),
      vpcOptions: {
        natGateways: 0,
        interfaceEndpoints: [ec2.InterfaceVpcEndpointAwsService.ECR, ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
          ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS, ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER],
      },
    })).template;
    expect(interfaceServices(t)).toEqual(['ecr.api', 'ecr.dkr', 'logs', 'secretsmanager']);
  });

  test('an image outside the account\'s ECR is refused: the app image', () => {
    expect(validationMessage((s) => new DjangoGunicornService(s, 'Web', { image: IMAGE, reverseProxy: privateImages(s).reverseProxy, vpcOptions: { natGateways: 0 } })))
      .toMatch(/image: the app container's image 'example\/mysite:1' is outside this account's ECR/);
  });

  test('an image outside the account\'s ECR is refused: the default proxy image from ECR Public', () => {
    expect(validationMessage((s) => new DjangoGunicornService(s, 'Web', { image: privateImages(s).image, vpcOptions: { natGateways: 0 } })))
      .toMatch(/proxy: the nginx container's image 'public.ecr.aws\/.*' is outside this account's ECR.*or use natGateways: 1/);
  });

  test('requireInterfaceEndpoint adds to a VPC created with endpoints, once, and leaves other VPCs alone', () => {
    const stack = newStack();
    const svc = new DjangoGunicornService(stack, 'Web', { ...privateImages(stack), vpcOptions: { natGateways: 0 } });
    expect(requireInterfaceEndpoint(svc.vpc, ec2.InterfaceVpcEndpointAwsService.SSM_MESSAGES)).toBe(true);
    expect(requireInterfaceEndpoint(svc.vpc, ec2.InterfaceVpcEndpointAwsService.SSM_MESSAGES)).toBe(true);
    expect(interfaceServices(Template.fromStack(stack))).toEqual(['ecr.api', 'ecr.dkr', 'kms', 'logs', 'secretsmanager', 'ssmmessages']);
    expect(requireInterfaceEndpoint(new ec2.Vpc(stack, 'Other'), ec2.InterfaceVpcEndpointAwsService.SSM_MESSAGES)).toBe(false);
    expect(svc.vpcEndpoints).toBeInstanceOf(DjangoVpcEndpoints);
  });
});

describe('no NAT gateway: a DjangoApp with a database', () => {
  const site = app((s) => ({ ...privateImages(s), vpcOptions: { natGateways: 0 }, databaseOptions: {} }));

  test('adds the ECS endpoint the rotation\'s redeploy calls, with Secrets Manager', () => {
    expect(interfaceServices(site.template)).toEqual(['ecr.api', 'ecr.dkr', 'ecs', 'kms', 'logs', 'secretsmanager']);
  });

  test('gives no egress warning for the database functions: the endpoints are there', () => {
    expect(Annotations.fromStack(site.stack).findWarning('*', Match.stringLikeRegexp('database-rotation-endpoint'))).toEqual([]);
  });

  test('runs the migrations in the tasks\' isolated subnets', () => {
    const subnets = site.app.vpc.isolatedSubnets.map((sn) => site.stack.resolve(sn.subnetId));
    const run = Object.values(site.template.findResources('Custom::DjangoMigrations'))[0] as any;
    expect(JSON.stringify(run.Properties)).toContain(JSON.stringify(subnets[0]));
    expect(JSON.stringify(run.Properties)).toContain(JSON.stringify(subnets[1]));
  });

  test('is clean on AwsSolutions, NIST 800-53 r5 and HIPAA', () => {
    expect(formatFindings(nagFindings(site.stack))).toBe('');
  });

  test('an existing VPC without egress keeps the warning, naming the endpoints the functions need', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 0, subnetConfiguration: [{ name: 'app', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }, { name: 'pub', subnetType: ec2.SubnetType.PUBLIC }] });
    new DjangoApp(stack, 'Site', { ...privateImages(stack), vpc, databaseOptions: {} });
    Annotations.fromStack(stack).hasWarning('/Test/Site', Match.stringLikeRegexp('rotation functions run in the database subnets and need a Secrets Manager interface endpoint and an ECS one .*S3 gateway endpoint.*cdk-django:database-rotation-endpoint'));
  });
});

describe('service subnets', () => {
  test('vpcSubnets places the tasks', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', {
      subnetConfiguration: [
        { name: 'pub', subnetType: ec2.SubnetType.PUBLIC },
        { name: 'a', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        { name: 'b', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      ],
    });
    new DjangoGunicornService(stack, 'Web', { image: IMAGE, vpc, vpcSubnets: { subnetGroupName: 'b' } });
    const wanted = vpc.selectSubnets({ subnetGroupName: 'b' }).subnetIds.map((id) => stack.resolve(id));
    expect(only(Template.fromStack(stack), 'AWS::ECS::Service').NetworkConfiguration.AwsvpcConfiguration.Subnets).toEqual(wanted);
  });
});
