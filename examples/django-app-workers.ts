// Background work beside the site: a Celery worker (Spot, Graviton-ready) and Celery beat, sharing the
// app's image, settings, secrets, PostgreSQL and the Redis-compatible cache that is their broker. The
// workers start only after the migrations; beat runs exactly once, also during deploys.
import * as path from 'node:path';
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks } from 'cdk-nag';
import { DjangoApp, WorkerCommand } from 'cdk-django';

const app = new App();
// cdk-nag v3 with three packs: synth fails on any unacknowledged finding.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new NIST80053R5Checks(app), new HIPAASecurityChecks(app));

// README:start workers
const stack = new Stack(app, 'DjangoAppWorkers');
new DjangoApp(stack, 'Site', {
  image: ecs.ContainerImage.fromAsset(path.join(__dirname, 'mysite')),
  settingsModule: 'config.settings',   // the Celery app defaults to its package: celery --app=config
  database: {},
  workers: [
    {
      id: 'Celery',
      // warm shutdown on SIGTERM: running tasks get their soft time limit; stopTimeout defaults above it
      command: WorkerCommand.celeryWorker({ softTimeLimit: Duration.seconds(60) }),
      minTasks: 1,
      maxTasks: 8,
      spot: true,                      // Fargate Spot: a reclaimed task shuts down warm within stopTimeout
    },
    { id: 'Beat', command: WorkerCommand.celeryBeat() },  // exactly one task, never two during a deploy
  ],
  // taskQueue: {},                    // SQS as the broker instead of the cache: scales on queue depth
});
// README:end workers

app.synth();
