import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';

/** The VPC created when no `vpc` is given: how its private subnets reach AWS and the internet. */
export interface DjangoVpcOptions {
  /**
   * NAT gateways: 2 (one per AZ), 1 (shared: the other AZ's tasks lose their route out while its AZ is
   * down), or 0 (no route to the internet: the private subnets are isolated and reach AWS through
   * `interfaceEndpoints` and an S3 gateway endpoint; every image must come from this account's ECR).
   * @default 2
   */
  readonly natGateways?: number;
  /**
   * AWS services to reach through interface endpoints in the private subnets (with an S3 gateway
   * endpoint beside them). With `natGateways: 0` they must include ECR (api and dkr), CloudWatch Logs
   * and Secrets Manager, which every task needs to start; ECS is added for database credential rotation,
   * and further endpoints can be added with `DjangoVpcEndpoints.addInterfaceEndpoint`.
   * @default - with `natGateways: 0`: ECR, ECR Docker, CloudWatch Logs, Secrets Manager and KMS; otherwise none
   */
  readonly interfaceEndpoints?: ec2.InterfaceVpcEndpointAwsService[];
}

/** Where and on what the tasks run: CPU architecture, Fargate Spot, the VPC created here and the subnets. */
export interface DjangoPlacementProps {
  /**
   * The CPU architecture of the tasks. ARM64 (Graviton) costs about 20 % less per vCPU and GB hour; the
   * image must be built for it (`ContainerImage.fromAsset(dir, { platform: Platform.LINUX_ARM64 })`).
   * @default - X86_64 (no runtime platform in the task definition)
   */
  readonly cpuArchitecture?: ecs.CpuArchitecture;
  /**
   * Run the web service on Fargate Spot (up to 70 % cheaper, reclaimed with a 2-minute warning) above one
   * on-demand task, so a Spot reclaim never takes the whole site down. Turning it on or off on a live
   * stack replaces the ECS service (the new one starts before the old one is removed).
   * @default false - on-demand Fargate
   */
  readonly spot?: boolean;
  /**
   * Options of the VPC created here (not with `vpc`, `cluster` or `loadBalancer`).
   * @default - 2 NAT gateways, no VPC endpoints
   */
  readonly vpcOptions?: DjangoVpcOptions;
  /**
   * The subnets the tasks run in.
   * @default - the private subnets with egress; the isolated ones of a VPC created with `natGateways: 0`
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
}
