import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { csrfTrustedOrigins, SettingsEnv } from '../settings';

/** What the Django settings of a container are made from: the same for the web services and the workers. */
export interface AppSettingsInput {
  /** Host names Django accepts; undefined leaves DJANGO_ALLOWED_HOSTS (and the CSRF origins) unset. */
  readonly allowedHosts?: readonly string[];
  /** Whether the site is served over HTTPS (the CSRF origins' scheme); undefined leaves the CSRF origins unset. */
  readonly https?: boolean;
  readonly settingsModule?: string;
  /** `DJANGO_STATIC_URL`, unless Django serves the files itself. */
  readonly staticUrl?: string;
  /** The server's own environment (e.g. a rendered uwsgi.ini), before the user's. */
  readonly serverEnvironment?: { [name: string]: string };
  /** The user's environment (and the data tier's, in DjangoApp). */
  readonly environment?: { [name: string]: string };
  readonly secretKey: secretsmanager.ISecret;
  /** The user's secrets (and the data tier's, in DjangoApp). */
  readonly secrets?: { [name: string]: ecs.Secret };
}

/** The environment and secrets of a Django container: production settings, then the server's, then the user's. */
export function appSettings(i: AppSettingsInput): { environment: { [name: string]: string }; secrets: { [name: string]: ecs.Secret } } {
  const environment: { [name: string]: string } = {
    // Production, always: the settings block reads it (its local fallback is DEBUG on).
    [SettingsEnv.DEBUG]: 'false',
  };
  if (i.allowedHosts) {
    environment[SettingsEnv.ALLOWED_HOSTS] = i.allowedHosts.join(',');
  }
  if (i.allowedHosts && i.https !== undefined) {
    environment[SettingsEnv.CSRF_TRUSTED_ORIGINS] = csrfTrustedOrigins(i.allowedHosts, i.https).join(',');
  }
  if (i.settingsModule) environment[SettingsEnv.SETTINGS_MODULE] = i.settingsModule;
  if (i.staticUrl !== undefined) environment[SettingsEnv.STATIC_URL] = i.staticUrl;
  Object.assign(environment, i.serverEnvironment ?? {}, i.environment ?? {});
  return {
    environment,
    secrets: { [SettingsEnv.SECRET_KEY]: ecs.Secret.fromSecretsManager(i.secretKey), ...i.secrets },
  };
}
