/**
 * The Lambda handlers behind `DjangoMigrations`, as inline CommonJS source (`index.onEvent`,
 * `index.isComplete`). Inline code keeps the library free of bundled assets; the AWS SDK v3
 * ECS client ships with every Node.js 18+ Lambda runtime.
 *
 * Resource properties read here (CloudFormation passes every scalar as a string):
 * `Cluster`, `TaskDefinitionFamily`, `TaskDefinitionArn` (the exact revision to run), `ContainerName`,
 * `Command` (string[]), `Subnets`, `SecurityGroups`, `LogGroupName`, `LogStreamPrefix`, `Fingerprint`
 * (the revision ARN, container and command: what decides a re-run).
 * Environment: `STOP_AFTER_SECONDS` (isComplete).
 *
 * The source avoids template literals so it can live inside this TypeScript template string
 * without escaping. Tests load it with Node's `vm` module and a fake `@aws-sdk/client-ecs`.
 */
export const MIGRATIONS_HANDLER_SOURCE = `'use strict';
const { ECSClient, RunTaskCommand, DescribeTasksCommand, StopTaskCommand } = require('@aws-sdk/client-ecs');

const ecs = new ECSClient({});
const STARTED_BY = 'cdk-django-migrations';

function taskIdOf(taskArn) {
  return taskArn.split('/').pop();
}

// The awslogs driver names streams <prefix>/<container>/<task id>.
function logStreamOf(props, taskArn) {
  return props.LogStreamPrefix + '/' + props.ContainerName + '/' + taskIdOf(taskArn);
}

function logsHint(props, taskArn) {
  const group = props.LogGroupName ? 'log group ' + props.LogGroupName + ', ' : '';
  return 'CloudWatch ' + group + 'log stream ' + logStreamOf(props, taskArn);
}

function commandText(props) {
  return (props.Command || []).join(' ');
}

exports.onEvent = async function onEvent(event) {
  const props = event.ResourceProperties;
  if (event.RequestType === 'Delete') {
    // Migrations are not undone when the stack (or this resource) goes away.
    return { PhysicalResourceId: event.PhysicalResourceId };
  }
  // Stable across updates: a new id would make CloudFormation delete the "old" resource.
  const physicalId = event.PhysicalResourceId || ('django-migrations-' + event.LogicalResourceId);
  const old = event.OldResourceProperties;
  if (event.RequestType === 'Update' && old && old.Fingerprint === props.Fingerprint) {
    // Only the network settings (or the provider) changed: this revision and command already ran.
    console.log('task definition revision and command unchanged, not running: ' + props.Fingerprint);
    return { PhysicalResourceId: physicalId };
  }

  const input = {
    cluster: props.Cluster,
    taskDefinition: props.TaskDefinitionArn,
    launchType: 'FARGATE',
    count: 1,
    startedBy: STARTED_BY,
    networkConfiguration: {
      awsvpcConfiguration: {
        subnets: props.Subnets,
        securityGroups: props.SecurityGroups,
        assignPublicIp: 'DISABLED',
      },
    },
    overrides: {
      containerOverrides: [{ name: props.ContainerName, command: props.Command }],
    },
  };
  console.log('RunTask ' + JSON.stringify(input));
  const out = await ecs.send(new RunTaskCommand(input));
  const failures = out.failures || [];
  const task = (out.tasks || [])[0];
  if (failures.length > 0 || !task) {
    const reasons = failures.map(function (f) {
      return (f.reason || 'unknown reason') + (f.detail ? ' (' + f.detail + ')' : '') + (f.arn ? ' [' + f.arn + ']' : '');
    });
    throw new Error('Django migrations could not start a task of ' + props.TaskDefinitionFamily + ' on ' + props.Cluster
      + ': ' + (reasons.join('; ') || 'RunTask returned no task'));
  }
  console.log('started ' + task.taskArn + ', logs: ' + logsHint(props, task.taskArn));
  return { PhysicalResourceId: physicalId, Data: { TaskArn: task.taskArn } };
};

exports.isComplete = async function isComplete(event) {
  if (event.RequestType === 'Delete') return { IsComplete: true };
  const props = event.ResourceProperties;
  const taskArn = event.Data && event.Data.TaskArn;
  if (!taskArn) return { IsComplete: true }; // onEvent decided there was nothing to run

  const out = await ecs.send(new DescribeTasksCommand({ cluster: props.Cluster, tasks: [taskArn] }));
  const task = (out.tasks || [])[0];
  if (!task) {
    // DescribeTasks is eventually consistent right after RunTask: ask again next time.
    console.log('task not visible yet: ' + JSON.stringify(out.failures || []));
    return { IsComplete: false };
  }

  if (task.lastStatus !== 'STOPPED') {
    const stopAfter = Number(process.env.STOP_AFTER_SECONDS || 0);
    const started = task.createdAt ? new Date(task.createdAt).getTime() : NaN;
    if (stopAfter > 0 && Date.now() - started > stopAfter * 1000) {
      // Stop it rather than let it run on after the deployment (and its rollback) moved on.
      await ecs.send(new StopTaskCommand({
        cluster: props.Cluster,
        task: taskArn,
        reason: 'cdk-django migrations timed out after ' + stopAfter + ' s',
      }));
      throw new Error('Django migrations (' + commandText(props) + ') did not finish within ' + stopAfter
        + ' seconds (task was ' + task.lastStatus + '); the task was stopped. See ' + logsHint(props, taskArn) + '.');
    }
    return { IsComplete: false };
  }

  const container = (task.containers || []).find(function (c) { return c.name === props.ContainerName; }) || {};
  const exitCode = container.exitCode;
  if (exitCode === 0) return { IsComplete: true, Data: { ExitCode: '0' } };

  const code = exitCode === undefined || exitCode === null ? 'no exit code' : 'exit code ' + exitCode;
  const reasons = [task.stoppedReason, container.reason].filter(function (r) { return r; });
  throw new Error('Django migrations (' + commandText(props) + ') failed: container ' + props.ContainerName
    + ' stopped with ' + code + (task.stopCode ? ' (' + task.stopCode + ')' : '')
    + '; stopped reason: ' + (reasons.join('; ') || 'none given')
    + '. See ' + logsHint(props, taskArn) + '.');
};
`;
