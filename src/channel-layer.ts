import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';

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
