// A canary deploy with alarm rollback: each new revision first gets 5 % of production traffic for
// 10 minutes, after a smoke test on the test listener; a 5xx rate over 2 % (the deployment alarm) or a
// failed smoke test rolls it back, and the previous revision keeps running 10 minutes more after the shift.
import * as path from 'node:path';
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks } from 'cdk-nag';
import { DjangoApp } from 'cdk-django';

const app = new App();
Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new NIST80053R5Checks(app), new HIPAASecurityChecks(app));
const stack = new Stack(app, 'DjangoAppCanary');

// README:start canary
const certificate = acm.Certificate.fromCertificateArn(stack, 'Cert',
  'arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-0000-0000-000000000000');

new DjangoApp(stack, 'Site', {
  image: ecs.ContainerImage.fromAsset(path.join(__dirname, 'mysite')),
  domainNames: ['www.example.com'],
  certificate,
  database: {},
  deployment: {
    strategy: ecs.DeploymentStrategy.CANARY,
    canaryPercent: 5,
    canaryBakeTime: Duration.minutes(10),
    bakeTime: Duration.minutes(10),
    // The test listener (port 9000) admits the smoke test, and the office for a look before the shift.
    testListener: { allowFrom: [ec2.Peer.ipv4('203.0.113.0/24')] },
    smokeTest: { path: '/healthz', successes: 3, timeout: Duration.minutes(3) },
  },
  // The 5xx-rate alarm is the deployment alarm: rollback above 2 % over 5 minutes.
  alarms: { http5xxRatePercent: 2 },
});
// README:end canary

app.synth();
