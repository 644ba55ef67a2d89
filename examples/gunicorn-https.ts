// Production shape: HTTPS with your certificate and domain, static files served by Nginx from the
// image, your settings module and secrets.
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks } from 'cdk-nag';
import { DjangoGunicornService, StaticFiles } from 'cdk-django';

const app = new App();
Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new NIST80053R5Checks(app), new HIPAASecurityChecks(app));
const stack = new Stack(app, 'GunicornHttps');

// README:start https
const certificate = acm.Certificate.fromCertificateArn(stack, 'Cert',
  'arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-0000-0000-000000000000');
const sentryDsn = secretsmanager.Secret.fromSecretNameV2(stack, 'SentryDsn', 'mysite/sentry-dsn');

new DjangoGunicornService(stack, 'Web', {
  image: ecs.ContainerImage.fromRegistry('example/mysite:1'),
  wsgiModule: 'mysite.wsgi:application',
  settingsModule: 'mysite.settings.production',
  allowedHosts: ['www.example.com', 'example.com'],
  certificate,
  staticFiles: StaticFiles.fromImage('/app/staticfiles'),
  secrets: { SENTRY_DSN: ecs.Secret.fromSecretsManager(sentryDsn) },
  cpu: 1024,
  memoryLimitMiB: 2048,
  minTasks: 2,
  maxTasks: 10,
});
// README:end https

app.synth();
