import { CfnElement, CfnOutput, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct, IConstruct } from 'constructs';
import { stackKey } from '../compliance';
import { acknowledgeFinding } from '../nag';
import { Problem } from '../problems';
import { renderExecuteCommand } from './run-task-command';

/**
 * ECS Exec (`aws ecs execute-command`) for the app's tasks, opt-in: the cluster encrypts each session's
 * data channel with a key of its own, and logs every session (the commands typed and their output) to a
 * log group encrypted with the stack's key, kept like the container logs.
 */
export interface ExecuteCommandParts {
  readonly configuration: ecs.ExecuteCommandConfiguration;
  readonly key: kms.Key;
  readonly logGroup: logs.LogGroup;
}

/** The cluster's executeCommandConfiguration and what it needs, created under `scope`. */
export function createExecuteCommandConfiguration(scope: Construct, retention?: logs.RetentionDays): ExecuteCommandParts {
  const key = new kms.Key(scope, 'ExecuteCommandKey', {
    description: 'cdk-django: encrypts ECS Exec sessions into the app tasks',
    enableKeyRotation: true,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  const logGroup = new logs.LogGroup(scope, 'ExecuteCommandLogs', {
    retention: retention ?? logs.RetentionDays.ONE_YEAR,
    // A record of who ran what in production: kept when the stack goes.
    removalPolicy: RemovalPolicy.RETAIN,
    encryptionKey: stackKey(scope),
  });
  return {
    key,
    logGroup,
    configuration: {
      kmsKey: key,
      logging: ecs.ExecuteCommandLogging.OVERRIDE,
      logConfiguration: { cloudWatchLogGroup: logGroup, cloudWatchEncryptionEnabled: true },
    },
  };
}

/** A cluster with Container Insights, and ECS Exec configured when `executeCommand`. */
export function createCluster(scope: Construct, vpc: ec2.IVpc, executeCommand: boolean, retention?: logs.RetentionDays, spot?: boolean): ecs.Cluster {
  return new ecs.Cluster(scope, 'Cluster', {
    vpc,
    containerInsightsV2: ecs.ContainerInsights.ENABLED,
    enableFargateCapacityProviders: spot || undefined,
    executeCommandConfiguration: executeCommand ? createExecuteCommandConfiguration(scope, retention).configuration : undefined,
  });
}

/**
 * What is wrong with turning ECS Exec on for tasks of `cluster`: a cluster given by the user must
 * already encrypt and log the sessions (its configuration cannot be changed from here).
 */
export function executeCommandProblems(cluster: ecs.ICluster | undefined, enabled: boolean | undefined, prop = 'enableExecuteCommand'): Problem[] {
  if (!enabled || cluster === undefined) return [];
  const config = cluster.executeCommandConfiguration;
  const log = config?.logConfiguration;
  const encryptedLog = config?.logging === ecs.ExecuteCommandLogging.OVERRIDE
    && ((log?.cloudWatchLogGroup !== undefined && log.cloudWatchEncryptionEnabled === true)
      || (log?.s3Bucket !== undefined && log.s3EncryptionEnabled === true));
  if (config?.kmsKey !== undefined && encryptedLog) return [];
  return [{
    prop,
    message: 'the given cluster has no executeCommandConfiguration with a kmsKey and encrypted session logs (logging OVERRIDE, '
      + 'cloudWatchEncryptionEnabled or s3EncryptionEnabled), and the cluster\'s configuration cannot be set from here; '
      + 'configure the cluster so (or pass that configuration to Cluster.fromClusterAttributes), or leave the cluster out so one is created with it',
  }];
}

/**
 * ECS grants the task role the Session Manager channel actions and log-group discovery, none of which
 * has resource-level permissions; the session log writes are scoped to the session log group.
 */
export function acknowledgeExecuteCommand(taskRole: iam.IRole, cluster: ecs.ICluster): void {
  acknowledgeFinding(taskRole, 'AwsSolutions-IAM5[Resource::*]',
    'ECS Exec: ssmmessages:CreateControlChannel/CreateDataChannel/OpenControlChannel/OpenDataChannel and logs:DescribeLogGroups support no resource-level permissions; the session log writes are limited to the session log group.');
  const logGroup = cluster.executeCommandConfiguration?.logConfiguration?.cloudWatchLogGroup;
  const cfn = (logGroup as IConstruct | undefined)?.node?.defaultChild as CfnElement | undefined;
  if (cfn && Stack.of(cfn) === Stack.of(taskRole)) {
    acknowledgeFinding(taskRole,
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:<${Stack.of(cfn).getLogicalId(cfn)}>:*]`,
      'ECS Exec writes each session\'s log streams (named by the session) into this one session log group; the :* covers its streams only.');
  }
}

/** A CfnOutput with the command that opens an interactive `python manage.py shell` in a running task of the service. */
export function addShellOutput(scope: Construct, cluster: ecs.ICluster, service: ecs.FargateService, containerName: string): CfnOutput {
  return new CfnOutput(scope, 'ShellCommand', {
    description: 'Opens python manage.py shell in a running task of this service (ECS Exec; needs the Session Manager plugin of the AWS CLI).',
    value: renderExecuteCommand(cluster.clusterName, service.serviceName, containerName, 'python manage.py shell'),
  });
}
