// Django Channels under Gunicorn's uvicorn worker: HTTP and WebSockets (/ws/) behind Nginx, pings every
// 20 s that keep idle sockets open, a Redis channel layer so several tasks share groups.
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks } from 'cdk-nag';
import { DjangoGunicornService, GunicornWorkerClass } from 'cdk-django';

const app = new App();
Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new NIST80053R5Checks(app), new HIPAASecurityChecks(app));
const stack = new Stack(app, 'GunicornChannels');

// README:start gunicorn-channels
const redisAuth = secretsmanager.Secret.fromSecretNameV2(stack, 'RedisAuth', 'chat/redis-auth');

new DjangoGunicornService(stack, 'Chat', {
  image: ecs.ContainerImage.fromRegistry('example/chat:1'), // with uvicorn[standard] installed
  workerClass: GunicornWorkerClass.UVICORN,
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
// README:end gunicorn-channels

app.synth();
