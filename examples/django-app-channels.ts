// A Django Channels site as most teams run it: sync views under Gunicorn, WebSockets under Gunicorn's uvicorn worker,
// one load balancer with HTTPS, PostgreSQL, a Redis-compatible cache that is also the Channels layer,
// static files on CloudFront, migrations and collectstatic as a deploy step, alarms to a topic.
import * as path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks } from 'cdk-nag';
import { DjangoApp } from 'cdk-django';

const app = new App();
// cdk-nag v3 with three packs: synth fails on any unacknowledged finding.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new NIST80053R5Checks(app), new HIPAASecurityChecks(app));

// README:start channels
const stack = new Stack(app, 'DjangoAppChannels');
new DjangoApp(stack, 'Chat', {
  image: ecs.ContainerImage.fromAsset(path.join(__dirname, 'mysite')),
  requirements: { websockets: true, websocketPaths: ['/ws/'] },
  allowedHosts: ['chat.example.com'],
  certificate: acm.Certificate.fromCertificateArn(stack, 'Cert',
    'arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-0000-0000-000000000000'),
  settingsModule: 'config.settings',
  databaseOptions: { serverlessV2MaxCapacity: 8 },              // Aurora Serverless v2 PostgreSQL, 0.5-8 ACUs
  staticSite: { media: true },               // S3 + CloudFront; collectstatic runs with the migrations
  alarms: { createTopic: true },             // subscribe your on-call to app.alarms.topic
});
// README:end channels

app.synth();
