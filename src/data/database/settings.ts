import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { IDependable } from 'constructs';

/**
 * What a Django service needs to reach its database: the settings to merge into the app container
 * and a way to open the network path.
 */
export interface IDjangoDatabase extends ec2.IConnectable {
  /**
   * Non-secret settings for the app container: `DATABASE_HOST`, `DATABASE_PORT`, `DATABASE_NAME`,
   * `DATABASE_SSLMODE` (`require`), `DJANGO_CONN_MAX_AGE` (seconds) and `DJANGO_CONN_HEALTH_CHECKS` (`true`).
   */
  readonly environment: { [name: string]: string };

  /** `DATABASE_USER` and `DATABASE_PASSWORD`, read by ECS from the `username`/`password` fields of the secret (the app's own user, not the master). */
  readonly secrets: { [name: string]: ecs.Secret };

  /** The Secrets Manager secret holding the app's credentials (RDS JSON format: username, password, host, port, dbname). */
  readonly secret: secretsmanager.ISecret;

  /** The host name the app connects to (the RDS Proxy endpoint when there is one). */
  readonly host: string;

  /** The port the app connects to. */
  readonly port: number;

  /**
   * What must be in place before anything connects: the writer and every other instance (Aurora), the
   * instance (RDS), and the RDS Proxy's target group with `rdsProxy`. The database resources exist before
   * that, but `migrate` or a task started earlier cannot connect. Make your own services, tasks and custom
   * resources that use the database wait on it: `myResource.node.addDependency(database.ready)`.
   * DjangoApp's migrations do; its services wait on the migrations.
   */
  readonly ready: IDependable;

  /** Admits `peer` (typically a Django ECS service) on the database port. */
  allowFrom(peer: ec2.IConnectable): void;
}

/** The container settings every flavour (new or existing) exposes. */
export function djangoSettings(host: string, port: number, databaseName: string, connMaxAge: Duration, secret: secretsmanager.ISecret) {
  return {
    environment: {
      DATABASE_HOST: host,
      DATABASE_PORT: String(port),
      DATABASE_NAME: databaseName,
      DATABASE_SSLMODE: 'require',
      DJANGO_CONN_MAX_AGE: String(connMaxAge.toSeconds()),
      DJANGO_CONN_HEALTH_CHECKS: 'true',
    },
    secrets: {
      DATABASE_USER: ecs.Secret.fromSecretsManager(secret, 'username'),
      DATABASE_PASSWORD: ecs.Secret.fromSecretsManager(secret, 'password'),
    },
  };
}
