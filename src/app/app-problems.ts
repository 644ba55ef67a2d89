import { Token } from 'aws-cdk-lib';
import { cacheOptionsProblems } from '../data/cache';
import { databaseOptionsProblems } from '../data/database';
import { staticFilesProblems } from '../data/static-site';
import { migrationsCommandProblems } from '../migrations/migrations';
import { wholeNumberProblem } from '../numbers';
import { alarmsOptionsProblems } from '../observability/alarms';
import { nestedProblems, Problem } from '../problems';
import { DjangoAppProps } from './django-app-props';
import { fargateSizeProblems } from '../services/task-size';

/** Every problem with DjangoApp's own props and the options of the parts it creates, each naming its prop. */
export function appProblems(props: DjangoAppProps): Problem[] {
  const problems: Problem[] = [];
  if (props.existingDatabase && props.database) {
    problems.push({ prop: 'database', message: 'give either database options (a new database) or existingDatabase, not both' });
  }
  if (props.existingCache && props.cache) {
    problems.push({ prop: 'cache', message: 'give either cache options (a new cache) or existingCache, not both' });
  }
  if (props.existingCache && props.channelLayer) {
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
  // (database.minCapacity, not the app's own minCapacity) and come before anything is built.
  if (props.database) problems.push(...nestedProblems('database', databaseOptionsProblems(props.database)));
  if (props.cache && (props.cache.enabled ?? true)) problems.push(...nestedProblems('cache', cacheOptionsProblems(props.cache)));
  if (props.staticSite && (props.staticSite.enabled ?? true)) problems.push(...nestedProblems('staticSite', staticFilesProblems(props.staticSite)));
  if (props.migrations && (props.migrations.enabled ?? true)) {
    problems.push(...nestedProblems('migrations', migrationsCommandProblems(props.migrations.command, props.migrations.timeout)));
  }
  if (props.alarms && (props.alarms.enabled ?? true)) problems.push(...nestedProblems('alarms', alarmsOptionsProblems(props.alarms)));
  return problems;
}
