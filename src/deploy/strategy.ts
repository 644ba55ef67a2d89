/**
 * Deploy strategies, pure: the options a user gives, their defaults and their validation. Nothing here
 * builds a resource (src/deploy/traffic-shift.ts and src/deploy/smoke-test.ts do).
 */
import type { Duration } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import { Problem } from '../errors';

/** How a service deploys a new revision (the `deployment` prop of services and DjangoApp). */
export interface DjangoDeploymentOptions {
  /**
   * How ECS replaces the tasks: ROLLING (in place, behind the one target group), or a native traffic
   * shift over two target groups: BLUE_GREEN (all at once), LINEAR (in equal steps) or CANARY (a share
   * first, then the rest). Traffic shifting needs the listeners this service creates.
   * @default ecs.DeploymentStrategy.ROLLING
   */
  readonly strategy?: ecs.DeploymentStrategy;
  /**
   * BLUE_GREEN, LINEAR, CANARY: how long the previous revision keeps running after all production
   * traffic has shifted, ready for an instant rollback (0 to 24 hours, whole minutes).
   * @default Duration.minutes(10) - two periods of the 5-minute 5xx alarm
   */
  readonly bakeTime?: Duration;
  /**
   * CANARY: the share of production traffic the new revision gets first, in percent (0.1 to 100, in steps of 0.1).
   * @default 5
   */
  readonly canaryPercent?: number;
  /**
   * CANARY: how long the canary share runs before the rest of the traffic shifts (0 to 24 hours, whole minutes).
   * @default Duration.minutes(10)
   */
  readonly canaryBakeTime?: Duration;
  /**
   * LINEAR: the share of production traffic shifted in each step, in percent (3 to 100, in steps of 0.1).
   * @default 10
   */
  readonly linearStepPercent?: number;
  /**
   * LINEAR: how long each step runs before the next (0 to 24 hours, whole minutes).
   * @default Duration.minutes(6)
   */
  readonly linearStepBakeTime?: Duration;
  /**
   * Roll the deployment back when a deployment alarm fires during the deploy or its bake time. DjangoApp
   * adds each service's 5xx-rate alarm; `alarms` adds more. With every strategy, also ROLLING (beside the
   * circuit breaker, which is always on).
   * @default true
   */
  readonly rollbackOnAlarm?: boolean;
  /**
   * More alarms that roll a deployment back (by name: an alarm on this service's own metrics, such as
   * CPU, would make a circular reference; alarm on the target group or load balancer instead).
   * @default - none besides DjangoApp's 5xx-rate alarm
   */
  readonly alarms?: cloudwatch.IAlarm[];
  /**
   * BLUE_GREEN, LINEAR, CANARY: the test listener, a second port on the same load balancer where the new
   * revision answers before it gets production traffic.
   * @default - created on port 9000, open only to the smoke test and `testListener.allowFrom`
   */
  readonly testListener?: DjangoTestListenerOptions;
  /**
   * BLUE_GREEN, LINEAR, CANARY: a lifecycle hook that GETs a path of the new revision through the test
   * listener after test traffic shifted and before production traffic does, and rolls back on failure.
   * @default - no smoke test
   */
  readonly smokeTest?: DjangoSmokeTestOptions;
}

/** The test listener of a traffic-shifting deployment. */
export interface DjangoTestListenerOptions {
  /**
   * Create the test listener.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * Its port on the load balancer (HTTPS when the site has a certificate, else HTTP); not 80 or 443.
   * @default 9000
   */
  readonly port?: number;
  /**
   * Who else may reach it (an office or VPN range, `ec2.Peer.ipv4('203.0.113.0/24')`).
   * @default - only the smoke test function
   */
  readonly allowFrom?: ec2.IPeer[];
}

/** The smoke test a traffic-shifting deployment runs on the test listener. */
export interface DjangoSmokeTestOptions {
  /**
   * The path to GET.
   * @default - the health check path
   */
  readonly path?: string;
  /**
   * The Host header (and TLS server name) of the requests: a name Django allows and the certificate covers.
   * @default - the first of `domainNames` (without a leading dot), else the load balancer's DNS name
   */
  readonly host?: string;
  /**
   * The status a good answer has.
   * @default 200
   */
  readonly expectedStatus?: number;
  /**
   * How many good answers in a row pass the test (1 to 20).
   * @default 3
   */
  readonly successes?: number;
  /**
   * How long the test keeps asking before it fails the deployment (10 seconds to 14 minutes: a Lambda
   * invocation lasts at most 15).
   * @default Duration.minutes(2)
   */
  readonly timeout?: Duration;
}

/** The strategies that shift traffic between two target groups. */
const TRAFFIC_SHIFTING = ['BLUE_GREEN', 'LINEAR', 'CANARY'];

/** What a service needs to know about where it runs, to judge the options. */
export interface DeploymentContext {
  /** An existing listener was given: the service owns no listener to put rules and a test port on. */
  readonly existingListener: boolean;
  readonly hasCertificate: boolean;
  /** Host names given by the user (undefined: the load balancer's DNS name). */
  readonly domainNames?: string[];
  readonly healthCheckPath: string;
}

/** The options with their defaults, in CloudFormation's units. */
export interface ResolvedDeployment {
  readonly strategy: string;
  /** BLUE_GREEN, LINEAR or CANARY. */
  readonly shiftsTraffic: boolean;
  readonly bakeTimeMinutes?: number;
  readonly canary?: { readonly percent: number; readonly bakeTimeMinutes: number };
  readonly linear?: { readonly stepPercent: number; readonly stepBakeTimeMinutes: number };
  readonly rollbackOnAlarm: boolean;
  readonly testListener?: { readonly port: number; readonly protocol: 'HTTP' | 'HTTPS' };
  readonly smokeTest?: ResolvedSmokeTest;
}

/** The smoke test with its defaults (`host` undefined: the load balancer's DNS name, known at deploy). */
export interface ResolvedSmokeTest {
  readonly path: string;
  readonly host?: string;
  readonly expectedStatus: number;
  readonly successes: number;
  readonly timeoutSeconds: number;
}

export const DEFAULT_TEST_PORT = 9000;
const DEFAULT_BAKE_MINUTES = 10;
const DEFAULT_CANARY_PERCENT = 5;
const DEFAULT_CANARY_BAKE_MINUTES = 10;
const DEFAULT_LINEAR_STEP_PERCENT = 10;
const DEFAULT_LINEAR_STEP_BAKE_MINUTES = 6;
/** CloudFormation refuses a deployment whose planned bake times exceed 33 hours (its own timeout is 36). */
const MAX_PLANNED_MINUTES = 33 * 60;

/** Minutes of a duration, possibly fractional or NaN so validation can report it. */
function minutesOf(d: Duration | undefined, fallback: number): number {
  return d === undefined ? fallback : d.toMilliseconds({ integral: false }) / 60000;
}

function secondsOf(d: Duration | undefined, fallback: number): number {
  return d === undefined ? fallback : d.toMilliseconds({ integral: false }) / 1000;
}

/** The options with their defaults. Call `deploymentProblems` first: this assumes they are valid. */
export function resolveDeployment(options: DjangoDeploymentOptions | undefined, ctx: DeploymentContext): ResolvedDeployment {
  const o = options ?? {};
  const strategy = String(o.strategy ?? 'ROLLING');
  const shiftsTraffic = TRAFFIC_SHIFTING.includes(strategy);
  if (!shiftsTraffic) return { strategy, shiftsTraffic, rollbackOnAlarm: o.rollbackOnAlarm ?? true };
  const testListener = (o.testListener?.enabled ?? true)
    ? { port: o.testListener?.port ?? DEFAULT_TEST_PORT, protocol: ctx.hasCertificate ? 'HTTPS' as const : 'HTTP' as const }
    : undefined;
  const s = o.smokeTest;
  return {
    strategy,
    shiftsTraffic,
    bakeTimeMinutes: minutesOf(o.bakeTime, DEFAULT_BAKE_MINUTES),
    canary: strategy === 'CANARY' ? {
      percent: o.canaryPercent ?? DEFAULT_CANARY_PERCENT,
      bakeTimeMinutes: minutesOf(o.canaryBakeTime, DEFAULT_CANARY_BAKE_MINUTES),
    } : undefined,
    linear: strategy === 'LINEAR' ? {
      stepPercent: o.linearStepPercent ?? DEFAULT_LINEAR_STEP_PERCENT,
      stepBakeTimeMinutes: minutesOf(o.linearStepBakeTime, DEFAULT_LINEAR_STEP_BAKE_MINUTES),
    } : undefined,
    rollbackOnAlarm: o.rollbackOnAlarm ?? true,
    testListener,
    smokeTest: s ? {
      path: s.path ?? ctx.healthCheckPath,
      host: s.host ?? defaultSmokeHost(ctx.domainNames),
      expectedStatus: s.expectedStatus ?? 200,
      successes: s.successes ?? 3,
      timeoutSeconds: secondsOf(s.timeout, 120),
    } : undefined,
  };
}

/** The first host name, as a Host header: `.example.com` (Django's "and subdomains") asks for example.com. */
function defaultSmokeHost(domainNames?: string[]): string | undefined {
  const first = domainNames?.[0];
  return first === undefined ? undefined : first.replace(/^\./, '');
}

/**
 * Everything wrong with the deployment options, each naming the prop (under `deployment.`) and the fix.
 * @jsii ignore
 */
export function deploymentProblems(options: DjangoDeploymentOptions | undefined, ctx: DeploymentContext): Problem[] {
  if (!options) return [];
  const o = options;
  const problems: Problem[] = [];
  const p = (prop: string, message: string) => problems.push({ prop: `deployment.${prop}`, message });
  const strategy = String(o.strategy ?? 'ROLLING');
  const shifts = TRAFFIC_SHIFTING.includes(strategy);
  if (!shifts) {
    for (const prop of ['bakeTime', 'testListener', 'smokeTest'] as const) {
      if (o[prop] !== undefined) {
        p(prop, `applies to the BLUE_GREEN, LINEAR and CANARY strategies (ROLLING watches the alarms for a time ECS derives from them); remove it, or choose one of those strategies, got ${strategy}`);
      }
    }
  } else if (ctx.existingListener) {
    p('strategy', `${strategy} shifts traffic with listener rules and a test port on listeners this service creates; `
      + 'an existing `listener` belongs to someone else: keep ROLLING, or give `loadBalancer` instead of `listener`');
  }
  for (const prop of ['canaryPercent', 'canaryBakeTime'] as const) {
    if (o[prop] !== undefined && strategy !== 'CANARY') p(prop, `applies to the CANARY strategy only; remove it, or set strategy to CANARY, got ${strategy}`);
  }
  for (const prop of ['linearStepPercent', 'linearStepBakeTime'] as const) {
    if (o[prop] !== undefined && strategy !== 'LINEAR') p(prop, `applies to the LINEAR strategy only; remove it, or set strategy to LINEAR, got ${strategy}`);
  }
  percentProblem(p, 'canaryPercent', o.canaryPercent, 0.1);
  percentProblem(p, 'linearStepPercent', o.linearStepPercent, 3);
  const bake = minutesProblem(p, 'bakeTime', o.bakeTime, DEFAULT_BAKE_MINUTES);
  const canaryBake = minutesProblem(p, 'canaryBakeTime', o.canaryBakeTime, DEFAULT_CANARY_BAKE_MINUTES);
  const stepBake = minutesProblem(p, 'linearStepBakeTime', o.linearStepBakeTime, DEFAULT_LINEAR_STEP_BAKE_MINUTES);
  if (strategy === 'CANARY' && bake + canaryBake > MAX_PLANNED_MINUTES) {
    p('bakeTime', `with canaryBakeTime makes ${bake + canaryBake} minutes of planned bake; CloudFormation refuses more than ${MAX_PLANNED_MINUTES} (33 hours): shorten one of them`);
  }
  const step = o.linearStepPercent ?? DEFAULT_LINEAR_STEP_PERCENT;
  const linearTotal = bake + stepBake * Math.ceil(100 / step);
  if (strategy === 'LINEAR' && step >= 3 && linearTotal > MAX_PLANNED_MINUTES) {
    p('linearStepBakeTime', `over ${Math.ceil(100 / step)} steps plus bakeTime makes ${linearTotal} minutes of planned bake; `
      + `CloudFormation refuses more than ${MAX_PLANNED_MINUTES} (33 hours): shorten the bake times or take larger steps`);
  }
  const t = o.testListener;
  const testListener = shifts && (t?.enabled ?? true);
  if (t?.port !== undefined && (!Number.isInteger(t.port) || t.port < 1 || t.port > 65535 || t.port === 80 || t.port === 443)) {
    p('testListener.port', `must be a port from 1 to 65535 other than 80 and 443 (the production listeners), got ${t.port}`);
  }
  if (t?.enabled === false && (t.port !== undefined || t.allowFrom !== undefined)) {
    p('testListener', 'sets a port or allowFrom for a test listener that enabled: false turns off; remove one of them');
  }
  const s = o.smokeTest;
  if (s && shifts) {
    if (!testListener) p('smokeTest', 'runs on the test listener, which testListener.enabled: false turns off; turn the test listener on, or remove smokeTest');
    if (s.path !== undefined && !/^\/\S*$/.test(s.path)) p('smokeTest.path', `must be a URL path starting with '/', got '${s.path}'`);
    const status = s.expectedStatus;
    if (status !== undefined && !(Number.isInteger(status) && status >= 100 && status <= 599)) {
      p('smokeTest.expectedStatus', `must be an HTTP status from 100 to 599, got ${status}`);
    }
    if (s.successes !== undefined && !(Number.isInteger(s.successes) && s.successes >= 1 && s.successes <= 20)) {
      p('smokeTest.successes', `must be a whole number from 1 to 20, got ${s.successes}`);
    }
    const seconds = secondsOf(s.timeout, 120);
    if (!(Number.isInteger(seconds) && seconds >= 10 && seconds <= 840)) {
      p('smokeTest.timeout', `must be whole seconds from 10 seconds to 14 minutes (a Lambda invocation lasts at most 15), got ${seconds} seconds`);
    }
    const host = s.host ?? defaultSmokeHost(ctx.domainNames);
    if (host !== undefined && (host.includes('*') || /\s/.test(host) || host === '')) {
      p('smokeTest.host', `must be one host name to send as Host, got '${host}'${s.host === undefined ? ' from domainNames' : ''}; give smokeTest.host`);
    }
    if (ctx.hasCertificate && host === undefined) {
      p('smokeTest.host', 'the test listener speaks HTTPS with the certificate, which does not name the load balancer\'s DNS name; give domainNames or smokeTest.host');
    }
  }
  return problems;
}

function percentProblem(p: (prop: string, message: string) => void, prop: string, value: number | undefined, min: number): void {
  if (value === undefined) return;
  const tenths = value * 10;
  if (!(Number.isFinite(value) && value >= min && value <= 100 && Math.abs(tenths - Math.round(tenths)) < 1e-9)) {
    p(prop, `must be a percentage from ${min} to 100 in steps of 0.1, got ${value}`);
  }
}

/** Reports a bake time that is not whole minutes within 0 to 24 hours; returns its minutes (0 when invalid). */
function minutesProblem(p: (prop: string, message: string) => void, prop: string, value: Duration | undefined, fallback: number): number {
  const minutes = minutesOf(value, fallback);
  if (Number.isInteger(minutes) && minutes >= 0 && minutes <= 1440) return minutes;
  p(prop, `must be whole minutes from 0 to 24 hours (Duration.minutes(n)), got ${minutes} minutes`);
  return 0;
}
