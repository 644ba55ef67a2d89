// One-off commands: the DjangoApp's RunTaskCommand output (createsuperuser), a data fix of your own as an
// output, and ECS Exec for an interactive `manage.py shell` (README "One-off commands").
import * as path from 'node:path';
import { App, CfnOutput, Stack, Validations } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks } from 'cdk-nag';
import { DjangoApp } from 'cdk-django';

const app = new App();
Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new NIST80053R5Checks(app), new HIPAASecurityChecks(app));
const stack = new Stack(app, 'DjangoAppOneOff');

// README:start one-off
const site = new DjangoApp(stack, 'Site', {
  image: ecs.ContainerImage.fromAsset(path.join(__dirname, 'mysite')),
  database: {},
  // ECS Exec: sessions encrypted with a key of their own and logged to an encrypted log group.
  enableExecuteCommand: true,
});

// A data fix as a ready-to-paste command of its own, beside the RunTaskCommand output every DjangoApp has.
new CfnOutput(stack, 'ClearSessions', {
  value: site.oneOffTask.runTaskCommandFor(['python', 'manage.py', 'clearsessions']),
});
// README:end one-off

app.synth();
