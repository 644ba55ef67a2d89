import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { DjangoServiceAlarms, ONE_MINUTE, Thresholds } from './service-alarms';

/** The dashboard rows of one service: its alarms' metrics with their thresholds, targets, tasks and recent errors. */
export function addServiceWidgets(dashboard: cloudwatch.Dashboard, a: DjangoServiceAlarms, t: Thresholds): void {
  const service = a.service;
  const tg = service.targetGroup.metrics;
  const perMinute = { period: ONE_MINUTE };
  const ecsDimensions = { ClusterName: service.cluster.clusterName, ServiceName: service.service.serviceName };
  const threshold = (value: number, label: string): cloudwatch.HorizontalAnnotation => ({ value, label, color: cloudwatch.Color.RED });

  const trafficLeft: cloudwatch.IMetric[] = [
    tg.requestCount({ ...perMinute, label: 'requests' }),
    tg.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { ...perMinute, label: 'app 5xx' }),
    tg.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_4XX_COUNT, { ...perMinute, label: 'app 4xx' }),
  ];
  if (service.loadBalancer) {
    trafficLeft.push(service.loadBalancer.metrics.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { ...perMinute, label: 'load balancer 5xx' }));
  }

  dashboard.addWidgets(new cloudwatch.TextWidget({
    markdown: `### ${service.node.path}\nAlarms: 5xx > ${t.http5xxRatePercent}%, p99 > ${t.p99LatencySeconds} s, unhealthy hosts, CPU > ${t.cpuPercent}%, memory > ${t.memoryPercent}%`,
    width: 24,
    height: 2,
  }));
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({ title: 'Requests and errors (per minute)', left: trafficLeft, width: 8 }),
    // Graph the alarm's own expression with its threshold: the same numbers the alarm evaluates.
    new cloudwatch.GraphWidget({
      title: '5xx % of requests (5 min)',
      left: [a.http5xxRate.metric],
      leftAnnotations: [threshold(t.http5xxRatePercent, '5xx alarm')],
      width: 8,
    }),
    new cloudwatch.GraphWidget({
      title: 'Target response time (s)',
      left: ['p50', 'p90', 'p99'].map((p) => tg.targetResponseTime({ ...perMinute, statistic: p, label: p })),
      leftAnnotations: [threshold(t.p99LatencySeconds, 'p99 alarm')],
      width: 8,
    }),
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Targets',
      left: [
        tg.healthyHostCount({ ...perMinute, statistic: cloudwatch.Stats.MINIMUM, label: 'healthy' }),
        tg.unhealthyHostCount({ ...perMinute, statistic: cloudwatch.Stats.MAXIMUM, label: 'unhealthy' }),
      ],
      width: 8,
    }),
    new cloudwatch.GraphWidget({
      title: 'CPU and memory (%)',
      left: [
        service.service.metricCpuUtilization({ ...perMinute, label: 'CPU' }),
        service.service.metricMemoryUtilization({ ...perMinute, label: 'memory' }),
      ],
      leftYAxis: { min: 0, max: 100 },
      leftAnnotations: [threshold(t.cpuPercent, 'CPU alarm'), threshold(t.memoryPercent, 'memory alarm')],
      width: 8,
    }),
    // Task counts exist only as Container Insights metrics (on by default for clusters the
    // service creates); with insights off on a given cluster this graph stays empty.
    new cloudwatch.GraphWidget({
      title: 'Tasks (Container Insights)',
      left: ['RunningTaskCount', 'DesiredTaskCount', 'PendingTaskCount'].map((metricName) => new cloudwatch.Metric({
        namespace: 'ECS/ContainerInsights',
        metricName,
        dimensionsMap: ecsDimensions,
        statistic: cloudwatch.Stats.AVERAGE,
        label: metricName.replace('TaskCount', '').toLowerCase(),
        ...perMinute,
      })),
      width: 8,
    }),
  );
  dashboard.addWidgets(new cloudwatch.LogQueryWidget({
    title: 'Recent errors and 5xx responses (app and proxy logs)',
    logGroupNames: [service.logGroup.logGroupName],
    queryLines: [
      'fields @timestamp, @logStream, @message',
      // Tracebacks and error levels from Django/the server; `" 5xx ` is the status after the request line in access logs.
      'filter @message like /(?i)(traceback|exception|error|critical)/ or @message like /" 5\\d\\d /',
      'sort @timestamp desc',
      'limit 100',
    ],
    width: 24,
    height: 6,
  }));
}
