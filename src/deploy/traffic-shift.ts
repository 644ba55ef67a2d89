import { Duration, Fn, Stack } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { SMOKE_TEST_HANDLER_SOURCE } from './smoke-test-source';
import { deploymentProblems, DjangoDeploymentOptions, ResolvedDeployment, ResolvedSmokeTest, resolveDeployment } from './strategy';
import { acknowledgeInPacks, stackKey } from '../compliance';
import { throwIfProblems } from '../errors';
import { acknowledgeFinding } from '../nag';

/**
 * The production and test rules sit last on their listeners: every rule users (or a WebSocket service)
 * add with an ordinary priority is evaluated first. Fixed, so the rules never move on an update.
 */
export const TRAFFIC_RULE_PRIORITY = 50000;

/** Props of DjangoTrafficShift: the deployment options and what the service built around them. */
export interface DjangoTrafficShiftProps {
  /** The deployment options (strategy BLUE_GREEN, LINEAR or CANARY). */
  readonly deployment: DjangoDeploymentOptions;
  /** The service's VPC (the smoke test runs in its private subnets). */
  readonly vpc: ec2.IVpc;
  /** The load balancer the test listener goes on. */
  readonly loadBalancer: elbv2.IApplicationLoadBalancer;
  /** The production listener (HTTPS with a certificate, else port 80), created by the service. */
  readonly listener: elbv2.IApplicationListener;
  /** The primary target group (blue, first): the listeners' default actions forward to it. */
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  /** The settings of the primary target group, which its twin copies. */
  readonly targetGroupProps: elbv2.ApplicationTargetGroupProps;
  /**
   * The site's certificate: the test listener speaks HTTPS with it.
   * @default - the test listener speaks HTTP
   */
  readonly certificate?: acm.ICertificate;
  /**
   * The site's host names (the smoke test's Host is the first).
   * @default - the load balancer's DNS name
   */
  readonly domainNames?: string[];
  /** The health check path (the smoke test's path unless it names one). */
  readonly healthCheckPath: string;
  /** The Host the smoke test sends without domainNames or smokeTest.host (the load balancer's DNS name). */
  readonly defaultHost: string;
  /**
   * Retention of the smoke test's logs.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * A native ECS traffic shift (BLUE_GREEN, LINEAR, CANARY) for a service behind listeners it created:
 * a second target group, a production rule and a test listener with its rule (each forwarding to both
 * groups, weights 100/0, which ECS moves during a deploy), the infrastructure role ECS shifts traffic
 * with, and optionally the smoke-test lifecycle hook. The service wires `alternateTarget` into its
 * load balancer target and the hook into its deployment.
 */
export class DjangoTrafficShift extends Construct {
  /** The second target group (green, alternate): the new revision registers here on a deploy, then the roles swap. */
  public readonly alternateTargetGroup: elbv2.ApplicationTargetGroup;
  /** The production listener rule whose forward weights ECS shifts. */
  public readonly productionRule: elbv2.ApplicationListenerRule;
  /** The test listener (undefined with `testListener.enabled: false`). */
  public readonly testListener?: elbv2.ApplicationListener;
  /** The test listener's rule, shifted to the new revision before production traffic. */
  public readonly testRule?: elbv2.ApplicationListenerRule;
  /** The role ECS assumes to register targets and move the rules' weights. */
  public readonly infrastructureRole: iam.Role;
  /** What the service's load balancer target takes as `alternateTarget`. */
  public readonly alternateTarget: ecs.AlternateTarget;
  /** The smoke-test function (with `smokeTest`). */
  public readonly smokeTestFunction?: lambda.Function;
  /** The smoke-test function's security group, the only one the test port admits by default. */
  public readonly smokeTestSecurityGroup?: ec2.SecurityGroup;
  /** The role ECS invokes the smoke test with. */
  public readonly smokeTestInvokeRole?: iam.Role;

  constructor(scope: Construct, id: string, props: DjangoTrafficShiftProps) {
    super(scope, id);
    const context = {
      existingListener: false,
      hasCertificate: props.certificate !== undefined,
      domainNames: props.domainNames,
      healthCheckPath: props.healthCheckPath,
    };
    throwIfProblems(this, deploymentProblems(props.deployment, context));
    const r = resolveDeployment(props.deployment, context);
    if (!r.shiftsTraffic) {
      throwIfProblems(this, [{ prop: 'deployment.strategy', message: `shifts no traffic with ${r.strategy}; give BLUE_GREEN, LINEAR or CANARY` }]);
    }
    const tg = props.targetGroup;
    this.alternateTargetGroup = new elbv2.ApplicationTargetGroup(this, 'AlternateTargetGroup', props.targetGroupProps);
    const bothGroups = () => elbv2.ListenerAction.weightedForward([
      { targetGroup: tg, weight: 100 },
      { targetGroup: this.alternateTargetGroup, weight: 0 },
    ]);
    // The listener's default action keeps forwarding to the primary group (a rolling service's default):
    // switching an existing service to a traffic shift changes nothing users reach until the rule exists,
    // and no rule on the listener mixes forward with other action types, which ECS does not support.
    this.productionRule = new elbv2.ApplicationListenerRule(this, 'ProductionRule', {
      listener: props.listener,
      priority: TRAFFIC_RULE_PRIORITY,
      conditions: [elbv2.ListenerCondition.pathPatterns(['/*'])],
      action: bothGroups(),
    });

    if (r.testListener) {
      const secure = r.testListener.protocol === 'HTTPS';
      this.testListener = new elbv2.ApplicationListener(this, 'TestListener', {
        loadBalancer: props.loadBalancer,
        port: r.testListener.port,
        protocol: secure ? elbv2.ApplicationProtocol.HTTPS : elbv2.ApplicationProtocol.HTTP,
        ...(secure ? { certificates: [props.certificate!], sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS } : {}),
        defaultTargetGroups: [tg],
        // Nobody by default: the smoke test's security group and `allowFrom` are admitted below.
        open: false,
      });
      this.testRule = new elbv2.ApplicationListenerRule(this, 'TestRule', {
        listener: this.testListener,
        priority: TRAFFIC_RULE_PRIORITY,
        conditions: [elbv2.ListenerCondition.pathPatterns(['/*'])],
        action: bothGroups(),
      });
      for (const peer of props.deployment.testListener?.allowFrom ?? []) {
        props.loadBalancer.connections.allowFrom(peer, ec2.Port.tcp(r.testListener.port), 'Test listener of the deployments');
      }
      if (!secure) {
        const reason = 'No certificate was given: the test listener speaks HTTP like the site itself (the cdk-django:http-only warning), and admits only the smoke test and testListener.allowFrom.';
        acknowledgeInPacks(this.testListener, 'ELBv2ACMCertificateRequired', reason);
        acknowledgeInPacks(this.testListener, 'ALBHttpToHttpsRedirection', reason);
      }
    }

    this.infrastructureRole = new iam.Role(this, 'InfrastructureRole', {
      assumedBy: new iam.ServicePrincipal('ecs.amazonaws.com'),
      description: 'cdk-django: ECS registers the new revision and shifts listener rule weights during deployments',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonECSInfrastructureRolePolicyForLoadBalancers')],
    });
    acknowledgeFinding(this.infrastructureRole, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers]',
      'The ECS infrastructure role for load balancers: AWS maintains this policy for exactly the Elastic Load Balancing calls native blue/green, linear and canary deployments make (register targets, modify listeners and rules), and only ecs.amazonaws.com can assume the role.');

    this.alternateTarget = new ecs.AlternateTarget('AlternateTarget', {
      alternateTargetGroup: this.alternateTargetGroup,
      productionListener: ecs.ListenerRuleConfiguration.applicationListenerRule(this.productionRule),
      testListener: this.testRule ? ecs.ListenerRuleConfiguration.applicationListenerRule(this.testRule) : undefined,
      role: this.infrastructureRole,
    });

    if (r.smokeTest && r.testListener) {
      const parts = this.createSmokeTest(props, r.smokeTest, r.testListener.port, r.testListener.protocol);
      this.smokeTestFunction = parts.fn;
      this.smokeTestSecurityGroup = parts.securityGroup;
      this.smokeTestInvokeRole = parts.invokeRole;
    }
  }

  /** Adds the smoke test to the service's deployment, at POST_TEST_TRAFFIC_SHIFT. */
  public bindTo(service: ecs.FargateService): void {
    if (!this.smokeTestFunction) return;
    service.addLifecycleHook(new ecs.DeploymentLifecycleLambdaTarget(this.smokeTestFunction, 'SmokeTest', {
      lifecycleStages: [ecs.DeploymentLifecycleStage.POST_TEST_TRAFFIC_SHIFT],
      role: this.smokeTestInvokeRole,
    }));
    // The hook can run on the service's first deployment: the test port must admit it by then.
    for (const ingress of this.node.children.filter((c) => c.node.id.startsWith('SmokeTestIngress'))) {
      service.node.defaultChild!.node.addDependency(ingress);
    }
  }

  private createSmokeTest(props: DjangoTrafficShiftProps, s: ResolvedSmokeTest, port: number, protocol: 'HTTP' | 'HTTPS') {
    const securityGroup = new ec2.SecurityGroup(this, 'SmokeTestSecurityGroup', {
      vpc: props.vpc,
      description: 'cdk-django smoke test: reaches the test listener and the EC2 API',
      allowAllOutbound: true,
    });
    props.loadBalancer.connections.securityGroups.forEach((sg, i) => new ec2.CfnSecurityGroupIngress(this, `SmokeTestIngress${i || ''}`, {
      groupId: sg.securityGroupId,
      ipProtocol: 'tcp',
      fromPort: port,
      toPort: port,
      sourceSecurityGroupId: securityGroup.securityGroupId,
      description: 'Smoke test of new revisions on the test listener',
    }));
    // Retained like every log group of the library (unnamed: nothing collides): the record of past
    // smoke tests outlives a switch back to ROLLING.
    const logGroup = new logs.LogGroup(this, 'SmokeTestLogs', { retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR, encryptionKey: stackKey(this) });
    const role = new iam.Role(this, 'SmokeTestRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'cdk-django: smoke test of new revisions on the test listener',
    });
    logGroup.grantWrite(role);
    // Lambda's network interfaces in the VPC, and the load balancer's own (read): none has resource-level permissions.
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DeleteNetworkInterface',
        'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
      resources: ['*'],
    }));
    const fn = new lambda.Function(this, 'SmokeTest', {
      code: lambda.Code.fromInline(SMOKE_TEST_HANDLER_SOURCE),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      timeout: Duration.seconds(s.timeoutSeconds + 30),
      memorySize: 256,
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      vpc: props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [securityGroup],
      environment: {
        // app/<name>/<id>, the end of the ARN (also for an imported load balancer).
        LOAD_BALANCER_FULL_NAME: Fn.select(1, Fn.split(':loadbalancer/', props.loadBalancer.loadBalancerArn)),
        PORT: String(port),
        PROTOCOL: protocol,
        HOST: s.host ?? props.defaultHost,
        SMOKE_PATH: s.path,
        EXPECTED_STATUS: String(s.expectedStatus),
        SUCCESSES: String(s.successes),
        TIMEOUT_SECONDS: String(s.timeoutSeconds),
      },
      description: `cdk-django: smoke test of new revisions of ${this.node.scope!.node.path} on the test listener`.slice(0, 256),
    });
    fn.node.addDependency(role);
    const invokeRole = new iam.Role(this, 'SmokeTestInvokeRole', {
      assumedBy: new iam.ServicePrincipal('ecs.amazonaws.com'),
      description: 'cdk-django: ECS invokes the smoke test lifecycle hook',
    });
    fn.grantInvoke(invokeRole);

    const stack = Stack.of(this);
    const fnArn = `<${stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction)}.Arn>`;
    acknowledgeFinding(invokeRole, `AwsSolutions-IAM5[Resource::${fnArn}:*]`,
      'grantInvoke also covers versions and aliases (ARN:*) of this one function; ECS invokes only the unqualified function.');
    acknowledgeFinding(role, 'AwsSolutions-IAM5[Resource::*]',
      'The Lambda network interface actions (create, describe, delete, assign addresses) and DescribeNetworkInterfaces for the load balancer nodes support no resource-level permissions.');
    acknowledgeInPacks(this, 'IAMNoInlinePolicy',
      'The smoke test\'s roles have only the policies CDK generates for them (their log group, the network interfaces, invoking this one function); a managed policy could be attached to other principals.');
    acknowledgeInPacks(fn, 'LambdaConcurrency',
      'ECS invokes the hook once per deployment lifecycle stage; reserved concurrency would only take capacity from the account.');
    acknowledgeInPacks(fn, 'LambdaDLQ',
      'ECS invokes the hook synchronously and reads its hookStatus (an error rolls the deployment back); there is no asynchronous event to lose.');
    return { fn, securityGroup, invokeRole };
  }
}

/** The FargateService props of a deployment strategy; ROLLING is named too, so a switch back is explicit. */
export function serviceDeploymentProps(r: ResolvedDeployment): Pick<ecs.FargateServiceProps,
'deploymentStrategy' | 'bakeTime' | 'canaryConfiguration' | 'linearConfiguration'> {
  if (!r.shiftsTraffic) return { deploymentStrategy: ecs.DeploymentStrategy.ROLLING };
  return {
    deploymentStrategy: r.strategy as ecs.DeploymentStrategy,
    bakeTime: Duration.minutes(r.bakeTimeMinutes!),
    canaryConfiguration: r.canary ? { stepPercent: r.canary.percent, stepBakeTime: Duration.minutes(r.canary.bakeTimeMinutes) } : undefined,
    linearConfiguration: r.linear ? { stepPercent: r.linear.stepPercent, stepBakeTime: Duration.minutes(r.linear.stepBakeTimeMinutes) } : undefined,
  };
}
