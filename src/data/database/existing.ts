import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, DependencyGroup, IDependable } from 'constructs';
import { djangoSettings, IDjangoDatabase } from './settings';
import { commonProblems } from './validation';
import { admitOnDefaultPort } from '../../access';
import { throwIfProblems } from '../../errors';

/** An existing PostgreSQL database for `DjangoDatabase.fromExisting`. */
export interface ExistingDjangoDatabaseAttributes {
  /** Host name the app connects to (an instance, cluster writer or RDS Proxy endpoint). */
  readonly host: string;

  /** Port the app connects to. */
  readonly port: number;

  /** Secret with `username` and `password` JSON fields (the RDS format). */
  readonly secret: secretsmanager.ISecret;

  /** The security group that guards `host`; `allowFrom` adds ingress rules to it. */
  readonly securityGroup: ec2.ISecurityGroup;

  /**
   * Database name.
   * @default 'django'
   */
  readonly databaseName?: string;

  /**
   * Django `CONN_MAX_AGE`.
   * @default Duration.seconds(60)
   */
  readonly connMaxAge?: Duration;

  /**
   * What must be in place before the database accepts connections, when it is created in the same
   * deployment (e.g. its instances, in another construct of this stack); becomes `ready`.
   * @default - nothing to wait for: the database already accepts connections
   */
  readonly ready?: IDependable;
}

/** The settings surface over a database this app does not manage. */
export class ExistingDjangoDatabase extends Construct implements IDjangoDatabase {
  public readonly environment: { [name: string]: string };
  public readonly secrets: { [name: string]: ecs.Secret };
  public readonly secret: secretsmanager.ISecret;
  public readonly host: string;
  public readonly port: number;
  public readonly connections: ec2.Connections;
  public readonly ready: IDependable;

  constructor(scope: Construct, id: string, attrs: ExistingDjangoDatabaseAttributes) {
    super(scope, id);
    throwIfProblems(this, commonProblems(attrs));
    this.ready = attrs.ready ?? new DependencyGroup();
    this.host = attrs.host;
    this.port = attrs.port;
    this.secret = attrs.secret;
    this.connections = new ec2.Connections({ securityGroups: [attrs.securityGroup], defaultPort: ec2.Port.tcp(attrs.port) });
    const settings = djangoSettings(attrs.host, attrs.port, attrs.databaseName ?? 'django', attrs.connMaxAge ?? Duration.seconds(60), attrs.secret);
    this.environment = settings.environment;
    this.secrets = settings.secrets;
  }

  public allowFrom(peer: ec2.IConnectable): void {
    admitOnDefaultPort(this.connections, peer, 'Django to PostgreSQL');
  }
}
