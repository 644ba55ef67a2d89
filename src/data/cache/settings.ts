import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { admitOnDefaultPort } from '../../access';
import { ChannelLayerOptions } from '../../channel-layer';

/** The settings surface of a Redis cache, new or existing, as the Django containers consume it. */
export interface IDjangoCache extends ec2.IConnectable {
  /** Non-secret settings for the app containers: `REDIS_URL` (`rediss://host:port/0`, no credentials). */
  readonly environment: { [name: string]: string };
  /** Secret settings for the app containers: `REDIS_PASSWORD` (the AUTH token), when the cache has one. */
  readonly secrets: { [name: string]: ecs.Secret };
  /** Host name of the primary endpoint. */
  readonly host: string;
  /** The port clients connect to. */
  readonly port: number;
  /** Admits `peer` (e.g. an ECS service) to the cache port. */
  allowFrom(peer: ec2.IConnectable): void;
  /** The cache as this library's Channels layer (`DjangoDaphneService` `channelLayer`). */
  channelLayer(): ChannelLayerOptions;
}

/** `allowFrom` for new and existing caches. */
export function admit(cache: IDjangoCache, peer: ec2.IConnectable): void {
  admitOnDefaultPort(cache.connections, peer, 'Django to Redis');
}

/** `channelLayer` for new and existing caches. */
export function layerOf(cache: IDjangoCache): ChannelLayerOptions {
  return {
    redisUrl: cache.environment.REDIS_URL,
    password: cache.secrets.REDIS_PASSWORD,
    connections: cache,
    port: cache.port,
  };
}

export function redisUrl(tls: boolean, host: string, port: number): string {
  // Database 0 for both the cache and the Channels layer: their keys do not collide (':1:' and 'asgi'
  // prefixes), and one URL keeps REDIS_URL the same when a service gets both.
  return `${tls ? 'rediss' : 'redis'}://${host}:${port}/0`;
}
