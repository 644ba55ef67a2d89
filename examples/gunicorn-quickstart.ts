// The smallest deployable Django site: Gunicorn (gthread) behind an Nginx sidecar on ECS Fargate.
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks } from 'cdk-nag';
import { DjangoGunicornService } from 'cdk-django';

const app = new App();
// cdk-nag v3 with three packs: synth fails on any unacknowledged finding.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new NIST80053R5Checks(app), new HIPAASecurityChecks(app));

// README:start quickstart
const stack = new Stack(app, 'GunicornQuickstart');
new DjangoGunicornService(stack, 'Web', {
  image: ecs.ContainerImage.fromRegistry('example/mysite:1'),
});
// README:end quickstart

app.synth();
