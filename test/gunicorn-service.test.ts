import { Annotations as CdkAnnotations, App, Duration, Errors, Size, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { DjangoGunicornService, DjangoGunicornServiceProps, GunicornWorkerClass, ReverseProxy, StaticFiles } from '../src';
import { IMAGE, container, containers, envOf, flag, newStack, only, validationMessage } from './helpers/template';

void CdkAnnotations;

function synth(props: Partial<DjangoGunicornServiceProps> = {}): { stack: Stack; service: DjangoGunicornService; template: Template } {
  const stack = newStack();
  const service = new DjangoGunicornService(stack, 'Web', { image: IMAGE, ...props });
  return { stack, service, template: Template.fromStack(stack) };
}

const CERT_ARN = 'arn:aws:acm:us-east-1:111111111111:certificate/abc';

// GIVEN the one-liner with nothing but an image (built once: each Template costs seconds)
const quick = synth();
// GIVEN HTTPS with domain names
const httpsStack = newStack();
const httpsService = new DjangoGunicornService(httpsStack, 'Web', {
  image: IMAGE,
  allowedHosts: ['example.com', '.example.org'],
  certificate: acm.Certificate.fromCertificateArn(httpsStack, 'Cert', CERT_ARN),
  staticFiles: StaticFiles.fromImage('/app/staticfiles'),
  settingsModule: 'mysite.settings.production',
  environment: { SENTRY_ENVIRONMENT: 'production' },
});
const https = Template.fromStack(httpsStack);
// GIVEN the load balancer straight on Gunicorn
const direct = synth({ reverseProxy: ReverseProxy.none(), allowedHosts: ['example.com'] });

describe('the one-liner (Nginx sidecar, HTTP)', () => {
  test('creates a VPC with flow logs, a cluster with Container Insights, and an internet-facing ALB', () => {
    quick.template.resourceCountIs('AWS::EC2::VPC', 1);
    quick.template.resourceCountIs('AWS::EC2::FlowLog', 1);
    quick.template.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
    });
    quick.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internet-facing',
    });
    const attributes = Object.fromEntries(only(quick.template, 'AWS::ElasticLoadBalancingV2::LoadBalancer')
      .LoadBalancerAttributes.map((a: any) => [a.Key, a.Value]));
    expect(attributes).toMatchObject({
      'routing.http.drop_invalid_header_fields.enabled': 'true',
      'idle_timeout.timeout_seconds': '60',
      'access_logs.s3.enabled': 'true',
    });
  });

  test('exposes the created resources', () => {
    const s = quick.service;
    expect(s.vpc).toBeDefined();
    expect(s.cluster).toBeDefined();
    expect(s.loadBalancer).toBeDefined();
    expect(s.listener).toBeDefined();
    expect(s.targetGroup).toBeDefined();
    expect(s.taskDefinition).toBeDefined();
    expect(s.service).toBeDefined();
    expect(s.secretKey).toBeDefined();
    expect(s.logGroup).toBeDefined();
    expect(s.proxyContainer?.containerName).toBe('nginx');
    expect(s.targetContainer).toBe(s.proxyContainer);
    expect(s.appContainer.containerName).toBe('app');
    expect(s.workerClass).toBe(GunicornWorkerClass.GTHREAD);
    expect(s.workers).toBe(2);
    expect(s.threads).toBe(8);
  });

  test('targets the nginx container, not the app', () => {
    quick.template.hasResourceProperties('AWS::ECS::Service', {
      LoadBalancers: [{ ContainerName: 'nginx', ContainerPort: 8080, TargetGroupArn: Match.anyValue() }],
    });
    quick.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: 8080,
      TargetType: 'ip',
      HealthCheckPath: '/healthz',
      HealthCheckIntervalSeconds: 15,
      HealthCheckTimeoutSeconds: 5,
      Matcher: { HttpCode: '200' },
      TargetGroupAttributes: Match.arrayWith([{ Key: 'deregistration_delay.timeout_seconds', Value: '30' }]),
    });
  });

  test('deploys safely: circuit breaker with rollback, 100% minimum healthy, grace period, no public IP', () => {
    const svc = only(quick.template, 'AWS::ECS::Service');
    expect(svc.DeploymentConfiguration).toMatchObject({
      DeploymentCircuitBreaker: { Enable: true, Rollback: true },
      MinimumHealthyPercent: 100,
      MaximumPercent: 200,
    });
    expect(svc.HealthCheckGracePeriodSeconds).toBe(60);
    expect(svc.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp).toBe('DISABLED');
    expect(svc.EnableExecuteCommand).toBe(false);
  });

  test('leaves the task count to autoscaling (no DesiredCount to reset on deploy)', () => {
    expect(only(quick.template, 'AWS::ECS::Service').DesiredCount).toBeUndefined();
    quick.template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 2, MaxCapacity: 8 });
    quick.template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        TargetValue: 60,
        PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' },
      }),
    });
  });

  test('runs Gunicorn gthread on loopback behind the proxy with the production flags', () => {
    const argv: string[] = container(quick.template, 'app').Command;
    expect(argv.slice(0, 2)).toEqual(['gunicorn', 'config.wsgi:application']);
    expect(flag(argv, 'bind')).toBe('127.0.0.1:8000');
    expect(flag(argv, 'worker-class')).toBe('gthread');
    expect(flag(argv, 'workers')).toBe('2');
    expect(flag(argv, 'threads')).toBe('8');
    expect(flag(argv, 'timeout')).toBe('30');
    expect(flag(argv, 'graceful-timeout')).toBe('25');
    expect(flag(argv, 'worker-tmp-dir')).toBe('/dev/shm');
    expect(flag(argv, 'max-requests')).toBe('10000');
    expect(flag(argv, 'max-requests-jitter')).toBe('2500');
    expect(flag(argv, 'forwarded-allow-ips')).toBe('127.0.0.1');
    expect(flag(argv, 'access-logfile')).toBe('-');
  });

  test('nests timeouts inside out and keep-alives outside in: worker 30 < proxy 35 < ALB idle 60 < nginx keep-alive 65', () => {
    const argv: string[] = container(quick.template, 'app').Command;
    const conf: string = envOf(container(quick.template, 'nginx')).CDK_DJANGO_NGINX_CONF['Fn::Join'][1].join('');
    const alb = only(quick.template, 'AWS::ElasticLoadBalancingV2::LoadBalancer');
    const idle = Number(alb.LoadBalancerAttributes.find((a: any) => a.Key === 'idle_timeout.timeout_seconds').Value);
    const worker = Number(flag(argv, 'timeout'));
    const read = Number(conf.match(/proxy_read_timeout (\d+)s;/)![1]);
    const keepalive = Number(conf.match(/keepalive_timeout (\d+)s;/)![1]);
    expect([worker, read, idle, keepalive]).toEqual([30, 35, 60, 65]);
  });

  test('starts nginx only after the app is HEALTHY and stops it gracefully', () => {
    const nginx = container(quick.template, 'nginx');
    expect(nginx.DependsOn).toEqual([{ ContainerName: 'app', Condition: 'HEALTHY' }]);
    expect(nginx.EntryPoint).toEqual(['sh', '-c']);
    expect(nginx.Command[0]).toContain('trap \'kill -QUIT $pid 2>/dev/null\' TERM QUIT INT');
    expect(nginx.Image).toBe('public.ecr.aws/docker/library/nginx:1.28-alpine');
    expect(nginx.ReadonlyRootFilesystem).toBe(true);
    expect(nginx.StopTimeout).toBe(40);
    expect(nginx.PortMappings).toEqual([expect.objectContaining({ ContainerPort: 8080 })]);
  });

  test('the app container health check uses python (no curl), with timeout < interval', () => {
    const hc = container(quick.template, 'app').HealthCheck;
    expect(hc.Command.slice(0, 3)).toEqual(['CMD', 'python3', '-c']);
    expect(hc.Command[3]).toContain('http://127.0.0.1:8000/healthz');
    expect(hc.Timeout).toBeLessThan(hc.Interval);
    expect(container(quick.template, 'app').StopTimeout).toBe(35);
  });

  test('allowed hosts default to the load balancer DNS name; the secret key comes from Secrets Manager', () => {
    const app = container(quick.template, 'app');
    const env = envOf(app);
    expect(env.DJANGO_ALLOWED_HOSTS).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/LoadBalancer/), 'DNSName'] });
    expect(env.DJANGO_CSRF_TRUSTED_ORIGINS['Fn::Join'][1][0]).toBe('http://');
    expect(env.DJANGO_SETTINGS_MODULE).toBeUndefined();
    expect(env.DJANGO_SECRET_KEY).toBeUndefined();
    expect(app.Secrets).toEqual([{ Name: 'DJANGO_SECRET_KEY', ValueFrom: { Ref: expect.stringMatching(/SecretKey/) } }]);
    quick.template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true },
    });
  });

  test('logs to CloudWatch with a year of retention, kept on stack deletion', () => {
    quick.template.hasResource('AWS::Logs::LogGroup', { Properties: { RetentionInDays: 365 }, DeletionPolicy: 'Retain' });
    for (const c of containers(quick.template)) {
      expect(c.LogConfiguration.LogDriver).toBe('awslogs');
    }
  });

  test('serves plain HTTP on port 80 and warns about it', () => {
    quick.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80, Protocol: 'HTTP', DefaultActions: [Match.objectLike({ Type: 'forward' })],
    });
    Annotations.fromStack(quick.stack).hasWarning('/Test/Web', Match.stringLikeRegexp('plain HTTP'));
  });

  test('admits only the load balancer to the task, on the proxy port', () => {
    quick.template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 8080,
      ToPort: 8080,
      IpProtocol: 'tcp',
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('LoadBalancerSecurityGroup'), 'GroupId'] },
    });
    const ingress = Object.values(quick.template.findResources('AWS::EC2::SecurityGroupIngress'));
    expect(ingress.some((r: any) => r.Properties.FromPort === 8000)).toBe(false);
  });
});

describe('HTTPS with domain names and static files from the image', () => {
  test('listens on 443 with the certificate and a modern TLS policy, and redirects 80 to 443', () => {
    https.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      Protocol: 'HTTPS',
      Certificates: [{ CertificateArn: CERT_ARN }],
      SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
    });
    https.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80, DefaultActions: [{ Type: 'redirect', RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' } }],
    });
    Annotations.fromStack(httpsStack).hasNoWarning('/Test/Web', Match.stringLikeRegexp('plain HTTP'));
  });

  test('sets the production settings from the props', () => {
    const env = envOf(container(https, 'app'));
    expect(env).toMatchObject({
      DJANGO_ALLOWED_HOSTS: 'example.com,.example.org',
      DJANGO_CSRF_TRUSTED_ORIGINS: 'https://example.com,https://*.example.org',
      DJANGO_SETTINGS_MODULE: 'mysite.settings.production',
      DJANGO_STATIC_URL: '/static/',
      SENTRY_ENVIRONMENT: 'production',
    });
    expect(httpsService.allowedHosts).toEqual(['example.com', '.example.org']);
  });

  test('static files on a CDN set DJANGO_STATIC_URL to its URL and add no copy container', () => {
    const { template } = synth({ staticFiles: StaticFiles.fromUrl('https://cdn.example.com/static/') });
    expect(envOf(container(template, 'app')).DJANGO_STATIC_URL).toBe('https://cdn.example.com/static/');
    expect(containers(template).map((c) => c.Name)).not.toContain('static-init');
    expect(JSON.stringify(envOf(container(template, 'nginx')).CDK_DJANGO_NGINX_CONF)).not.toContain('location /static/');
  });

  test('nginx accepts only the domain names and answers the health path with an allowed Host', () => {
    const conf: string = envOf(container(https, 'nginx')).CDK_DJANGO_NGINX_CONF;
    expect(conf).toContain('server_name example.com .example.org;');
    expect(conf).toMatch(/location = \/healthz \{[^}]*proxy_set_header Host example\.com;/);
    expect(conf).toContain('return 444;');
  });

  test('copies static files from the app image into a volume that nginx serves read-only', () => {
    const init = container(https, 'static-init');
    expect(init.Image).toBe('example/mysite:1');
    expect(init.Essential).toBe(false);
    expect(init.EntryPoint).toEqual(['python3', '-c']);
    expect(init.Command[0]).toContain('"/app/staticfiles"');
    expect(init.MountPoints).toEqual([{ SourceVolume: 'static', ContainerPath: '/srv/static', ReadOnly: false }]);
    const nginx = container(https, 'nginx');
    expect(nginx.DependsOn).toEqual(expect.arrayContaining([{ ContainerName: 'static-init', Condition: 'SUCCESS' }]));
    expect(nginx.MountPoints).toEqual(expect.arrayContaining([{ SourceVolume: 'static', ContainerPath: '/srv/static', ReadOnly: true }]));
    expect(envOf(nginx).CDK_DJANGO_NGINX_CONF).toMatch(/location \/static\/ \{\s*alias \/srv\/static\/;/);
  });
});

describe('ReverseProxy.none(): the load balancer straight on Gunicorn', () => {
  test('targets the app container on 8000, with no sidecar', () => {
    direct.template.hasResourceProperties('AWS::ECS::Service', {
      LoadBalancers: [{ ContainerName: 'app', ContainerPort: 8000, TargetGroupArn: Match.anyValue() }],
    });
    expect(containers(direct.template).map((c) => c.Name)).toEqual(['app']);
    expect(direct.service.proxyContainer).toBeUndefined();
  });

  test('keeps idle connections longer than the ALB (75 s > 60 s) and trusts the ALB\'s forwarded headers', () => {
    const argv: string[] = container(direct.template, 'app').Command;
    expect(flag(argv, 'bind')).toBe('0.0.0.0:8000');
    expect(flag(argv, 'keep-alive')).toBe('75');
    expect(flag(argv, 'forwarded-allow-ips')).toBe('*');
  });

  test('warns that the health check needs the task IP in ALLOWED_HOSTS', () => {
    Annotations.fromStack(direct.stack).hasWarning('/Test/Web', Match.stringLikeRegexp('task IP'));
  });
});

describe('props', () => {
  test('worker class, workers, threads and timeouts are props', () => {
    const { template } = synth({
      workerClass: GunicornWorkerClass.SYNC,
      workers: 9,
      workerTimeout: Duration.seconds(20),
      gracefulTimeout: Duration.seconds(15),
      stopTimeout: Duration.seconds(60),
      maxRequests: 500,
      maxRequestsJitter: 50,
    });
    const app = container(template, 'app');
    expect(flag(app.Command, 'worker-class')).toBe('sync');
    expect(flag(app.Command, 'workers')).toBe('9');
    expect(flag(app.Command, 'threads')).toBeUndefined();
    expect(flag(app.Command, 'timeout')).toBe('20');
    expect(flag(app.Command, 'max-requests-jitter')).toBe('50');
    expect(app.StopTimeout).toBe(60);
    // the proxy read timeout follows the worker timeout
    expect(envOf(container(template, 'nginx')).CDK_DJANGO_NGINX_CONF['Fn::Join'][1].join('')).toContain('proxy_read_timeout 25s;');
  });

  test('workers scale with task CPU', () => {
    const { service } = synth({ cpu: 2048, memoryLimitMiB: 4096 });
    expect(service.workers).toBe(3);
    expect(synth({ cpu: 2048, memoryLimitMiB: 4096, workerClass: GunicornWorkerClass.SYNC }).service.workers).toBe(5);
  });

  test('the uvicorn worker runs the ASGI module', () => {
    const { template } = synth({ workerClass: GunicornWorkerClass.UVICORN, asgiModule: 'mysite.asgi:application' });
    const argv = container(template, 'app').Command;
    expect(argv[1]).toBe('mysite.asgi:application');
    expect(flag(argv, 'worker-class')).toBe('uvicorn.workers.UvicornWorker');
  });

  test('Gunicorn\'s own ASGI worker runs the ASGI module and may serve WebSockets', () => {
    const { template } = synth({ workerClass: GunicornWorkerClass.ASGI, websocketPaths: ['/ws/'] });
    const argv = container(template, 'app').Command;
    expect(argv[1]).toBe('config.asgi:application');
    expect(flag(argv, 'worker-class')).toBe('asgi');
    expect(argv.some((a: string) => a.startsWith('--threads'))).toBe(false);
  });

  test('the ASGI worker with a WSGI module is a ValidationError naming wsgiModule', () => {
    expect(() => synth({ workerClass: GunicornWorkerClass.ASGI, wsgiModule: 'config.wsgi:application' }))
      .toThrow(/wsgiModule.*the ASGI worker class runs an ASGI app; use asgiModule/s);
  });

  test('client_max_body_size and the proxy image are props', () => {
    const { template } = synth({
      allowedHosts: ['example.com'],
      reverseProxy: ReverseProxy.nginx({ clientMaxBodySize: Size.mebibytes(50), image: ecs.ContainerImage.fromRegistry('nginx:1.27') }),
    });
    const nginx = container(template, 'nginx');
    expect(envOf(nginx).CDK_DJANGO_NGINX_CONF).toContain('client_max_body_size 50m;');
    expect(nginx.Image).toBe('nginx:1.27');
  });

  test('a longer idle timeout moves the keep-alives above it', () => {
    const { template } = synth({ allowedHosts: ['example.com'], idleTimeout: Duration.seconds(120) });
    expect(envOf(container(template, 'nginx')).CDK_DJANGO_NGINX_CONF).toContain('keepalive_timeout 125s;');
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'idle_timeout.timeout_seconds', Value: '120' }]),
    });
  });

  test('user secrets and an existing secret key are passed as ECS secrets', () => {
    const stack = newStack();
    const key = secretsmanager.Secret.fromSecretNameV2(stack, 'Key', 'django/key');
    const api = secretsmanager.Secret.fromSecretNameV2(stack, 'Api', 'api/token');
    new DjangoGunicornService(stack, 'Web', {
      image: IMAGE, secretKey: key, secrets: { API_TOKEN: ecs.Secret.fromSecretsManager(api) },
    });
    const template = Template.fromStack(stack);
    expect(container(template, 'app').Secrets.map((s: any) => s.Name)).toEqual(['DJANGO_SECRET_KEY', 'API_TOKEN']);
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
  });

  test('uses an existing VPC, cluster and load balancer', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Shared', { natGateways: 1 });
    const cluster = new ecs.Cluster(stack, 'Cluster', { vpc });
    const alb = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc, internetFacing: true });
    const service = new DjangoGunicornService(stack, 'Web', { image: IMAGE, cluster, loadBalancer: alb });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::ECS::Cluster', 1);
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 1);
    expect(service.vpc).toBe(vpc);
    expect(service.loadBalancer).toBe(alb);
  });

  test('joins an existing listener with a host-header rule at the given priority', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Shared', { natGateways: 1 });
    const alb = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc, internetFacing: true });
    const listener = alb.addListener('Http', { port: 80, defaultAction: elbv2.ListenerAction.fixedResponse(404) });
    new DjangoGunicornService(stack, 'Web', {
      image: IMAGE, vpc, listener, listenerRulePriority: 10, allowedHosts: ['shop.example.com', '.example.net'],
    });
    Template.fromStack(stack).hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Priority: 10,
      Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['shop.example.com', '*.example.net'] } }],
    });
  });

  test('matches only the given paths of its host names with listenerPathPatterns', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Shared', { natGateways: 1 });
    const alb = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc, internetFacing: true });
    const listener = alb.addListener('Http', { port: 80, defaultAction: elbv2.ListenerAction.fixedResponse(404) });
    new DjangoGunicornService(stack, 'Web', {
      image: IMAGE, vpc, listener, listenerRulePriority: 20, allowedHosts: ['shop.example.com'], listenerPathPatterns: ['/ws/*'],
    });
    Template.fromStack(stack).hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Priority: 20,
      Conditions: [
        { Field: 'host-header', HostHeaderConfig: { Values: ['shop.example.com'] } },
        { Field: 'path-pattern', PathPatternConfig: { Values: ['/ws/*'] } },
      ],
    });
  });
});

describe('CSRF trusted origins follow the scheme browsers use, decided once in the base', () => {
  const origins = (listenerOf: (stack: Stack, alb: elbv2.ApplicationLoadBalancer) => elbv2.IApplicationListener,
    extra: Partial<DjangoGunicornServiceProps> = {}) => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Shared', { natGateways: 1 });
    const alb = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc, internetFacing: true });
    new DjangoGunicornService(stack, 'Web', {
      image: IMAGE, vpc, listener: listenerOf(stack, alb), listenerRulePriority: 10, allowedHosts: ['shop.example.com'], ...extra,
    });
    return envOf(container(Template.fromStack(stack), 'app')).DJANGO_CSRF_TRUSTED_ORIGINS;
  };
  const httpsListener = (stack: Stack, alb: elbv2.ApplicationLoadBalancer) => alb.addListener('Https', {
    port: 443, certificates: [acm.Certificate.fromCertificateArn(stack, 'Cert', CERT_ARN)], defaultAction: elbv2.ListenerAction.fixedResponse(404),
  });
  const httpListener = (_stack: Stack, alb: elbv2.ApplicationLoadBalancer) => alb.addListener('Http', {
    port: 80, defaultAction: elbv2.ListenerAction.fixedResponse(404),
  });
  const imported = (stack: Stack) => elbv2.ApplicationListener.fromApplicationListenerAttributes(stack, 'Imported', {
    listenerArn: 'arn:aws:elasticloadbalancing:eu-west-1:111111111111:listener/app/shared/50dc6c495c0c9188/f2f7dc8efc522ab2',
    securityGroup: ec2.SecurityGroup.fromSecurityGroupId(stack, 'AlbSg', 'sg-12345678'),
  });

  test('an existing HTTPS listener of the app: https://', () => {
    expect(origins(httpsListener)).toBe('https://shop.example.com');
  });
  test('an existing HTTP listener of the app: http://', () => {
    expect(origins(httpListener)).toBe('http://shop.example.com');
  });
  test('an imported listener, whose protocol the app cannot read: https://, or what listenerProtocol says', () => {
    expect(origins(imported)).toBe('https://shop.example.com');
    expect(origins(imported, { listenerProtocol: elbv2.ApplicationProtocol.HTTP })).toBe('http://shop.example.com');
  });
  test('listenerProtocol without a listener is a ValidationError', () => {
    expect(validationMessage((s) => new DjangoGunicornService(s, 'Web', { image: IMAGE, listenerProtocol: elbv2.ApplicationProtocol.HTTPS })))
      .toMatch(/listenerProtocol: only applies to an existing listener/);
  });
});

describe('autoscaling on CPU, and on memory where a target is set', () => {
  const memoryPolicies = (t: Template) => Object.values(t.findResources('AWS::ApplicationAutoScaling::ScalingPolicy'))
    .map((r: any) => r.Properties.TargetTrackingScalingPolicyConfiguration)
    .filter((c: any) => c.PredefinedMetricSpecification.PredefinedMetricType === 'ECSServiceAverageMemoryUtilization');

  test('Gunicorn scales on CPU only by default', () => {
    expect(memoryPolicies(quick.template)).toEqual([]);
  });
  test('targetMemoryUtilization adds a memory target beside the CPU one', () => {
    const { template } = synth({ targetMemoryUtilization: 75 });
    expect(memoryPolicies(template).map((c: any) => c.TargetValue)).toEqual([75]);
  });
  test.each([5, 95, NaN])('targetMemoryUtilization %d is a ValidationError', (value) => {
    expect(validationMessage((s) => new DjangoGunicornService(s, 'Web', { image: IMAGE, targetMemoryUtilization: value })))
      .toMatch(/targetMemoryUtilization: must be 10-90 percent/);
  });
});

const ACL_ARN = 'arn:aws:wafv2:eu-west-1:111111111111:regional/webacl/site/0123abcd';

describe('waf: a web ACL that allows what the proxy allows, and logs', () => {
  const build = (props: Partial<DjangoGunicornServiceProps>) => {
    const stack = newStack();
    const web = new DjangoGunicornService(stack, 'Web', { image: IMAGE, ...props });
    return { web, t: Template.fromStack(stack) };
  };
  const { web, t } = build({ waf: true, reverseProxy: ReverseProxy.nginx({ clientMaxBodySize: Size.mebibytes(25) }) });
  const acl = only(t, 'AWS::WAFv2::WebACL');

  test('the common rule set counts bodies over 8 KB instead of blocking them', () => {
    const common = acl.Rules.find((r: any) => r.Name === 'AWSManagedRulesCommonRuleSet');
    expect(common.Statement.ManagedRuleGroupStatement.RuleActionOverrides).toEqual([{ Name: 'SizeRestrictions_BODY', ActionToUse: { Count: {} } }]);
    expect(common.OverrideAction).toEqual({ None: {} });
  });

  test('a body declared larger than the proxy\'s clientMaxBodySize is refused with 413, first', () => {
    const rule = acl.Rules.find((r: any) => r.Name === 'BodyLargerThanProxyAllows');
    expect(rule.Priority).toBe(0);
    expect(Math.min(...acl.Rules.map((r: any) => r.Priority))).toBe(0);
    expect(rule.Action).toEqual({ Block: { CustomResponse: { ResponseCode: 413 } } });
    const m = rule.Statement.RegexMatchStatement;
    expect(m.FieldToMatch).toEqual({ SingleHeader: { Name: 'content-length' } });
    const re = new RegExp(m.RegexString);
    expect(re.test(String(25 * 1024 * 1024))).toBe(false);
    expect(re.test(String(25 * 1024 * 1024 + 1))).toBe(true);
  });

  test('the limit follows the proxy: 10 MiB by default, and without a proxy', () => {
    for (const props of [{}, { reverseProxy: ReverseProxy.none() }]) {
      const rule = only(build({ waf: true, ...props }).t, 'AWS::WAFv2::WebACL').Rules.find((r: any) => r.Name === 'BodyLargerThanProxyAllows');
      const re = new RegExp(rule.Statement.RegexMatchStatement.RegexString);
      expect([re.test('10485760'), re.test('10485761')]).toEqual([false, true]);
    }
  });

  test('logs go to an encrypted aws-waf-logs- group with retention, unique per stack creation, without cookies or credentials', () => {
    const group = only(t, 'AWS::WAFv2::LoggingConfiguration');
    expect(group.RedactedFields).toEqual([{ SingleHeader: { Name: 'cookie' } }, { SingleHeader: { Name: 'authorization' } }]);
    const logs = Object.values<any>(t.findResources('AWS::Logs::LogGroup')).find((g) => JSON.stringify(g.Properties.LogGroupName ?? '').includes('aws-waf-logs-'));
    expect(logs.Properties.RetentionInDays).toBe(365);
    expect(logs.Properties.KmsKeyId).toBeDefined();
    expect(logs.DeletionPolicy).toBe('Retain');
    const name = logs.Properties.LogGroupName['Fn::Join'];
    expect(name[1][0]).toMatch(/^aws-waf-logs-/);
    expect(JSON.stringify(name[1])).toContain('AWS::StackId');
    // the destination is the group's ARN without the ':*' of logGroupArn
    expect(JSON.stringify(group.LogDestinationConfigs)).not.toContain(':*');
    expect(JSON.stringify(group.ResourceArn)).toContain('Arn');
  });

  test('webAclArn associates an existing web ACL and creates none', () => {
    const existing = build({ webAclArn: ACL_ARN }).t;
    expect(existing.findResources('AWS::WAFv2::WebACL')).toEqual({});
    expect(only(existing, 'AWS::WAFv2::WebACLAssociation').WebACLArn).toBe(ACL_ARN);
    expect(existing.findResources('AWS::WAFv2::LoggingConfiguration')).toEqual({});
  });

  test('the web ACL and its log group are fields', () => {
    expect(web.webAcl).toBeDefined();
    expect(web.webAclLogGroup).toBeDefined();
    expect(build({}).web.webAcl).toBeUndefined();
  });
});

describe('bad props throw a ValidationError naming the prop', () => {
  const cases: Array<[string, (scope: Stack) => Partial<DjangoGunicornServiceProps>, RegExp]> = [
    ['stopTimeout over the ECS limit', () => ({ stopTimeout: Duration.seconds(300) }), /stopTimeout: .*at most 120/],
    ['stopTimeout not above the graceful timeout', () => ({ stopTimeout: Duration.seconds(20) }), /stopTimeout: .*graceful timeout \(25 s\)/],
    ['zero workers', () => ({ workers: 0 }), /workers: /],
    ['threads with the sync worker', () => ({ workerClass: GunicornWorkerClass.SYNC, threads: 4 }), /threads: only the gthread worker/],
    ['health timeout not below the interval', () => ({ healthCheckTimeout: Duration.seconds(15) }), /healthCheckTimeout: .*shorter than healthCheckInterval/],
    ['an invalid Fargate CPU', () => ({ cpu: 300 }), /cpu: Fargate supports/],
    ['memory outside the CPU\'s range', () => ({ cpu: 256, memoryLimitMiB: 4096 }), /memoryLimitMiB: /],
    ['proxy read timeout at the ALB idle timeout', () => ({ reverseProxy: ReverseProxy.nginx({ readTimeout: Duration.seconds(60) }) }), /reverseProxy\.readTimeout: /],
    ['proxy read timeout under the worker timeout', () => ({ reverseProxy: ReverseProxy.nginx({ readTimeout: Duration.seconds(10) }) }), /reverseProxy\.readTimeout: /],
    ['keep-alive not above the ALB idle timeout without a proxy', () => ({ reverseProxy: ReverseProxy.none(), keepAlive: Duration.seconds(2) }), /keepAlive: .*random 502s/],
    ['worker timeout not below the ALB idle timeout', () => ({ workerTimeout: Duration.seconds(60) }), /workerTimeout: /],
    ['a managed setting in environment', () => ({ environment: { DJANGO_ALLOWED_HOSTS: 'x' } }), /environment: DJANGO_ALLOWED_HOSTS is set by the construct/],
    ['a wildcard host', () => ({ allowedHosts: ['*'] }), /allowedHosts: /],
    ['static files from the image without a proxy', () => ({ reverseProxy: ReverseProxy.none(), staticFiles: StaticFiles.fromImage('/app/static') }), /staticFiles: .*needs a proxy/],
    ['a static URL without a scheme', () => ({ staticFiles: StaticFiles.fromUrl('cdn.example.com/static/') }), /staticFiles: StaticFiles.fromUrl\(\) needs a full URL/],
    ['a relative static directory', () => ({ staticFiles: StaticFiles.fromImage('staticfiles') }), /staticFiles: .*absolute path/],
    ['minTasks above maxTasks', () => ({ minTasks: 4, maxTasks: 2 }), /maxTasks: /],
    ['an ASGI module with a WSGI worker', () => ({ asgiModule: 'config.asgi:application' }), /asgiModule: /],
    ['a listener without a priority', (s) => ({ listener: listenerIn(s), allowedHosts: ['a.example.com'] }), /listenerRulePriority: required/],
    ['a listener without domain names', (s) => ({ listener: listenerIn(s), listenerRulePriority: 5 }), /allowedHosts: an existing listener is shared/],
    ['a priority without a listener', () => ({ listenerRulePriority: 5 }), /listenerRulePriority: only applies/],
    ['path patterns without a listener', () => ({ listenerPathPatterns: ['/ws/*'] }), /listenerPathPatterns: only applies/],
    ['a path pattern without a slash', (s) => ({ listener: listenerIn(s), listenerRulePriority: 5, allowedHosts: ['a.example.com'], listenerPathPatterns: ['ws/*'] }), /listenerPathPatterns: must be ALB path patterns/],
    ['more than 5 rule values', (s) => ({ listener: listenerIn(s), listenerRulePriority: 5, allowedHosts: ['a.example.com', 'b.example.com'], listenerPathPatterns: ['/a/*', '/b/*', '/c/*', '/d/*'] }), /at most 5 host names and path patterns together, got 6/],
    ['a health path without a slash', () => ({ healthCheckPath: 'healthz' }), /healthCheckPath: /],
    ['waf and webAclArn together', () => ({ waf: true, webAclArn: ACL_ARN }), /webAclArn: give either waf: true .* or webAclArn/],
    ['a web ACL ARN of another kind', () => ({ webAclArn: 'arn:aws:wafv2:us-east-1:111111111111:global/webacl/site/1' }), /webAclArn: .*REGIONAL/],
    ['waf with an existing listener', (s) => ({ listener: listenerIn(s), listenerRulePriority: 5, allowedHosts: ['a.example.com'], waf: true }), /waf: applies to the load balancer created here/],
    ['a body size that is not whole KiB', () => ({ reverseProxy: ReverseProxy.nginx({ clientMaxBodySize: Size.bytes(1500) }) }), /reverseProxy\.clientMaxBodySize: /],
  ];

  test.each(cases)('%s', (_name, props, message) => {
    expect(validationMessage((scope) => new DjangoGunicornService(scope, 'Web', { image: IMAGE, ...props(scope as Stack) }))).toMatch(message);
  });

  test('is aws-cdk-lib\'s ValidationError, and lists every problem at once', () => {
    let error: unknown;
    try {
      new DjangoGunicornService(newStack(), 'Web', { image: IMAGE, workers: 0, cpu: 300 });
    } catch (e) {
      error = e;
    }
    expect(Errors.isValidationError(error)).toBe(true);
    expect((error as Error).message).toMatch(/workers: [\s\S]*cpu: /);
  });
});

function listenerIn(scope: Stack): elbv2.IApplicationListener {
  return elbv2.ApplicationListener.fromApplicationListenerAttributes(scope, 'L', {
    listenerArn: 'arn:aws:elasticloadbalancing:us-east-1:111111111111:listener/app/x/1/2',
    securityGroup: ec2.SecurityGroup.fromSecurityGroupId(scope, 'Sg', 'sg-12345678'),
  });
}

void App;

describe('WebSockets under an ASGI worker: the Channels layer, one task without it, pings through every timeout', () => {
  const WS = { workerClass: GunicornWorkerClass.UVICORN, websocketPaths: ['/ws/'] };
  const capacity = (t: Template) => {
    const target = Object.values(t.findResources('AWS::ApplicationAutoScaling::ScalableTarget'))[0] as any;
    return [target.Properties.MinCapacity, target.Properties.MaxCapacity];
  };

  test('without a channel layer the service runs one task, scales on memory too, and warns', () => {
    const { stack, template } = synth(WS);
    expect(capacity(template)).toEqual([1, 1]);
    Annotations.fromStack(stack).hasWarning('/Test/Web', Match.stringLikeRegexp('No channelLayer'));
    expect(Object.values(template.findResources('AWS::ApplicationAutoScaling::ScalingPolicy'))
      .map((r: any) => r.Properties.TargetTrackingScalingPolicyConfiguration.PredefinedMetricSpecification.PredefinedMetricType).sort())
      .toEqual(['ECSServiceAverageCPUUtilization', 'ECSServiceAverageMemoryUtilization']);
  });

  test('more than one task without a layer is a ValidationError naming channelLayer', () => {
    expect(validationMessage((s) => new DjangoGunicornService(s, 'Web', { image: IMAGE, ...WS, minTasks: 2 })))
      .toMatch(/channelLayer: running 2 tasks needs a shared channel layer/);
  });

  test('a channel layer sets REDIS_URL and REDIS_PASSWORD, admits the service to Redis, and allows two tasks or more', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 1 });
    const redisSg = new ec2.SecurityGroup(stack, 'RedisSg', { vpc });
    const password = ecs.Secret.fromSecretsManager(new secretsmanager.Secret(stack, 'Token'));
    new DjangoGunicornService(stack, 'Web', {
      image: IMAGE,
      vpc,
      ...WS,
      channelLayer: { redisUrl: 'rediss://redis.internal:6380/0', password, connections: redisSg, port: 6380 },
    });
    const t = Template.fromStack(stack);
    expect(envOf(container(t, 'app')).REDIS_URL).toBe('rediss://redis.internal:6380/0');
    expect(container(t, 'app').Secrets.map((s: any) => s.Name)).toContain('REDIS_PASSWORD');
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 6380, GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('RedisSg'), 'GroupId'] } });
    expect(capacity(t)).toEqual([2, 8]);
    Annotations.fromStack(stack).hasNoWarning('/Test/Web', Match.stringLikeRegexp('No channelLayer'));
  });

  test('a WSGI service may take the layer (views send to groups) and keeps its task counts', () => {
    const { template } = synth({ channelLayer: { redisUrl: 'redis://redis.internal:6379/0' } });
    expect(envOf(container(template, 'app')).REDIS_URL).toBe('redis://redis.internal:6379/0');
    expect(capacity(template)).toEqual([2, 8]);
  });

  test('the proxy reads WebSockets for 60 s, above uvicorn\'s 20 s pings; a shorter read timeout is a ValidationError', () => {
    const { template } = synth(WS);
    expect(JSON.stringify(template.toJSON())).toMatch(/location \/ws\/ \{[^}]*proxy_read_timeout 60s/);
    expect(validationMessage((s) => new DjangoGunicornService(s, 'Web', { image: IMAGE, ...WS, websocketReadTimeout: Duration.seconds(20) })))
      .toMatch(/websocketReadTimeout: \(20 s\) must be longer than uvicorn's 20 s ping interval/);
    expect(validationMessage((s) => new DjangoGunicornService(s, 'Web', { image: IMAGE, ...WS, idleTimeout: Duration.seconds(20) })))
      .toMatch(/idleTimeout: \(20 s\) must be longer than uvicorn's 20 s ping interval/);
  });

  test('worker recycling is off by default (a recycled uvicorn worker closes its sockets); set, it warns', () => {
    expect(flag(container(synth(WS).template, 'app').Command, 'max-requests')).toBe('0');
    expect(flag(container(quick.template, 'app').Command, 'max-requests')).toBe('10000');
    const { stack } = synth({ ...WS, maxRequests: 5000 });
    Annotations.fromStack(stack).hasWarning('/Test/Web', Match.stringLikeRegexp('maxRequests 5000: a worker that reaches it closes every WebSocket'));
  });

  test('a WSGI service\'s layer must agree with environment too', () => {
    expect(validationMessage((s) => new DjangoGunicornService(s, 'Web', {
      image: IMAGE, channelLayer: { redisUrl: 'redis://a.internal:6379/0' }, environment: { REDIS_URL: 'redis://b.internal:6379/0' },
    }))).toMatch(/environment: REDIS_URL differs from channelLayer.redisUrl/);
  });

  test('websocketReadTimeout facing the load balancer (no proxy) is a ValidationError', () => {
    expect(validationMessage((s) => new DjangoGunicornService(s, 'Web', {
      image: IMAGE, ...WS, reverseProxy: ReverseProxy.none(), websocketReadTimeout: Duration.seconds(90),
    }))).toMatch(/websocketReadTimeout: is the proxy's read timeout, and ReverseProxy.none\(\) has no proxy/);
  });

  test('a malformed ASGI module names asgiModule', () => {
    expect(validationMessage((s) => new DjangoGunicornService(s, 'Web', { image: IMAGE, ...WS, asgiModule: 'mysite/asgi.py' })))
      .toMatch(/asgiModule: 'mysite\/asgi.py' is not 'package.module:callable' \(e.g. 'mysite.asgi:application'\)/);
  });

  test('websocketReadTimeout without WebSocket paths is a ValidationError', () => {
    expect(validationMessage((s) => new DjangoGunicornService(s, 'Web', { image: IMAGE, websocketReadTimeout: Duration.seconds(90) })))
      .toMatch(/websocketReadTimeout: applies to WebSocket paths only/);
  });

  test('Gunicorn\'s own ASGI worker sends no pings: a warning says when idle sockets close', () => {
    const { stack } = synth({ workerClass: GunicornWorkerClass.ASGI, websocketPaths: ['/ws/'] });
    Annotations.fromStack(stack).hasWarning('/Test/Web', Match.stringLikeRegexp('ASGI worker sends no WebSocket pings: a socket idle for 60 s'));
    Annotations.fromStack(synth(WS).stack).hasNoWarning('/Test/Web', Match.stringLikeRegexp('sends no WebSocket pings'));
  });
});
