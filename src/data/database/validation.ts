import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import { AUTO_PAUSE_MIN_MINOR, DatabaseEngineKind, DEFAULT_ENGINE_VERSION, DjangoDatabaseOptions, DjangoDatabaseProps } from './options';
import { secondsOf } from '../../durations';
import { Problem } from '../../problems';

/** Seconds of a duration as given, fractional or NaN included: validation must not call `toSeconds()`, which throws on those. */
const seconds = (d: Duration) => secondsOf(d, NaN);
const isWholeDays = (d: Duration) => seconds(d) % 86_400 === 0;
const days = (d: Duration) => seconds(d) / 86_400;
/** A duration for a message; `toHumanString()` is empty for NaN. */
const human = (d: Duration) => d.toHumanString() || `${seconds(d)} seconds`;

export function commonProblems(p: { port?: number; databaseName?: string; connMaxAge?: Duration }): Problem[] {
  const problems: Problem[] = [];
  if (p.port !== undefined && !Token.isUnresolved(p.port) && (!Number.isInteger(p.port) || p.port < 1150 || p.port > 65535)) {
    problems.push({ prop: 'port', message: `${p.port} is not a port RDS accepts; use an integer from 1150 to 65535` });
  }
  if (p.databaseName !== undefined && !Token.isUnresolved(p.databaseName) && !/^[A-Za-z][A-Za-z0-9_]{0,62}$/.test(p.databaseName)) {
    problems.push({ prop: 'databaseName', message: `'${p.databaseName}' is not a valid name; start with a letter, then letters, digits or _ (at most 63)` });
  }
  if (p.connMaxAge !== undefined && !Number.isInteger(seconds(p.connMaxAge))) {
    problems.push({ prop: 'connMaxAge', message: 'must be whole seconds (Django reads an integer); use Duration.seconds()' });
  }
  return problems;
}

export function databaseProblems(props: DjangoDatabaseProps): Problem[] {
  const problems = databaseOptionsProblems(props);
  if (!props.vpcSubnets && props.vpc.isolatedSubnets.length === 0 && props.vpc.privateSubnets.length === 0) {
    problems.push({ prop: 'vpcSubnets', message: 'the VPC has no private subnets and a database must not sit in public ones; add private subnets or pass vpcSubnets' });
  }
  return problems;
}

/**
 * Everything wrong with the options of a new database that needs no VPC to tell: DjangoApp reports these
 * under `database.` before it builds anything.
 * @jsii ignore
 */
export function databaseOptionsProblems(props: DjangoDatabaseOptions): Problem[] {
  const problems = commonProblems(props);
  const kind = props.engine ?? DatabaseEngineKind.AURORA_SERVERLESS_V2;
  const aurora = kind === DatabaseEngineKind.AURORA_SERVERLESS_V2;
  const version = props.engineVersion ?? DEFAULT_ENGINE_VERSION;
  const m = /^(\d+)\.(\d+)$/.exec(version);
  if (!m) {
    problems.push({ prop: 'engineVersion', message: `'${version}' is not a PostgreSQL version; use 'major.minor', e.g. '${DEFAULT_ENGINE_VERSION}'` });
  } else if (Number(m[1]) < 13) {
    problems.push({ prop: 'engineVersion', message: `PostgreSQL ${version} is out of standard support; use 13 or later (default ${DEFAULT_ENGINE_VERSION})` });
  }

  // Sizing props of the other engine kind would be silently ignored: say so instead.
  const auroraOnly = { serverlessV2MinCapacity: props.serverlessV2MinCapacity, serverlessV2MaxCapacity: props.serverlessV2MaxCapacity };
  const instanceOnly = { instanceType: props.instanceType, allocatedStorage: props.allocatedStorage, maxAllocatedStorage: props.maxAllocatedStorage };
  for (const [prop, value] of Object.entries(aurora ? instanceOnly : auroraOnly)) {
    if (value !== undefined) {
      problems.push({
        prop,
        message: `applies only to engine ${aurora ? 'RDS_INSTANCE' : 'AURORA_SERVERLESS_V2'}; remove it or set engine accordingly`,
      });
    }
  }

  if (aurora) {
    const min = props.serverlessV2MinCapacity ?? 0.5;
    const max = props.serverlessV2MaxCapacity ?? 4;
    let capacitiesValid = true;
    for (const [prop, value, low] of [['serverlessV2MinCapacity', min, 0], ['serverlessV2MaxCapacity', max, 1]] as const) {
      if (value < low || value > 256 || !Number.isInteger(value * 2)) {
        problems.push({ prop, message: `${value} ACUs is not valid; use ${low} to 256 in steps of 0.5` });
        capacitiesValid = false;
      }
    }
    // Compared only when both are valid: an invalid one is already reported, and the comparison would
    // name a prop the caller may not have set (a default serverlessV2MinCapacity 0.5 against serverlessV2MaxCapacity 0).
    if (capacitiesValid && min > max) {
      const maxText = props.serverlessV2MaxCapacity === undefined ? `the default serverlessV2MaxCapacity ${max}` : `serverlessV2MaxCapacity ${max}`;
      problems.push({ prop: 'serverlessV2MinCapacity', message: `${min} is above ${maxText}; lower serverlessV2MinCapacity or raise serverlessV2MaxCapacity` });
    }
    if (min === 0) {
      if (props.rdsProxy) {
        problems.push({ prop: 'serverlessV2MinCapacity', message: '0 (auto-pause) with rdsProxy: the proxy keeps connections open, so the cluster would never pause; use 0.5 or more, or drop the RDS Proxy' });
      }
      const need = m ? AUTO_PAUSE_MIN_MINOR[Number(m[1])] : undefined;
      if (m && need !== undefined && Number(m[2]) < need) {
        problems.push({ prop: 'serverlessV2MinCapacity', message: `0 (auto-pause) needs Aurora PostgreSQL ${m[1]}.${need} or later; raise engineVersion or use 0.5` });
      }
    }
  } else {
    const allocated = props.allocatedStorage ?? 20;
    const maxAllocated = props.maxAllocatedStorage ?? Math.max(100, allocated);
    if (!Number.isInteger(allocated) || allocated < 20 || allocated > 65536) {
      problems.push({ prop: 'allocatedStorage', message: `${allocated} GiB is not valid for gp3; use an integer from 20 to 65536` });
    }
    if (!Number.isInteger(maxAllocated) || maxAllocated < allocated || maxAllocated > 65536) {
      problems.push({ prop: 'maxAllocatedStorage', message: `${maxAllocated} GiB must be an integer from allocatedStorage (${allocated}) to 65536` });
    }
  }

  const retention = props.backupRetention ?? Duration.days(7);
  if (!isWholeDays(retention) || days(retention) < 1 || days(retention) > 35) {
    problems.push({ prop: 'backupRetention', message: `${human(retention)} is not valid; use whole days from 1 to 35 (Duration.days(n))` });
  }

  if (props.removalPolicy === RemovalPolicy.DESTROY && props.deletionProtection !== false) {
    problems.push({ prop: 'removalPolicy', message: 'DESTROY cannot delete a database with deletion protection; also set deletionProtection: false, or use SNAPSHOT/RETAIN' });
  }

  if (props.rotation === false && props.rotationInterval !== undefined) {
    problems.push({ prop: 'rotationInterval', message: 'is set but rotation is false; remove rotationInterval or turn rotation on' });
  }
  if (props.rotationInterval !== undefined) {
    const r = props.rotationInterval;
    if (!isWholeDays(r) || days(r) < 1 || days(r) > 1000) {
      problems.push({ prop: 'rotationInterval', message: `${human(r)} is not valid; use whole days from 1 to 1000 (Duration.days(n))` });
    }
  }

  if (props.monitoringInterval !== undefined && ![0, 1, 5, 10, 15, 30, 60].includes(seconds(props.monitoringInterval))) {
    problems.push({ prop: 'monitoringInterval', message: `${human(props.monitoringInterval)} is not valid; use 0 (off), 1, 5, 10, 15, 30 or 60 seconds` });
  }

  if (props.rdsProxyRequireIam && !props.rdsProxy) {
    problems.push({ prop: 'rdsProxyRequireIam', message: 'needs an RDS Proxy; set rdsProxy: true or remove rdsProxyRequireIam' });
  }
  return problems;
}
