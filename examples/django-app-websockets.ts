// DjangoApp with WebSockets: sync views stay under Gunicorn, Gunicorn's uvicorn worker serves the WebSocket paths,
// behind one load balancer, with a Redis-compatible cache as the Channels layer.
import * as path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks } from 'cdk-nag';
import { DjangoApp } from 'cdk-django';

const app = new App();
// cdk-nag v3 with three packs: synth fails on any unacknowledged finding.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new NIST80053R5Checks(app), new HIPAASecurityChecks(app));

const stack = new Stack(app, 'DjangoAppWebSockets');
// README:start websockets
const site = new DjangoApp(stack, 'Site', {
  image: ecs.ContainerImage.fromAsset(path.join(__dirname, 'mysite')),
  requirements: { websockets: true }, // WebSocket paths: ['/ws/'] unless websocketPaths says otherwise
});
console.error(`${site.decision.server}: ${site.decision.reason}`); // 'gunicorn+uvicorn: WebSockets on /ws/: ...'
// README:end websockets

app.synth();
