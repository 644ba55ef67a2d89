import { Aws, Fn, Names } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Physical names for resources CloudFormation cannot (or should not) name itself.
 *
 * - `uniqueName` is unique per stack and construct: the construct path (stack name first) and CDK's hash.
 * - `perCreate` adds the first block of the stack's UUID (from `AWS::StackId`), which is stable across
 *   updates and new on every create: a retained resource left by `cdk destroy` (or a rolled-back first
 *   create) never holds the name the next create of the same stack asks for. The UUID belongs to the
 *   stack in its region, so the name is unique per region too.
 * - `perRegion` appends `AWS::Region`, for account-global resources (CloudFront policies) that the
 *   same stack may create in a second region.
 */
export interface NameOptions {
  /** The longest name the resource accepts. */
  readonly maxLength: number;
  /** Characters allowed besides letters and digits, e.g. '-' or '-_'. */
  readonly allowed?: string;
  /** Lower-case the construct part (RDS identifiers). */
  readonly lowerCase?: boolean;
}

/** The block of the stack's UUID used by `perCreate` (8 lower-case hex digits, resolved at deploy time). */
export function stackUuidBlock(): string {
  return Fn.select(0, Fn.split('-', Fn.select(2, Fn.split('/', Aws.STACK_ID))));
}

/** Length of the block `perCreate` adds, with its separator. */
const UUID_BLOCK_LENGTH = 9;
/** Room for `-<region>`: the longest commercial region code is 14 characters; keep one spare. */
const REGION_SUFFIX_LENGTH = 16;

/** The construct path as a name: stack name first, CDK's hash last, only allowed characters, no doubled separators. */
export function uniqueName(scope: IConstruct, options: NameOptions): string {
  const separator = (options.allowed ?? '').includes('-') ? '-' : '';
  let name = Names.uniqueResourceName(scope, { maxLength: options.maxLength, separator, allowedSpecialCharacters: options.allowed ?? '' });
  if (options.lowerCase) name = name.toLowerCase();
  name = name.replace(/-+/g, '-').replace(/^-|-$/g, '');
  return /^[A-Za-z]/.test(name) ? name : `n${name}`.slice(0, options.maxLength);
}

/** `uniqueName` plus `-<stack UUID block>`: new on every create, stable across updates. */
export function perCreateName(scope: IConstruct, options: NameOptions, separator = '-'): string {
  return `${uniqueName(scope, { ...options, maxLength: options.maxLength - UUID_BLOCK_LENGTH })}${separator}${stackUuidBlock()}`;
}

/** `uniqueName` plus `-<region>`, for account-global resources. */
export function perRegionName(scope: IConstruct, options: NameOptions): string {
  return `${uniqueName(scope, { ...options, maxLength: options.maxLength - REGION_SUFFIX_LENGTH })}-${Aws.REGION}`;
}
