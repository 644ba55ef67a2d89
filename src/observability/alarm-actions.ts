import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { IConstruct } from 'constructs';
import { acknowledgeInPacks } from '../compliance';

/** Adds the actions to every alarm, run both when it goes into ALARM and when it returns to OK. */
export function addAlarmActions(alarms: cloudwatch.Alarm[], actions: cloudwatch.IAlarmAction[]): void {
  for (const alarm of alarms) {
    alarm.addAlarmAction(...actions);
    alarm.addOkAction(...actions);
  }
}

/**
 * Sends the alarms of `scope` to `topic`; without one, acknowledges that they have no action yet (the
 * caller adds them with `addAlarmAction`, as DjangoApp does with its topic).
 */
export function notifyTopic(scope: IConstruct, alarms: cloudwatch.Alarm[], topic: sns.ITopic | undefined): void {
  if (topic) {
    addAlarmActions(alarms, [new cwActions.SnsAction(topic)]);
  } else if (alarms.length > 0) {
    acknowledgeInPacks(scope, 'CloudWatchAlarmAction',
      'No alarmTopic was given: the alarms change state for dashboards and for actions the caller adds with addAlarmAction (DjangoApp passes its topic).');
  }
}
