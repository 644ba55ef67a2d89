import { Names, Token } from 'aws-cdk-lib';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';
import { acknowledgeInPacks } from '../compliance';
import { DjangoServiceBaseProps } from './service-props';

/**
 * Whether browsers reach the service over HTTPS, which decides the scheme of `DJANGO_CSRF_TRUSTED_ORIGINS`:
 * a certificate here; else an existing listener's `listenerProtocol`, its own protocol when it is an
 * ApplicationListener of this app (a token counts as unknown), and HTTPS for an imported listener, whose
 * protocol the app cannot read (a shared listener in front of a production site is HTTPS).
 */
export function servesHttps(props: DjangoServiceBaseProps): boolean {
  if (props.certificate) return true;
  if (!props.listener) return false;
  if (props.listenerProtocol !== undefined) return props.listenerProtocol === elbv2.ApplicationProtocol.HTTPS;
  const own = props.listener instanceof elbv2.ApplicationListener ? props.listener.protocol : undefined;
  if (own !== undefined && !Token.isUnresolved(own)) return own === elbv2.ApplicationProtocol.HTTPS;
  return true;
}

/**
 * Attaches the target group: to an existing listener with a host-header (and path) rule, or to the
 * port-80 (and, with a certificate, 443) listener of the service's own load balancer.
 */
export function attachToListener(scope: Construct, props: DjangoServiceBaseProps, targetGroup: elbv2.ApplicationTargetGroup,
  loadBalancer: elbv2.IApplicationLoadBalancer | undefined): elbv2.IApplicationListener {
  if (props.listener) {
    // One rule per service on a shared listener: the first keeps the id it always had.
    props.listener.addTargetGroups(props.listener.node.tryFindChild('DjangoRule') ? `Django${Names.uniqueId(scope)}` : 'Django', {
      targetGroups: [targetGroup],
      priority: props.listenerRulePriority,
      conditions: [
        elbv2.ListenerCondition.hostHeaders(props.allowedHosts!.map((d) => (d.startsWith('.') ? `*${d}` : d))),
        ...(props.listenerPathPatterns ? [elbv2.ListenerCondition.pathPatterns(props.listenerPathPatterns)] : []),
      ],
    });
    return props.listener;
  }
  const lb = loadBalancer!;
  // Port 80 is one listener whatever it does: with a certificate it redirects, without one it
  // forwards. Adding or removing a certificate then updates its default action in place; two
  // construct ids would make CloudFormation create the new port-80 listener before deleting the old
  // one, and the load balancer refuses a second listener on a port (DuplicateListener).
  const http = lb.addListener('Http', {
    port: 80,
    protocol: elbv2.ApplicationProtocol.HTTP,
    ...(props.certificate
      ? { defaultAction: elbv2.ListenerAction.redirect({ protocol: 'HTTPS', port: '443', permanent: true }) }
      : { defaultTargetGroups: [targetGroup] }),
    open: true,
  });
  if (props.certificate) {
    acknowledgeInPacks(http, 'ELBv2ACMCertificateRequired', 'This port-80 listener only redirects to HTTPS (301); it serves no content and needs no certificate.');
    // Port 443 exists only with a certificate: adding one creates it, removing one deletes it; nothing else holds the port.
    return lb.addListener('Https', {
      port: 443,
      protocol: elbv2.ApplicationProtocol.HTTPS,
      certificates: [props.certificate],
      sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
      defaultTargetGroups: [targetGroup],
      open: true,
    });
  }
  const httpOnly = 'No certificate was given: the site is served over HTTP, with the cdk-django:http-only warning at synth until certificate and allowedHosts are set.';
  acknowledgeInPacks(http, 'ELBv2ACMCertificateRequired', httpOnly);
  acknowledgeInPacks(http, 'ALBHttpToHttpsRedirection', httpOnly);
  return http;
}