// A DjangoApp at a low fixed cost: Graviton (ARM64) tasks, web tasks on Fargate Spot above one
// on-demand task, and one NAT gateway shared by both AZs instead of two (README: "Cost levers").
import * as path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks } from 'cdk-nag';
import { DjangoApp } from 'cdk-django';

const app = new App();
Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new NIST80053R5Checks(app), new HIPAASecurityChecks(app));

// README:start low-cost
const stack = new Stack(app, 'DjangoAppLowCost');
new DjangoApp(stack, 'Site', {
  image: ecs.ContainerImage.fromAsset(path.join(__dirname, 'mysite'), { platform: Platform.LINUX_ARM64 }),
  cpuArchitecture: ecs.CpuArchitecture.ARM64,
  spot: true,
  vpcOptions: { natGateways: 1 },
  database: {},
});
// README:end low-cost

app.synth();
