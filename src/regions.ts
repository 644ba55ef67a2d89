/**
 * The commercial AWS regions (partition `aws`) and what differs between them for this library.
 * Pure data: no aws-cdk-lib. Every region map, condition and default in the templates comes from here,
 * and the test suite checks each synthesized template against it.
 *
 * Checked on 2026-12-01 against:
 * - the region list of aws-cdk-lib 2.262 (region-info AWS_REGIONS, partition `aws`) and the AWS Regions page
 *   (docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html), for the regions and which are opt-in;
 * - "Enable access logs for your Application Load Balancer", step 2 "Attach a policy to your S3 bucket"
 *   (docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html): the Elastic Load
 *   Balancing account of each region available before August 2022; regions opened since then grant log delivery
 *   to the service principal `logdelivery.elasticloadbalancing.amazonaws.com`;
 * - "Configure standard logging (legacy)", "Choose an Amazon S3 bucket for standard logs"
 *   (docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logging-legacy-s3.html): CloudFront does
 *   not deliver standard logs to buckets in opt-in regions;
 * - "AWS Serverless Application Repository endpoints and quotas" (docs.aws.amazon.com/general/latest/gr/serverlessrepo.html).
 *
 * A region opened after that date is not in the list: the templates then fall back to the safe side
 * (log delivery to the service principal, no CloudFront standard logs), never to a lookup that fails.
 */

/** The date the region facts below were last checked against the AWS documentation. */
export const REGIONS_CHECKED = '2026-12-01';

/** The service principal that delivers ALB access logs in regions opened since August 2022. */
export const ELB_LOG_DELIVERY_PRINCIPAL = 'logdelivery.elasticloadbalancing.amazonaws.com';

/** What the library needs to know about one commercial region. */
export interface RegionFacts {
  /** Region code, e.g. `eu-central-2`. */
  readonly region: string;
  /** Enabled per account by its owner (opt-in), rather than on by default. */
  readonly optIn: boolean;
  /** The Elastic Load Balancing account that writes ALB access logs; absent where the service principal does. */
  readonly elbAccount?: string;
}

const r = (region: string, optIn: boolean, elbAccount?: string): RegionFacts => ({ region, optIn, elbAccount });

/** Every commercial region, sorted by code. */
export const COMMERCIAL_REGIONS: readonly RegionFacts[] = [
  r('af-south-1', true, '098369216593'),
  r('ap-east-1', true, '754344448648'),
  r('ap-east-2', true),
  r('ap-northeast-1', false, '582318560864'),
  r('ap-northeast-2', false, '600734575887'),
  r('ap-northeast-3', false, '383597477331'),
  r('ap-south-1', false, '718504428378'),
  r('ap-south-2', true),
  r('ap-southeast-1', false, '114774131450'),
  r('ap-southeast-2', false, '783225319266'),
  r('ap-southeast-3', true, '589379963580'),
  r('ap-southeast-4', true),
  r('ap-southeast-5', true),
  r('ap-southeast-6', true),
  r('ap-southeast-7', true),
  r('ca-central-1', false, '985666609251'),
  r('ca-west-1', true),
  r('eu-central-1', false, '054676820928'),
  r('eu-central-2', true),
  r('eu-north-1', false, '897822967062'),
  r('eu-south-1', true, '635631232127'),
  r('eu-south-2', true),
  r('eu-west-1', false, '156460612806'),
  r('eu-west-2', false, '652711504416'),
  r('eu-west-3', false, '009996457667'),
  r('il-central-1', true),
  r('me-central-1', true),
  r('me-south-1', true, '076674570225'),
  r('mx-central-1', true),
  r('sa-east-1', false, '507241528517'),
  r('us-east-1', false, '127311923021'),
  r('us-east-2', false, '033677994240'),
  r('us-west-1', false, '027434742980'),
  r('us-west-2', false, '797873946194'),
];

/** Codes of every commercial region. */
export function commercialRegionCodes(): string[] {
  return COMMERCIAL_REGIONS.map((f) => f.region);
}

/** The facts of a known commercial region, or undefined (another partition, or newer than the list). */
export function regionFacts(region: string): RegionFacts | undefined {
  return COMMERCIAL_REGIONS.find((f) => f.region === region);
}

/** `{ region: account }` for the regions whose ALB access logs come from a regional ELB account. */
export function elbAccounts(): { [region: string]: string } {
  return Object.fromEntries(COMMERCIAL_REGIONS.filter((f) => f.elbAccount).map((f) => [f.region, f.elbAccount!]));
}

/**
 * Whether CloudFront delivers standard (legacy) logs to a bucket in `region`: not in opt-in regions,
 * and not in a region this list does not know (the safe default).
 */
export function cloudFrontStandardLogsDelivered(region: string): boolean {
  const facts = regionFacts(region);
  return facts !== undefined && !facts.optIn;
}

/** The commercial regions whose buckets CloudFront delivers standard logs to. */
export function regionsWithCloudFrontStandardLogs(): string[] {
  return commercialRegionCodes().filter(cloudFrontStandardLogsDelivered);
}

/**
 * Resource types (and features) some commercial regions lack, each with the regions that have it and
 * where that was read. The test suite fails a template that uses one where a region lacks it without a
 * condition that keeps it out of that region.
 */
export interface RegionalFeature {
  /** What is used: a CloudFormation resource type, or a feature named in words. */
  readonly feature: string;
  /** The commercial regions that offer it. */
  readonly availableIn: readonly string[];
  /** Where the list comes from. */
  readonly source: string;
}

/** The features of the table below, by name. */
export const SERVERLESS_APPLICATION = 'AWS::Serverless::Application';
export const CLOUDFRONT_STANDARD_LOGS = 'CloudFront standard logs (legacy) to an S3 bucket in the region';

export const REGIONAL_FEATURES: readonly RegionalFeature[] = [
  {
    feature: SERVERLESS_APPLICATION,
    // The regions the endpoints page lists for the Serverless Application Repository; it lacks, among
    // others, eu-central-2, eu-south-2, ap-south-2, ap-southeast-4 and every region opened since.
    availableIn: [
      'ap-east-1', 'ap-northeast-1', 'ap-northeast-2', 'ap-south-1', 'ap-southeast-1', 'ap-southeast-2',
      'ca-central-1', 'eu-central-1', 'eu-west-1', 'eu-west-2', 'eu-west-3', 'me-south-1', 'sa-east-1',
      'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2',
    ],
    source: 'docs.aws.amazon.com/general/latest/gr/serverlessrepo.html',
  },
  {
    feature: CLOUDFRONT_STANDARD_LOGS,
    availableIn: regionsWithCloudFrontStandardLogs(),
    source: 'docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logging-legacy-s3.html',
  },
];
