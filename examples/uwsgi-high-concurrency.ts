// uWSGI for high concurrency: adaptive process spawning, the uWSGI cache, behind Nginx (uwsgi protocol).
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks } from 'cdk-nag';
import { DjangoUwsgiService, UwsgiCheaperAlgorithm } from 'cdk-django';

const app = new App();
Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new NIST80053R5Checks(app), new HIPAASecurityChecks(app));
const stack = new Stack(app, 'UwsgiHighConcurrency');

// README:start uwsgi
new DjangoUwsgiService(stack, 'Web', {
  image: ecs.ContainerImage.fromRegistry('example/mysite:1'),
  cpu: 2048,
  memoryLimitMiB: 4096,
  processes: 8,
  threads: 4,
  cheaper: { algorithm: UwsgiCheaperAlgorithm.SPARE, min: 2, initial: 4, step: 2 },
  cache: { name: 'default', items: 5000 },
  minTasks: 2,
  maxTasks: 20,
});
// README:end uwsgi

app.synth();
