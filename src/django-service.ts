import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { IConstruct } from 'constructs';

/**
 * A Django service as the layers below the services see it (alarms, dashboards): what it runs and
 * where its traffic and logs are. Every DjangoGunicornService, DjangoUwsgiService and DjangoDaphneService is one.
 */
export interface IDjangoService extends IConstruct {
  /** The ECS cluster the service runs in. */
  readonly cluster: ecs.ICluster;
  /** The Fargate service. */
  readonly service: ecs.FargateService;
  /** The target group the load balancer sends the service's traffic to. */
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  /** The second target group of a traffic-shifting deployment (BLUE_GREEN, LINEAR, CANARY). @default - ROLLING: none */
  readonly alternateTargetGroup?: elbv2.ApplicationTargetGroup;
  /** The load balancer, when the service has one of its own or was given one (undefined behind an existing listener). */
  readonly loadBalancer?: elbv2.IApplicationLoadBalancer;
  /** The container log group. */
  readonly logGroup: logs.LogGroup;
}
