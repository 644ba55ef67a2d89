// DjangoApp picks the app server(s) from what the project needs: here WebSockets with sync views,
// so Gunicorn serves HTTP and Daphne the WebSocket paths, behind one load balancer.
import * as path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks } from 'cdk-nag';
import { DjangoApp } from 'cdk-django';

const app = new App();
// cdk-nag v3 with three packs: synth fails on any unacknowledged finding.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new NIST80053R5Checks(app), new HIPAASecurityChecks(app));

// README:start quickstart
const stack = new Stack(app, 'DjangoAppQuickstart');
const site = new DjangoApp(stack, 'Site', {
  image: ecs.ContainerImage.fromAsset(path.join(__dirname, 'mysite')),
  requirements: { websockets: true },
});
console.error(`${site.decision.server}: ${site.decision.reason}`); // 'gunicorn+daphne: WebSockets on /ws/: ...'
// README:end quickstart

app.synth();
