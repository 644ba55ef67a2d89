/**
 * A first create of a synthesized template, walked in CloudFormation's order (test/helpers/graph.ts:
 * each resource starts as soon as what it references is complete, long creates take long), with real
 * work attached to chosen resources: a hook runs when a resource starts or completes. A hook that
 * throws fails that resource, and the walk ends there, as CloudFormation's create does (it rolls back).
 */
import { createSchedule, ScheduledResource, typicalCreateMinutes } from '../../helpers/graph';
import { CfnTemplate } from '../../helpers/template-checks';

export interface RehearsalHooks {
  /** Runs when `r` starts (a custom resource's handler, an ECS service's first tasks). */
  onStart?(r: ScheduledResource): Promise<void> | void;
  /** Runs when `r` completes (a database instance becomes available). */
  onComplete?(r: ScheduledResource): Promise<void> | void;
}

export interface RehearsalResult {
  /** `t=<minutes> start|complete <Type> <LogicalId>`, in order. */
  readonly log: string[];
  /** The resource that failed and why (the create would roll back), if any. */
  readonly failed?: { readonly id: string; readonly type: string; readonly at: number; readonly reason: string };
}

export async function rehearseFirstCreate(
  t: CfnTemplate, hooks: RehearsalHooks, minutes: (type: string, id: string) => number = (type) => typicalCreateMinutes(type),
): Promise<RehearsalResult> {
  const schedule = createSchedule(t, minutes);
  // Completions before starts at the same instant: what starts at t waited for what completed at t.
  const events = schedule.flatMap((r) => [{ at: r.start, kind: 'start' as const, r }, { at: r.end, kind: 'complete' as const, r }])
    .sort((a, b) => a.at - b.at || (a.kind === b.kind ? a.r.id.localeCompare(b.r.id) : a.kind === 'complete' ? -1 : 1));
  const log: string[] = [];
  for (const e of events) {
    log.push(`t=${e.at.toFixed(1)} ${e.kind} ${e.r.type} ${e.r.id}`);
    try {
      await (e.kind === 'start' ? hooks.onStart?.(e.r) : hooks.onComplete?.(e.r));
    } catch (err: any) {
      log.push(`t=${e.at.toFixed(1)} FAILED ${e.r.type} ${e.r.id}: ${err?.message ?? err}`);
      return { log, failed: { id: e.r.id, type: e.r.type, at: e.at, reason: String(err?.message ?? err) } };
    }
  }
  return { log };
}
