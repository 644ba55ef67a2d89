import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Problem } from '../errors';

/** Existing resources a DjangoApp joins instead of creating its own. */
export interface DjangoAppCompositionProps {
  /**
   * An existing ECS cluster for every service and the migrations run; its VPC is the app's VPC unless
   * `vpc` is given (which must then be the same). With `spot`, it needs Fargate capacity providers.
   * @default - a new cluster with Container Insights
   */
  readonly cluster?: ecs.ICluster;
  /**
   * An existing load balancer to add the app's listeners to (ports 80, and 443 with `certificate`).
   * Exclusive with `listener`; `waf` and `webAclArn` belong to its owner.
   * @default - a new internet-facing ALB with access logs and invalid-header dropping
   */
  readonly loadBalancer?: elbv2.IApplicationLoadBalancer;
  /**
   * An existing listener to add the app to, with a host-header rule for `domainNames` at
   * `listenerRulePriority`; needs `vpc` (or `cluster`) too. Exclusive with `loadBalancer` and `certificate`.
   * @default - listeners are created on the load balancer
   */
  readonly listener?: elbv2.IApplicationListener;
  /**
   * Priority of the app's host-header rule on an existing `listener` (1-50000, unique on that listener).
   * @default - required when `listener` is given
   */
  readonly listenerRulePriority?: number;
}

/** The composition props with the DjangoApp props they are checked against. */
export interface CompositionInput extends DjangoAppCompositionProps {
  readonly websocketRulePriority?: number;
  readonly certificate?: unknown;
}

/**
 * Problems of the composition props that the services would report in their own terms, or not at all.
 * The services check the rest (listener with certificate, domain names, the rule priority's range).
 */
export function compositionProblems(props: CompositionInput, mixed: boolean): Problem[] {
  const problems: Problem[] = [];
  const websocketRulePriority = props.websocketRulePriority;
  const hasCertificate = props.certificate !== undefined;
  if (props.listener && props.loadBalancer) {
    problems.push({ prop: 'listener', message: 'give either an existing listener or an existing loadBalancer, not both' });
  }
  const lb = props.loadBalancer;
  if (lb instanceof elbv2.ApplicationLoadBalancer && !props.listener) {
    // CloudFormation would fail the deploy on the second listener of a port.
    const taken = lb.listeners.map((l) => (l.node.defaultChild as elbv2.CfnListener).port);
    for (const port of [80, ...(hasCertificate ? [443] : [])].filter((p) => taken.includes(p))) {
      problems.push({ prop: 'loadBalancer', message: `it already has a listener on port ${port}: give that listener as listener (with listenerRulePriority and domainNames) instead of the load balancer` });
    }
  }
  const http = props.listenerRulePriority;
  if (mixed && props.listener && http !== undefined) {
    // Both rules match the same host names: the WebSocket paths' rule must be evaluated first.
    const ws = websocketRuleOnListener(http, websocketRulePriority);
    if (ws < 1 || ws >= http) {
      problems.push({ prop: 'websocketRulePriority', message: `on a shared listener the WebSocket paths' rule must come before the app's rule (listenerRulePriority ${http}): give a priority below it${websocketRulePriority === undefined ? ' (listenerRulePriority 1 leaves none free)' : `, got ${ws}`}` });
    }
  }
  return problems;
}

/** The WebSocket paths' rule priority on an existing listener: just before the app's rule unless given. */
export function websocketRuleOnListener(listenerRulePriority: number, websocketRulePriority: number | undefined): number {
  return websocketRulePriority ?? listenerRulePriority - 1;
}
