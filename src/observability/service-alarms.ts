import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';
import { IDjangoService } from '../django-service';

/** The alarms of one service. */
export interface DjangoServiceAlarms {
  /** The service watched. */
  readonly service: IDjangoService;
  /** 5xx responses as a percentage of requests. */
  readonly http5xxRate: cloudwatch.Alarm;
  /** 99th percentile of the target response time. */
  readonly p99Latency: cloudwatch.Alarm;
  /** At least one target failing the load balancer's health check for 3 minutes. */
  readonly unhealthyHosts: cloudwatch.Alarm;
  /** Service CPU utilization. */
  readonly cpu: cloudwatch.Alarm;
  /** Service memory utilization. */
  readonly memory: cloudwatch.Alarm;
}

/** The thresholds of every service's alarms, defaults applied. */
export interface Thresholds {
  readonly http5xxRatePercent: number;
  readonly p99LatencySeconds: number;
  readonly cpuPercent: number;
  readonly memoryPercent: number;
}

export const FIVE_MINUTES = Duration.minutes(5);
export const ONE_MINUTE = Duration.minutes(1);

export function createServiceAlarms(scope: Construct, service: IDjangoService, t: Thresholds): DjangoServiceAlarms {
  const name = service.node.path;
  const logGroup = service.logGroup.logGroupName;
  // Target group metrics carry the TargetGroup and LoadBalancer dimensions. The target group is
  // always attached to a listener by the service, so the load balancer is known from the
  // listener's ARN even when an existing listener was given (`service.loadBalancer` undefined).
  const tg = service.targetGroup.metrics;

  const http5xxRate = http5xxRateMetric(service).createAlarm(scope, 'Http5xxRate', {
    threshold: t.http5xxRatePercent,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    alarmDescription: `More than ${t.http5xxRatePercent}% of requests to ${name} got a 5xx over 5 minutes. `
      + `5xx from the app: check the app log group ${logGroup} for tracebacks. `
      + '502/504 from the load balancer: workers crashed, were OOM-killed or timed out (check stopped tasks in ECS); 503: no healthy targets.',
  });

  const alternate = service.alternateTargetGroup?.metrics;
  const p99Latency = ofBothGroups(alternate, (g) => g.targetResponseTime({ statistic: cloudwatch.Stats.p(99), period: FIVE_MINUTES }),
    tg, 'p99').createAlarm(scope, 'P99Latency', {
    threshold: t.p99LatencySeconds,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 3,
    datapointsToAlarm: 2,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    alarmDescription: `The slowest 1% of requests to ${name} take over ${t.p99LatencySeconds} s. `
      + `Check the app log group ${logGroup} for slow views, the database, and CPU: workers may all be busy.`,
  });

  // Maximum, not the default Average: one target unhealthy for 3 minutes in a row is the signal,
  // however many healthy ones there are. A target in its first health checks is not counted.
  const unhealthyHosts = ofBothGroups(alternate, (g) => g.unhealthyHostCount({ statistic: cloudwatch.Stats.MAXIMUM, period: ONE_MINUTE }),
    tg, 'unhealthy hosts').createAlarm(scope, 'UnhealthyHosts', {
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 3,
    datapointsToAlarm: 3,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    alarmDescription: `A task of ${name} has failed the load balancer health check for 3 minutes. `
      + `Check the app log group ${logGroup}: the health check gets 400 (ALLOWED_HOSTS), 500, or times out.`,
  });

  const cpu = service.service.metricCpuUtilization({ period: FIVE_MINUTES }).createAlarm(scope, 'Cpu', {
    threshold: t.cpuPercent,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 3,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    alarmDescription: `${name} has averaged over ${t.cpuPercent}% CPU for 15 minutes: autoscaling is at its maximum or too slow. `
      + 'Raise maxTasks or cpu, or find the expensive views.',
  });

  const memory = service.service.metricMemoryUtilization({ period: FIVE_MINUTES }).createAlarm(scope, 'Memory', {
    threshold: t.memoryPercent,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 3,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    alarmDescription: `${name} has averaged over ${t.memoryPercent}% memory for 15 minutes: tasks are near being OOM-killed. `
      + 'Raise memoryLimitMiB, lower the worker count, or recycle workers (max requests).',
  });

  return { service, http5xxRate, p99Latency, unhealthyHosts, cpu, memory };
}

/**
 * A target group metric, or for a traffic-shifting service the larger of its two groups' (the one not
 * serving has no data, read as 0): production moves from one group to the other with each deploy.
 */
function ofBothGroups(
  alternate: elbv2.IApplicationTargetGroupMetrics | undefined,
  metric: (g: elbv2.IApplicationTargetGroupMetrics) => cloudwatch.Metric,
  primary: elbv2.IApplicationTargetGroupMetrics,
  label: string,
): cloudwatch.Metric | cloudwatch.MathExpression {
  const first = metric(primary);
  if (!alternate) return first;
  return new cloudwatch.MathExpression({
    expression: 'MAX([FILL(primary, 0), FILL(alternate, 0)])',
    usingMetrics: { primary: first, alternate: metric(alternate) },
    period: first.period,
    label,
  });
}

/**
 * 100 x 5xx / requests over 5 minutes. Count metrics have no data points at all while nothing
 * happens, so each is FILLed with 0, and the IF keeps a window without errors at 0 instead of
 * dividing by zero. The denominator is at least the error count: the load balancer's 503s (no
 * healthy target) are not in RequestCount, and a total outage must read 100%, not 0 or more.
 */
function http5xxRateMetric(service: IDjangoService): cloudwatch.MathExpression {
  const tg = service.targetGroup.metrics;
  const usingMetrics: Record<string, cloudwatch.IMetric> = {
    targetErrors: tg.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period: FIVE_MINUTES }),
  };
  let errorsExpression = 'FILL(targetErrors, 0)';
  // A traffic-shifting service serves from either target group (and from both during a deploy): count both.
  const alternate = service.alternateTargetGroup?.metrics;
  if (alternate) {
    usingMetrics.alternateErrors = alternate.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period: FIVE_MINUTES });
    errorsExpression += ' + FILL(alternateErrors, 0)';
  }
  // Without a known load balancer (existing listener) it is probably shared with other apps,
  // whose load-balancer 5xx would be counted against this one; count the app's own 5xx only.
  if (service.loadBalancer) {
    usingMetrics.elbErrors = service.loadBalancer.metrics.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period: FIVE_MINUTES });
    errorsExpression += ' + FILL(elbErrors, 0)';
  }
  const errors = new cloudwatch.MathExpression({ expression: errorsExpression, usingMetrics, period: FIVE_MINUTES, label: '5xx' });
  const requests = new cloudwatch.MathExpression({
    expression: alternate ? 'FILL(requestCount, 0) + FILL(alternateRequestCount, 0)' : 'FILL(requestCount, 0)',
    usingMetrics: {
      requestCount: tg.requestCount({ period: FIVE_MINUTES }),
      ...(alternate ? { alternateRequestCount: alternate.requestCount({ period: FIVE_MINUTES }) } : {}),
    },
    period: FIVE_MINUTES,
    label: 'requests',
  });
  return new cloudwatch.MathExpression({
    expression: 'IF(errors > 0, 100 * errors / MAX([requests, errors]), 0)',
    usingMetrics: { errors, requests },
    period: FIVE_MINUTES,
    label: '5xx % of requests',
  });
}
