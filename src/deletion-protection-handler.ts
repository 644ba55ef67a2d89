/**
 * The Lambda handler behind `Custom::DjangoDeletionProtection`, as inline CommonJS source
 * (`index.handler`): it answers CloudFormation itself (a PUT to the pre-signed ResponseURL), so no
 * provider framework is needed. The AWS SDK v3 clients ship with every Node.js 18+ Lambda runtime.
 *
 * Resource properties: `Kind` (`LoadBalancer`, `DBCluster` or `DBInstance`), `Target` (the load
 * balancer ARN, or the database identifier), `Enabled` (`'true'`/`'false'`).
 *
 * - Create and Update set deletion protection on the target as `Enabled` says (and take it off a
 *   previous target that the update replaced).
 * - Delete takes it off, so whatever deletes the target next can: the rollback of a failed create or
 *   of the update that added it, or an update that removed it. Only while the whole stack is being
 *   deleted (DELETE_IN_PROGRESS) does protection stay on, and the stack's deletion stops at the target.
 *
 * The source avoids template literals so it can live inside this TypeScript template string.
 */
export const DELETION_PROTECTION_HANDLER_SOURCE = `'use strict';
const https = require('https');
const { ElasticLoadBalancingV2Client, ModifyLoadBalancerAttributesCommand } = require('@aws-sdk/client-elastic-load-balancing-v2');
const { RDSClient, ModifyDBClusterCommand, ModifyDBInstanceCommand } = require('@aws-sdk/client-rds');
const { CloudFormationClient, DescribeStacksCommand } = require('@aws-sdk/client-cloudformation');

const GONE = ['LoadBalancerNotFoundException', 'DBClusterNotFoundFault', 'DBInstanceNotFoundFault'];
// A database that is still settling (an instance being added) refuses modifications for a while.
const BUSY = ['InvalidDBClusterStateFault', 'InvalidDBInstanceStateFault'];
const ATTEMPTS = Number(process.env.ATTEMPTS || '20');
const PAUSE_MS = Number(process.env.PAUSE_MS || '15000');

function sleep(ms) {
  return new Promise(function (resolve) { setTimeout(resolve, ms); });
}

async function send(kind, target, enabled) {
  if (kind === 'LoadBalancer') {
    return new ElasticLoadBalancingV2Client({}).send(new ModifyLoadBalancerAttributesCommand({
      LoadBalancerArn: target,
      Attributes: [{ Key: 'deletion_protection.enabled', Value: String(enabled) }],
    }));
  }
  if (kind === 'DBCluster') {
    return new RDSClient({}).send(new ModifyDBClusterCommand({ DBClusterIdentifier: target, DeletionProtection: enabled, ApplyImmediately: true }));
  }
  if (kind === 'DBInstance') {
    return new RDSClient({}).send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: target, DeletionProtection: enabled, ApplyImmediately: true }));
  }
  throw new Error('unknown Kind ' + kind);
}

async function protect(kind, target, enabled, missingIsFine) {
  for (let attempt = 1; ; attempt++) {
    try {
      await send(kind, target, enabled);
      return;
    } catch (e) {
      if (missingIsFine && GONE.includes(e.name)) return;
      if (!BUSY.includes(e.name) || attempt >= ATTEMPTS) throw e;
      await sleep(PAUSE_MS);
    }
  }
}

async function stackIsBeingDeleted(stackId) {
  const out = await new CloudFormationClient({}).send(new DescribeStacksCommand({ StackName: stackId }));
  return ((out.Stacks || [])[0] || {}).StackStatus === 'DELETE_IN_PROGRESS';
}

async function apply(event) {
  const p = event.ResourceProperties;
  if (event.RequestType === 'Delete') {
    if (await stackIsBeingDeleted(event.StackId)) return 'kept on: the stack is being deleted';
    await protect(p.Kind, p.Target, false, true);
    return 'off';
  }
  const old = event.OldResourceProperties;
  if (old && (old.Kind !== p.Kind || old.Target !== p.Target)) await protect(old.Kind, old.Target, false, true);
  await protect(p.Kind, p.Target, p.Enabled === 'true', false);
  return p.Enabled === 'true' ? 'on' : 'off';
}

function respond(event, body) {
  const text = JSON.stringify(body);
  return new Promise(function (resolve, reject) {
    const req = https.request(event.ResponseURL, {
      method: 'PUT',
      headers: { 'content-type': '', 'content-length': Buffer.byteLength(text) },
    }, function (res) {
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
    req.end(text);
  });
}

exports.handler = async function handler(event) {
  const p = event.ResourceProperties;
  const response = {
    Status: 'SUCCESS',
    PhysicalResourceId: event.PhysicalResourceId || (p.Kind + ':' + event.LogicalResourceId),
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
  };
  try {
    const state = await apply(event);
    console.log(JSON.stringify({ request: event.RequestType, kind: p.Kind, target: p.Target, protection: state }));
  } catch (e) {
    response.Status = 'FAILED';
    response.Reason = ('deletion protection of ' + p.Kind + ' ' + p.Target + ': ' + (e.name || 'Error') + ': ' + e.message).slice(0, 1000);
    console.log(response.Reason);
  }
  await respond(event, response);
};
`;
