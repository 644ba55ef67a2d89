import { Token } from 'aws-cdk-lib';
import { DjangoStaticFilesProps } from './options';
import { Problem } from '../../problems';

/**
 * Everything wrong with the props; DjangoApp reports these under `staticSite.` before it builds anything.
 * @jsii ignore
 */
export function staticFilesProblems(props: DjangoStaticFilesProps): Problem[] {
  const problems: Problem[] = [];
  const domains = props.domainNames;
  if (domains && domains.length === 0) {
    problems.push({ prop: 'domainNames', message: 'is empty; leave it out to use the *.cloudfront.net name, or give at least one domain name' });
  }
  if (domains && domains.length > 0 && !props.certificate) {
    problems.push({ prop: 'domainNames', message: 'CloudFront serves custom domain names only with a certificate for them; give certificate (in us-east-1) or leave domainNames out' });
  }
  if (domains && domains.length > 0 && !Token.isUnresolved(domains[0]) && domains[0].startsWith('*')) {
    problems.push({ prop: 'domainNames', message: `the first name becomes DJANGO_STATIC_URL and '${domains[0]}' is a wildcard; put a concrete name first` });
  }
  if (props.certificate && !(domains && domains.length > 0)) {
    problems.push({ prop: 'certificate', message: 'a certificate is used only for custom domain names; give domainNames too, or leave certificate out' });
  }
  if (props.certificate && !Token.isUnresolved(props.certificate.certificateArn)) {
    const region = props.certificate.certificateArn.split(':')[3]; // arn:partition:acm:region:account:certificate/id
    if (region !== 'us-east-1') {
      problems.push({ prop: 'certificate', message: `is in ${region || 'an unknown region'}; CloudFront uses certificates from us-east-1 only: request or import one there` });
    }
  }
  const acl = props.webAclArn;
  if (acl !== undefined && !Token.isUnresolved(acl) && !/^arn:aws[a-z-]*:wafv2:us-east-1:\d{12}:global\/webacl\//.test(acl)) {
    problems.push({ prop: 'webAclArn', message: `'${acl}' is not the ARN of a WAFv2 web ACL with scope CLOUDFRONT (arn:aws:wafv2:us-east-1:<account>:global/webacl/...); create the web ACL in us-east-1 with scope CLOUDFRONT` });
  }
  return problems;
}
