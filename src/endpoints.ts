import { Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { ValidationError } from 'aws-cdk-lib/core/lib/errors';
import { Construct, IConstruct } from 'constructs';

/** Props of DjangoVpcEndpoints. */
export interface DjangoVpcEndpointsProps {
  /** The VPC to add the endpoints to. */
  readonly vpc: ec2.IVpc;
  /**
   * The subnets of the interface endpoints and of the S3 gateway endpoint's route tables.
   * @default - the VPC's private subnets (isolated ones when it has no others)
   */
  readonly subnets?: ec2.SubnetSelection;
}

/**
 * VPC endpoints of a VPC this library created: interface endpoints (private DNS on) in its private
 * subnets behind one security group that admits HTTPS from the VPC's CIDR only, and an S3 gateway
 * endpoint on its private route tables. A construct that needs one more AWS API from inside the VPC
 * (ECS for the database rotation, SSM for ECS Exec) adds it with
 * `DjangoVpcEndpoints.of(vpc)?.addInterfaceEndpoint(service)`.
 */
export class DjangoVpcEndpoints extends Construct {
  /** The endpoints created for `vpc` by this library, if any. */
  public static of(vpc: ec2.IVpc): DjangoVpcEndpoints | undefined {
    return ENDPOINTS_OF.get(vpc);
  }

  /** The security group of every interface endpoint: HTTPS (443) from the VPC's CIDR. */
  public readonly securityGroup: ec2.SecurityGroup;
  /** The S3 gateway endpoint (image layers, custom resource responses, the app's buckets). */
  public readonly s3: ec2.GatewayVpcEndpoint;
  private readonly vpc: ec2.IVpc;
  private readonly subnets: ec2.SubnetSelection;
  private readonly endpoints = new Map<string, ec2.InterfaceVpcEndpoint>();

  constructor(scope: Construct, id: string, props: DjangoVpcEndpointsProps) {
    super(scope, id);
    const vpc = props.vpc;
    const isolatedOnly = vpc.privateSubnets.length === 0 && vpc.isolatedSubnets.length > 0;
    const subnets = props.subnets ?? { subnetType: isolatedOnly ? ec2.SubnetType.PRIVATE_ISOLATED : ec2.SubnetType.PRIVATE_WITH_EGRESS };
    this.vpc = vpc;
    this.subnets = subnets;
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc,
      description: 'cdk-django VPC interface endpoints: HTTPS from inside the VPC only',
      allowAllOutbound: false,
    });
    // The literal CIDR where the VPC is defined here (so the template, and cdk-nag, can read it), else its attribute.
    const cfnVpc = vpc.node.defaultChild;
    const literal = cfnVpc instanceof ec2.CfnVPC && typeof cfnVpc.cidrBlock === 'string' && !Token.isUnresolved(cfnVpc.cidrBlock);
    const cidr = literal ? (cfnVpc as ec2.CfnVPC).cidrBlock! : vpc.vpcCidrBlock;
    // An endpoint answers; it opens no connection of its own (no egress rule: CDK adds 255.255.255.255/32).
    this.securityGroup.addIngressRule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(443), 'AWS APIs from the tasks and functions of this VPC');
    this.s3 = vpc.addGatewayEndpoint('S3Endpoint', { service: ec2.GatewayVpcEndpointAwsService.S3, subnets: [subnets] });
    if (ENDPOINTS_OF.has(vpc)) {
      throw new ValidationError('DjangoVpcEndpointsTwice' as any, 'the VPC already has DjangoVpcEndpoints: add to them with DjangoVpcEndpoints.of(vpc).addInterfaceEndpoint()', this);
    }
    ENDPOINTS_OF.set(vpc, this);
  }

  /** The interface endpoint for `service`, created on first request (idempotent). */
  public addInterfaceEndpoint(service: ec2.InterfaceVpcEndpointAwsService): ec2.InterfaceVpcEndpoint {
    const existing = this.endpoints.get(service.name);
    if (existing) return existing;
    const endpoint = this.vpc.addInterfaceEndpoint(endpointId(service), {
      service,
      subnets: this.subnets,
      securityGroups: [this.securityGroup],
      privateDnsEnabled: true,
      open: false,
    });
    this.endpoints.set(service.name, endpoint);
    return endpoint;
  }

  /** The interface endpoints created so far. */
  public get interfaceEndpoints(): ec2.InterfaceVpcEndpoint[] {
    return [...this.endpoints.values()];
  }

  /** Whether `service` has an interface endpoint here. */
  public hasInterfaceEndpoint(service: ec2.InterfaceVpcEndpointAwsService): boolean {
    return this.endpoints.has(service.name);
  }
}

const ENDPOINTS_OF = new WeakMap<IConstruct, DjangoVpcEndpoints>();

/** The endpoints this library created in `vpc`, if it created the VPC with endpoints. */
export function vpcEndpointsOf(vpc: ec2.IVpc): DjangoVpcEndpoints | undefined {
  return DjangoVpcEndpoints.of(vpc);
}

/**
 * Adds the interface endpoint for `service` when `vpc` is one this library created with endpoints;
 * returns false for any other VPC (its owner decides how it reaches AWS APIs).
 */
export function requireInterfaceEndpoint(vpc: ec2.IVpc, service: ec2.InterfaceVpcEndpointAwsService): boolean {
  const endpoints = vpcEndpointsOf(vpc);
  if (!endpoints) return false;
  endpoints.addInterfaceEndpoint(service);
  return true;
}

/** A stable construct id per service: `EcrDockerEndpoint` for `ecr.dkr`, `SecretsmanagerEndpoint`, ... */
function endpointId(service: ec2.InterfaceVpcEndpointAwsService): string {
  // service.name ends in the short name (ecr.api, ecr.dkr, logs, ssmmessages); the prefix may be a token.
  const short = service.shortName;
  return short.split(/[.-]/).map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('') + 'Endpoint';
}
