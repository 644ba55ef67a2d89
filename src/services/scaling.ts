import { Duration } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { ResolvedService } from './resolve';

/**
 * Task count autoscaling between minTasks and maxTasks: on CPU always, and on memory where a target is
 * set (by default on services that serve WebSockets: each socket holds memory for its lifetime while CPU stays low).
 */
export function addAutoscaling(service: ecs.FargateService, r: ResolvedService): ecs.ScalableTaskCount {
  const scaling = service.autoScaleTaskCount({ minCapacity: r.minTasks, maxCapacity: r.maxTasks });
  scaling.scaleOnCpuUtilization('Cpu', {
    targetUtilizationPercent: r.targetCpuUtilization,
    scaleOutCooldown: Duration.seconds(60),
    scaleInCooldown: Duration.seconds(180),
  });
  if (r.targetMemoryUtilization !== undefined) {
    // Slower to scale in: memory is released only as sockets close.
    scaling.scaleOnMemoryUtilization('Memory', {
      targetUtilizationPercent: r.targetMemoryUtilization,
      scaleOutCooldown: Duration.seconds(60),
      scaleInCooldown: Duration.seconds(300),
    });
  }
  return scaling;
}
