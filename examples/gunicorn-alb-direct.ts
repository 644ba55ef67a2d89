// No proxy: the load balancer talks to Gunicorn directly (keep-alive 75 s > ALB idle 60 s).
// Static files come from WhiteNoise in the app.
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks } from 'cdk-nag';
import { DjangoGunicornService, ReverseProxy } from 'cdk-django';

const app = new App();
Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new NIST80053R5Checks(app), new HIPAASecurityChecks(app));
const stack = new Stack(app, 'GunicornAlbDirect');

// README:start alb-direct
const web = new DjangoGunicornService(stack, 'Web', {
  image: ecs.ContainerImage.fromRegistry('example/mysite:1'),
  reverseProxy: ReverseProxy.none(),
  allowedHosts: ['app.example.com'],
});
// Settings.py adds the task IP to ALLOWED_HOSTS (see "Health checks without a proxy").
Validations.of(web).acknowledge({
  id: 'annotation::cdk-django:task-ip-allowed-host',
  reason: 'settings.py adds the task IP from the ECS metadata endpoint to ALLOWED_HOSTS.',
});
// README:end alb-direct

app.synth();
