import { Token } from 'aws-cdk-lib';
import { cacheOptionsProblems } from '../data/cache';
import { databaseOptionsProblems } from '../data/database';
import { staticFilesProblems } from '../data/static-site';
import { migrationsCommandProblems } from '../migrations/migrations';
import { wholeNumberProblem } from '../numbers';
import { alarmsOptionsProblems } from '../observability/alarms';
import { nestedProblems, Problem } from '../problems';
import { appWorkersProblems } from './app-workers';
import { DjangoAppProps } from './django-app-props';
import { fargateSizeProblems } from '../services/task-size';

/** Every problem with DjangoApp's own props and the options of the parts it creates, each naming its prop. */
export function appProblems(props: DjangoAppProps): Problem[] {
  const problems: Problem[] = [];
  // An options object where an existing resource belongs (what `database: {}` meant before the rename) would be a TypeError later.
  if (props.database !== undefined && typeof (props.database as { allowFrom?: unknown }).allowFrom !== 'function') {
    problems.push({ prop: 'database', message: 'takes an existing database (a DjangoDatabase, or DjangoDatabase.fromExisting); for a new one give its options as databaseOptions' });
  }
  if (props.cache !== undefined && typeof (props.cache as { channelLayer?: unknown }).channelLayer !== 'function') {
    problems.push({ prop: 'cache', message: 'takes an existing cache (a DjangoCache, or DjangoCache.fromExisting); for a new one give its options as cacheOptions' });
  }
  if (props.database && props.databaseOptions) {
    problems.push({ prop: 'databaseOptions', message: 'give either databaseOptions (a new database) or database (an existing one), not both' });
  }
  if (props.cache && props.cacheOptions) {
    problems.push({ prop: 'cacheOptions', message: 'give either cacheOptions (a new cache) or cache (an existing one), not both' });
  }
  if (props.cache && props.channelLayer) {
    problems.push({ prop: 'channelLayer', message: 'the existing cache already is the Channels layer; remove channelLayer' });
  }
  if (props.staticSite && (props.staticSite.enabled ?? true) && props.staticFiles) {
    problems.push({ prop: 'staticFiles', message: 'staticSite serves the static files from CloudFront; remove staticFiles, or staticSite' });
  }
  const p = props.websocketRulePriority;
  if (p !== undefined) problems.push(...wholeNumberProblem('websocketRulePriority', p, 1, 50000));
  // The task size first: the services derive their worker counts from cpu, and would report a bad cpu
  // as a problem of those (workers, processes), which are no props of DjangoApp.
  const cpu = props.cpu ?? 512;
  const memory = props.memoryLimitMiB ?? 1024;
  if ((props.cpu !== undefined || props.memoryLimitMiB !== undefined) && !Token.isUnresolved(cpu) && !Token.isUnresolved(memory)) {
    problems.push(...fargateSizeProblems(cpu, memory));
  }
  // The options of the nested constructs, checked here so their problems name DjangoApp's props
  // (databaseOptions.port, not a service's port) and come before anything is built.
  if (props.databaseOptions) problems.push(...nestedProblems('databaseOptions', databaseOptionsProblems(props.databaseOptions)));
  if (props.cacheOptions && (props.cacheOptions.enabled ?? true)) problems.push(...nestedProblems('cacheOptions', cacheOptionsProblems(props.cacheOptions)));
  if (props.staticSite && (props.staticSite.enabled ?? true)) problems.push(...nestedProblems('staticSite', staticFilesProblems(props.staticSite)));
  if (props.migrations && (props.migrations.enabled ?? true)) {
    problems.push(...nestedProblems('migrations', migrationsCommandProblems(props.migrations.command, props.migrations.timeout)));
  }
  if (props.alarms && (props.alarms.enabled ?? true)) problems.push(...nestedProblems('alarms', alarmsOptionsProblems(props.alarms)));
  problems.push(...appWorkersProblems(props.workers, props.taskQueue, props.cacheOptions?.enabled === false && !props.cache, props.environment));
  return problems;
}
