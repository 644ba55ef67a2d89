import { Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { DjangoCacheOptions, DjangoCacheProps } from './options';
import { Problem } from '../../problems';

export function checkPort(problems: Problem[], port: number | undefined): void {
  if (port !== undefined && !Token.isUnresolved(port) && (!Number.isInteger(port) || port < 1 || port > 65535)) {
    problems.push({ prop: 'port', message: `${port} is not a TCP port; give an integer from 1 to 65535` });
  }
}

export function cacheProblems(props: DjangoCacheProps, r: { multiAz: boolean; subnets: ec2.SelectedSubnets }): Problem[] {
  const problems = cacheOptionsProblems(props);
  const zones = r.subnets.availabilityZones;
  if (r.multiAz && !zones.some((z) => Token.isUnresolved(z)) && new Set(zones).size < 2) {
    problems.push({ prop: 'vpcSubnets', message: `multi-AZ needs subnets in at least 2 availability zones, the selection has ${new Set(zones).size}; select more subnets or set multiAz: false` });
  }
  return problems;
}

/**
 * Everything wrong with the options of a new cache that needs no VPC to tell: DjangoApp reports these
 * under `cache.` before it builds anything.
 * @jsii ignore
 */
export function cacheOptionsProblems(props: DjangoCacheOptions): Problem[] {
  const r = {
    nodeType: props.nodeType ?? 'cache.t4g.micro',
    numNodes: props.numNodes ?? 2,
    multiAz: props.multiAz ?? true,
    retention: props.snapshotRetentionLimit ?? 15,
  };
  const problems: Problem[] = [];
  checkPort(problems, props.port);
  if (!Token.isUnresolved(r.nodeType) && !r.nodeType.startsWith('cache.')) {
    problems.push({ prop: 'nodeType', message: `'${r.nodeType}' is not an ElastiCache node type; use a 'cache.' type such as 'cache.t4g.micro'` });
  }
  if (!Number.isInteger(r.numNodes) || r.numNodes < 1 || r.numNodes > 6) {
    problems.push({ prop: 'numNodes', message: `${r.numNodes} nodes: a replication group has 1 to 6 (one primary, up to 5 replicas)` });
  } else if (r.multiAz && r.numNodes < 2) {
    problems.push({ prop: 'numNodes', message: 'multi-AZ failover needs a replica to fail over to; give numNodes of 2 or more, or multiAz: false' });
  }
  if (props.authTokenGeneration !== undefined && (!Number.isInteger(props.authTokenGeneration) || props.authTokenGeneration < 1)) {
    problems.push({ prop: 'authTokenGeneration', message: `${props.authTokenGeneration} is not a generation; give a positive integer, one more than the last, to get a new token` });
  }
  if (!Number.isInteger(r.retention) || r.retention < 0 || r.retention > 35) {
    problems.push({ prop: 'snapshotRetentionLimit', message: `${r.retention} days: ElastiCache keeps 0 (no snapshots) to 35 days` });
  }
  return problems;
}
