import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Problem } from './problems';

/**
 * The ids of the subnets `selection` picks in `vpc` (the private subnets with egress when left out), or
 * none, with a problem on `vpcSubnets` in `problems`, when the selection matches nothing usable.
 */
export function selectedSubnetIds(vpc: ec2.IVpc, selection: ec2.SubnetSelection | undefined, problems: Problem[]): string[] {
  try {
    return vpc.selectSubnets(selection ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds;
  } catch (e: any) {
    problems.push({ prop: 'vpcSubnets', message: `selects no usable subnets of the cluster's VPC (${e?.message}); give a selection that matches its private subnets` });
    return [];
  }
}
