import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { admit } from './access';
import { Problem } from './problems';

/** A Redis endpoint for the Django Channels layer (channels_redis), shared by every task. */
export interface ChannelLayerOptions {
  /**
   * Redis URL without credentials, passed as `REDIS_URL`, e.g. `rediss://my-cache.abc.cache.amazonaws.com:6379/0`.
   */
  readonly redisUrl: string;
  /**
   * The Redis AUTH token, passed as the `REDIS_PASSWORD` secret (never in the template).
   * @default - no password
   */
  readonly password?: ecs.Secret;
  /**
   * The Redis cluster's connections (e.g. its security group); the service is allowed in on `port`.
   * @default - no security group rule is added
   */
  readonly connections?: ec2.IConnectable;
  /**
   * The Redis port, for the security group rule.
   * @default 6379
   */
  readonly port?: number;
}

/** The props a service with a Channels layer reads: the layer, and the settings it must not contradict. */
export interface ChannelLayerServiceProps {
  readonly channelLayer?: ChannelLayerOptions;
  readonly environment?: { [key: string]: string };
  readonly secrets?: { [key: string]: ecs.Secret };
  readonly minTasks?: number;
  readonly maxTasks?: number;
}

/**
 * Gives the app container the layer's settings and the service a way in to Redis. The same settings
 * may already come through environment/secrets (DjangoApp shares the cache with every service): ECS
 * rejects a container with a secret name twice, so a given one is kept (channelLayerProblems checks it agrees).
 */
export function applyChannelLayer(props: ChannelLayerServiceProps, container: ecs.ContainerDefinition, service: ec2.IConnectable): void {
  const layer = props.channelLayer;
  if (!layer) return;
  if (props.environment?.REDIS_URL === undefined) container.addEnvironment('REDIS_URL', layer.redisUrl);
  if (layer.password && props.secrets?.REDIS_PASSWORD === undefined) container.addSecret('REDIS_PASSWORD', layer.password);
  if (layer.connections) admit(layer.connections, service, ec2.Port.tcp(layer.port ?? 6379), 'Channels layer');
}

/**
 * The task defaults of a service that serves Channels consumers: without a shared layer a second task
 * would not see the first one's groups, so one task; and each socket holds memory for its lifetime
 * while CPU stays low, so it scales on memory as well.
 */
export function channelsServiceDefaults(props: ChannelLayerServiceProps): { minTasks: number; maxTasks?: number; targetMemoryUtilization: number } {
  return { ...(props.channelLayer ? { minTasks: 2 } : { minTasks: 1, maxTasks: 1 }), targetMemoryUtilization: 70 };
}

/** Everything wrong with a Channels service's layer and task counts. */
export function channelLayerProblems(props: ChannelLayerServiceProps): Problem[] {
  const problems: Problem[] = [];
  const tasks = Math.max(props.minTasks ?? 1, props.maxTasks ?? 1);
  if (!props.channelLayer && tasks > 1) {
    problems.push({ prop: 'channelLayer', message: `running ${tasks} tasks needs a shared channel layer (Redis), or groups and channel_layer.send reach only one task; give channelLayer or keep minTasks/maxTasks at 1` });
  }
  return [...problems, ...channelLayerSettingsProblems(props)];
}

/** A layer's settings given differently in environment or secrets, which would win over the layer's. */
export function channelLayerSettingsProblems(props: ChannelLayerServiceProps): Problem[] {
  const problems: Problem[] = [];
  const layer = props.channelLayer;
  if (layer && props.environment?.REDIS_URL !== undefined && props.environment.REDIS_URL !== layer.redisUrl) {
    problems.push({ prop: 'environment', message: 'REDIS_URL differs from channelLayer.redisUrl; remove it from environment (channelLayer sets it)' });
  }
  if (layer?.password && props.secrets?.REDIS_PASSWORD !== undefined && props.secrets.REDIS_PASSWORD !== layer.password) {
    problems.push({ prop: 'secrets', message: 'REDIS_PASSWORD differs from channelLayer.password; remove it from secrets (channelLayer sets it)' });
  }
  return problems;
}

/** The warning of a Channels service without a layer, if any. */
export function channelLayerWarnings(props: ChannelLayerServiceProps): { id: string; message: string }[] {
  return props.channelLayer ? [] : [{
    id: 'no-channel-layer',
    message: 'No channelLayer: the service runs one task (no high availability), and Channels groups work only inside it. Give a Redis channelLayer to run more.',
  }];
}
