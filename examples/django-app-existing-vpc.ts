// DjangoApp in a VPC that already exists (shared by a platform team), with a new PostgreSQL
// database in its isolated subnets and the uWSGI cache the project relies on.
import * as path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks } from 'cdk-nag';
import { DatabaseEngineKind, DjangoApp } from 'cdk-django';

const app = new App();
Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new NIST80053R5Checks(app), new HIPAASecurityChecks(app));

// README:start existing-vpc
const stack = new Stack(app, 'DjangoAppExistingVpc', { env: { account: '111111111111', region: 'eu-west-1' } });
const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
  vpcId: 'vpc-0123456789abcdef0',
  availabilityZones: ['eu-west-1a', 'eu-west-1b'],
  publicSubnetIds: ['subnet-0a000000000000001', 'subnet-0a000000000000002'],
  privateSubnetIds: ['subnet-0b000000000000001', 'subnet-0b000000000000002'],
  isolatedSubnetIds: ['subnet-0c000000000000001', 'subnet-0c000000000000002'],
  publicSubnetRouteTableIds: ['rtb-0a000000000000001', 'rtb-0a000000000000002'],
  privateSubnetRouteTableIds: ['rtb-0b000000000000001', 'rtb-0b000000000000002'],
  isolatedSubnetRouteTableIds: ['rtb-0c000000000000001', 'rtb-0c000000000000002'],
});
const site = new DjangoApp(stack, 'Shop', {
  image: ecs.ContainerImage.fromAsset(path.join(__dirname, 'mysite')),
  vpc,
  requirements: { uwsgiCache: true },
  databaseOptions: { engine: DatabaseEngineKind.RDS_INSTANCE },
});
// site.decision.server === 'uwsgi'
// README:end existing-vpc
void site;

app.synth();
