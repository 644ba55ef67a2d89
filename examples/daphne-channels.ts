// Django Channels under Daphne: HTTP and WebSockets (/ws/) behind Nginx, HTTP/2 at the ALB,
// a Redis channel layer so several tasks share groups.
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks } from 'cdk-nag';
import { DjangoDaphneService } from 'cdk-django';

const app = new App();
Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new NIST80053R5Checks(app), new HIPAASecurityChecks(app));
const stack = new Stack(app, 'DaphneChannels');

// README:start daphne
const redisAuth = secretsmanager.Secret.fromSecretNameV2(stack, 'RedisAuth', 'chat/redis-auth');

new DjangoDaphneService(stack, 'Chat', {
  image: ecs.ContainerImage.fromRegistry('example/chat:1'),
  asgiModule: 'chat.asgi:application',
  allowedHosts: ['chat.example.com'],
  certificate: acm.Certificate.fromCertificateArn(stack, 'Cert',
    'arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-0000-0000-000000000000'),
  websocketPaths: ['/ws/'],
  channelLayer: {
    redisUrl: 'rediss://chat-redis.abc123.euw1.cache.amazonaws.com:6379/0',
    password: ecs.Secret.fromSecretsManager(redisAuth),
  },
});
// README:end daphne

app.synth();
