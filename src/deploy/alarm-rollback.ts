import { Lazy, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { RegionInfo } from 'aws-cdk-lib/region-info';

const NAMES = Symbol.for('cdk-django.deploy.rollbackAlarmNames');
/** Partitions without ECS deployment alarms (as aws-cdk-lib's own check lists them). */
const WITHOUT_DEPLOYMENT_ALARMS = ['aws-cn', 'aws-us-gov', 'aws-iso', 'aws-iso-b'];

/**
 * Adds alarms that roll the service's deployments back. Set on the resource, not through
 * `enableDeploymentAlarms`: that one notes a possible circular reference for every alarm name that is a
 * reference, at each synth; the library's alarms watch the target groups and the load balancer, which do
 * not refer to the service. In a partition without deployment alarms (a concrete China or GovCloud region)
 * nothing is added: the circuit breaker still rolls back.
 */
export function addRollbackAlarms(service: ecs.FargateService, alarms: cloudwatch.IAlarm[]): void {
  if (alarms.length === 0) return;
  const region = Stack.of(service).region;
  if (!Token.isUnresolved(region) && WITHOUT_DEPLOYMENT_ALARMS.includes(RegionInfo.get(region).partition ?? 'aws')) return;
  let names: string[] | undefined = (service as any)[NAMES];
  if (!names) {
    const list: string[] = [];
    names = list;
    Object.defineProperty(service, NAMES, { value: list, enumerable: false });
    (service.node.defaultChild as ecs.CfnService).addPropertyOverride('DeploymentConfiguration.Alarms', {
      AlarmNames: Lazy.list({ produce: () => list }),
      Enable: true,
      Rollback: true,
    });
  }
  names.push(...alarms.map((a) => a.alarmName));
}
