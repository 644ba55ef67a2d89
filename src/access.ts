import * as ec2 from 'aws-cdk-lib/aws-ec2';

/**
 * Admits `peer` to `store` on `port`: ingress on the store's security groups, and egress on the
 * peer's only where it restricts outbound. (`Connections.allowFrom` adds the egress rule to every
 * peer group, and CDK warns for each one that allows all outbound and ignores it.)
 */
export function admit(store: ec2.IConnectable, peer: ec2.IConnectable, port: ec2.Port, description: string): void {
  for (const sg of store.connections.securityGroups) {
    for (const from of peer.connections.securityGroups) {
      sg.addIngressRule(from, port, description);
      if (!from.allowAllOutbound) from.addEgressRule(sg, port, description);
    }
  }
}

/** `admit` on the store's default port. */
export function admitOnDefaultPort(store: ec2.Connections, peer: ec2.IConnectable, description: string): void {
  if (!store.defaultPort) throw new Error('the data store has no default port');
  admit(store, peer, store.defaultPort, description);
}
