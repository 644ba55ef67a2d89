import { RemovalPolicy } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';

/** Props of DjangoStaticFiles. */
export interface DjangoStaticFilesProps {
  /**
   * Serve user uploads too: a second bucket (always retained, versioned) under `/media/*`.
   * @default false
   */
  readonly media?: boolean;
  /**
   * Custom domain names of the distribution; needs `certificate`.
   * @default - the distribution's *.cloudfront.net name
   */
  readonly domainNames?: string[];
  /**
   * Certificate for `domainNames`, in us-east-1 (CloudFront's region for certificates).
   * With it, viewers need TLS 1.2 (TLSv1.2_2021); on the default *.cloudfront.net certificate CloudFront
   * allows TLS 1.0 whatever the policy says.
   * @default - the default *.cloudfront.net certificate
   */
  readonly certificate?: acm.ICertificate;
  /**
   * ARN of a WAFv2 web ACL with scope CLOUDFRONT (created in us-east-1).
   * @default - no web ACL
   */
  readonly webAclArn?: string;
  /**
   * Edge locations the distribution uses.
   * @default cloudfront.PriceClass.PRICE_CLASS_ALL
   */
  readonly priceClass?: cloudfront.PriceClass;
  /**
   * What happens to the static files bucket when it leaves the stack. `collectstatic` can refill it,
   * but DESTROY fails while it holds objects (no auto-delete custom resource here): empty it first.
   * The media and log buckets are always retained.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}
