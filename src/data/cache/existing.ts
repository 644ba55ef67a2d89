import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { admit, IDjangoCache, layerOf, redisUrl } from './settings';
import { checkPort } from './validation';
import { ChannelLayerOptions } from '../../channel-layer';
import { throwIfProblems } from '../../errors';
import { Problem } from '../../problems';

/** How to reach a Redis cache that already exists. */
export interface DjangoCacheAttributes {
  /** Host name of the primary endpoint. */
  readonly host: string;
  /**
   * The port.
   * @default 6379
   */
  readonly port?: number;
  /**
   * Whether the cache requires TLS (`rediss://`). ElastiCache accepts an AUTH token only over TLS.
   * @default true
   */
  readonly tls?: boolean;
  /**
   * The secret holding the AUTH token as a plain string.
   * @default - no password
   */
  readonly authSecret?: secretsmanager.ISecret;
  /**
   * The cache's security group; `allowFrom` adds ingress rules to it.
   * @default - none: `allowFrom` does nothing and access must be opened where the cache is managed
   */
  readonly securityGroup?: ec2.ISecurityGroup;
}

/** The settings surface over a cache this app does not manage. */
export class ExistingDjangoCache extends Construct implements IDjangoCache {
  public readonly connections: ec2.Connections;
  public readonly host: string;
  public readonly port: number;
  public readonly environment: { [name: string]: string };
  public readonly secrets: { [name: string]: ecs.Secret };

  constructor(scope: Construct, id: string, attrs: DjangoCacheAttributes) {
    super(scope, id);
    const problems: Problem[] = [];
    const tls = attrs.tls ?? true;
    if (attrs.authSecret && !tls) {
      problems.push({ prop: 'tls', message: 'ElastiCache accepts an AUTH token only with in-transit encryption; set tls: true (the cache must have TLS on) or leave authSecret out' });
    }
    checkPort(problems, attrs.port);
    throwIfProblems(this, problems);

    this.host = attrs.host;
    this.port = attrs.port ?? 6379;
    this.connections = new ec2.Connections({
      securityGroups: attrs.securityGroup ? [attrs.securityGroup] : [],
      defaultPort: ec2.Port.tcp(this.port),
    });
    this.environment = { REDIS_URL: redisUrl(tls, this.host, this.port) };
    this.secrets = attrs.authSecret ? { REDIS_PASSWORD: ecs.Secret.fromSecretsManager(attrs.authSecret) } : {};
  }

  public allowFrom(peer: ec2.IConnectable): void {
    admit(this, peer);
  }

  public channelLayer(): ChannelLayerOptions {
    return layerOf(this);
  }
}
