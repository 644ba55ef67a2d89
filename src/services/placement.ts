import { Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { IConstruct } from 'constructs';
import { warnUser } from '../annotations';
import { Problem } from '../errors';
import { DjangoPlacementProps, DjangoVpcOptions } from './placement-props';

/** Interface endpoints every task needs to start in a VPC without NAT: image pull, logs, secrets. */
export const REQUIRED_ENDPOINTS: ReadonlyArray<[ec2.InterfaceVpcEndpointAwsService, string]> = [
  [ec2.InterfaceVpcEndpointAwsService.ECR, 'ECR (api: the image pull authorization)'],
  [ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER, 'ECR_DOCKER (dkr: the image manifests)'],
  [ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS, 'CLOUDWATCH_LOGS (the awslogs driver)'],
  [ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER, 'SECRETS_MANAGER (SECRET_KEY and the database credentials)'],
];

/** The interface endpoints of a VPC created with `natGateways: 0` when none are listed. */
export const DEFAULT_ENDPOINTS: readonly ec2.InterfaceVpcEndpointAwsService[] = [
  ...REQUIRED_ENDPOINTS.map(([service]) => service),
  ec2.InterfaceVpcEndpointAwsService.KMS,
];

/** The default NAT gateway count: one per AZ. */
export const DEFAULT_NAT_GATEWAYS = 2;

/** What the props of a service or a DjangoApp say about placement, with the existing resources they name. */
export interface PlacementInput extends DjangoPlacementProps {
  readonly vpc?: ec2.IVpc;
  readonly cluster?: ecs.ICluster;
  readonly loadBalancer?: elbv2.IApplicationLoadBalancer;
  readonly listener?: elbv2.IApplicationListener;
}

/** Every problem with the placement props, each naming its prop. */
export function placementProblems(props: PlacementInput): Problem[] {
  const problems: Problem[] = [...vpcOptionsProblems(props.vpcOptions)];
  const existing = props.vpc ? 'vpc' : props.cluster ? 'cluster' : props.loadBalancer ? 'loadBalancer' : undefined;
  if (props.vpcOptions && existing) {
    problems.push({ prop: 'vpcOptions', message: `applies to the VPC created here; with an existing ${existing} the VPC is its own: remove vpcOptions, or set up NAT and endpoints where that VPC is defined` });
  }
  if (props.listener && !props.vpc && !props.cluster) {
    problems.push({ prop: 'listener', message: 'an existing listener\'s load balancer lives in a VPC this construct cannot see: give vpc (or cluster) too, or the target group would be created in a new VPC' });
  }
  if (props.vpc && props.cluster && differentVpcs(props.vpc, props.cluster.vpc)) {
    problems.push({ prop: 'cluster', message: 'the cluster is in another VPC than vpc; give the cluster\'s VPC as vpc, or leave vpc out' });
  }
  const vpc = props.vpc ?? props.cluster?.vpc;
  if (vpc && props.loadBalancer?.vpc && differentVpcs(vpc, props.loadBalancer.vpc)) {
    problems.push({ prop: 'loadBalancer', message: `the load balancer is in another VPC than the ${props.vpc ? 'vpc' : 'cluster'}; tasks and load balancer must share a VPC` });
  }
  if (props.spot && props.cluster instanceof ecs.Cluster && !props.cluster.capacityProviderNames.includes('FARGATE_SPOT')) {
    problems.push({ prop: 'spot', message: 'the existing cluster has no FARGATE_SPOT capacity provider: create it with enableFargateCapacityProviders: true (or call cluster.enableFargateCapacityProviders())' });
  }
  return problems;
}

function vpcOptionsProblems(options: DjangoVpcOptions | undefined): Problem[] {
  if (!options) return [];
  const problems: Problem[] = [];
  const nat = options.natGateways ?? DEFAULT_NAT_GATEWAYS;
  if (![0, 1, 2].includes(nat)) {
    problems.push({ prop: 'vpcOptions.natGateways', message: `must be 0, 1 or 2 (the VPC spans 2 AZs), got ${nat}` });
  }
  const listed = options.interfaceEndpoints;
  if (nat === 0 && listed) {
    const names = new Set(listed.map((s) => s.shortName));
    const missing = REQUIRED_ENDPOINTS.filter(([service]) => !names.has(service.shortName)).map(([, why]) => why);
    if (missing.length > 0) {
      problems.push({ prop: 'vpcOptions.interfaceEndpoints', message: `without NAT gateways a task cannot start without ${missing.join(', ')}: add ec2.InterfaceVpcEndpointAwsService.${missing.map((m) => m.split(' ')[0]).join(', ')}, or leave interfaceEndpoints out for the default set` });
    }
  }
  return problems;
}

/** Two VPCs known to differ: two literal ids, or two VPCs defined in the app (Refs), that are not the same. */
function differentVpcs(a: ec2.IVpc, b: ec2.IVpc): boolean {
  if (a === b) return false;
  const id = (v: ec2.IVpc) => (Token.isUnresolved(v.vpcId) ? Stack.of(v).resolve(v.vpcId) : v.vpcId);
  const [x, y] = [id(a), id(b)];
  if (typeof x === 'string' && typeof y === 'string') return x !== y;
  return typeof x?.Ref === 'string' && typeof y?.Ref === 'string' && (x.Ref !== y.Ref || Stack.of(a) !== Stack.of(b));
}

/** The interface endpoints the created VPC gets: the listed ones, the default set without NAT, else none. */
export function interfaceEndpointsOf(options: DjangoVpcOptions | undefined): readonly ec2.InterfaceVpcEndpointAwsService[] {
  return options?.interfaceEndpoints ?? ((options?.natGateways ?? DEFAULT_NAT_GATEWAYS) === 0 ? DEFAULT_ENDPOINTS : []);
}

/** The subnets the tasks run in: the given ones, else the private ones (isolated where the VPC has no others). */
export function serviceSubnetsOf(vpc: ec2.IVpc, vpcSubnets?: ec2.SubnetSelection): ec2.SubnetSelection {
  if (vpcSubnets) return vpcSubnets;
  const isolatedOnly = vpc.privateSubnets.length === 0 && vpc.isolatedSubnets.length > 0;
  return { subnetType: isolatedOnly ? ec2.SubnetType.PRIVATE_ISOLATED : ec2.SubnetType.PRIVATE_WITH_EGRESS };
}

/**
 * Fargate Spot above an on-demand floor: the first task always runs on FARGATE (base 1), every task
 * beyond it goes to FARGATE_SPOT (weight 1 against 0), so a reclaim of every Spot task leaves the site up.
 */
export function capacityProviderStrategiesOf(spot: boolean | undefined): ecs.CapacityProviderStrategy[] | undefined {
  if (!spot) return undefined;
  return [
    { capacityProvider: 'FARGATE', base: 1, weight: 0 },
    { capacityProvider: 'FARGATE_SPOT', weight: 1 },
  ];
}

/** The runtime platform of the task definition, when an architecture is chosen. */
export function runtimePlatformOf(cpuArchitecture: ecs.CpuArchitecture | undefined): ecs.RuntimePlatform | undefined {
  return cpuArchitecture ? { cpuArchitecture, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX } : undefined;
}

/** The docker platform an asset image is built for (`linux/arm64`), or undefined when it is not set. */
export function assetPlatformOf(image: ecs.ContainerImage): string | undefined {
  if (!(image instanceof ecs.AssetImage)) return undefined;
  // AssetImage keeps its props in a field that is private in its types only (as its directory, see project.ts).
  const platform = (image as unknown as { props?: { platform?: { platform?: unknown } } }).props?.platform?.platform;
  return typeof platform === 'string' ? platform : undefined;
}

const DOCKER_PLATFORM: Record<string, string> = { ARM64: 'linux/arm64', X86_64: 'linux/amd64' };

/**
 * An asset image built for another architecture than the tasks run on fails to start (exec format
 * error): an explicit mismatch is a problem; an asset without a platform builds for the machine that
 * runs `cdk deploy`, which is warned about for ARM64.
 */
export function architectureProblems(image: ecs.ContainerImage, cpuArchitecture: ecs.CpuArchitecture | undefined): Problem[] {
  const platform = assetPlatformOf(image);
  const wanted = DOCKER_PLATFORM[(cpuArchitecture ?? ecs.CpuArchitecture.X86_64)._cpuArchitecture];
  if (platform === undefined || wanted === undefined || platform === wanted) return [];
  return [{ prop: 'cpuArchitecture', message: `the image is built for ${platform} but the tasks run on ${wanted}: build it with platform: Platform.${wanted === 'linux/arm64' ? 'LINUX_ARM64' : 'LINUX_AMD64'} (aws-cdk-lib/aws-ecr-assets), or set cpuArchitecture to match` }];
}

/** Warns when ARM64 tasks get an asset image whose platform is left to the deploying machine. */
export function warnAboutArchitecture(scope: IConstruct, image: ecs.ContainerImage, cpuArchitecture: ecs.CpuArchitecture | undefined): void {
  if (cpuArchitecture?._cpuArchitecture !== 'ARM64' || !(image instanceof ecs.AssetImage) || assetPlatformOf(image) !== undefined) return;
  warnUser(scope, 'asset-platform',
    'cpuArchitecture is ARM64 but the image asset has no platform: it is built for the machine that runs cdk deploy (x86 in most CI), and an x86 image fails on Graviton (exec format error). Give ContainerImage.fromAsset(dir, { platform: Platform.LINUX_ARM64 }).');
}

/** Warns when Spot runs in an imported cluster, whose capacity providers synth cannot see. */
export function warnAboutSpotCluster(scope: IConstruct, spot: boolean | undefined, cluster: ecs.ICluster | undefined): void {
  if (!spot || !cluster || cluster instanceof ecs.Cluster) return;
  warnUser(scope, 'spot-cluster',
    'spot: the cluster is imported, so synth cannot check that FARGATE and FARGATE_SPOT are among its capacity providers; without them the service fails to create (aws ecs put-cluster-capacity-providers adds them).');
}

/** Problems with images a task cannot pull without NAT: anything outside this account's ECR. */
export function isolatedImageProblems(imageNames: ReadonlyArray<[container: string, image: string]>): Problem[] {
  const problems: Problem[] = [];
  for (const [container, image] of imageNames) {
    if (Token.isUnresolved(image) || /^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\//.test(image)) continue;
    problems.push({
      prop: container === 'app' ? 'image' : 'proxy',
      message: `the ${container} container's image '${image}' is outside this account's ECR, which a VPC without NAT gateways (vpcOptions.natGateways: 0) cannot reach (ECR Public and Docker Hub have no VPC endpoint): copy it to a private ECR repository (or an ECR pull-through cache) and give that, or use natGateways: 1`,
    });
  }
  return problems;
}
