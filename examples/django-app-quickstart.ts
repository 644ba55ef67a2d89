// The README's "Getting started" app, whole: a plain Django project under Gunicorn behind Nginx.
// README:start app
import * as path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks } from 'cdk-nag';
import { DjangoApp } from 'cdk-django';

const app = new App();
// cdk-nag: synth fails on any security finding (leave out this line and its import to skip it).
Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new NIST80053R5Checks(app), new HIPAASecurityChecks(app));

const stack = new Stack(app, 'MySite');
new DjangoApp(stack, 'Site', {
  // The directory `django-admin startproject mysite` made; the app module is found in it (mysite.wsgi).
  image: ecs.ContainerImage.fromAsset(path.join(__dirname, 'mysite')),
});

app.synth();
// README:end app
