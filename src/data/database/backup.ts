import { RemovalPolicy } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import { acknowledgeFinding } from '../../nag';
import { perCreateName, uniqueName } from '../../names';

/**
 * Daily backups kept 35 days (`BackupPlanRule.daily()`), in a vault of its own, encrypted with the
 * database's key rather than AWS Backup's own. The vault is retained (it holds the recovery points)
 * and so named per create (`perCreateName`): the next create of the stack after `cdk destroy` makes a
 * new vault instead of failing on the old name.
 */
export function createBackupPlan(scope: Construct, encryptionKey: kms.IKey): backup.BackupPlan {
  const vault = new backup.BackupVault(scope, 'BackupVault', {
    backupVaultName: perCreateName(scope, { maxLength: 50, allowed: '-_' }),
    encryptionKey,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  // Plan names are unique per account and region (daily35DayRetention would name it 'BackupPlan').
  const plan = new backup.BackupPlan(scope, 'BackupPlan', { backupPlanName: uniqueName(scope, { maxLength: 50, allowed: '-_' }), backupVault: vault });
  plan.addRule(backup.BackupPlanRule.daily());
  return plan;
}

/** Adds the database (the cluster for Aurora, the instance for RDS) to `backupPlan`. */
export function selectForBackup(scope: Construct, backupPlan: backup.IBackupPlan, target: rds.DatabaseCluster | rds.DatabaseInstance): void {
  new backup.BackupSelection(scope, 'BackupSelection', {
    backupPlan,
    resources: [target instanceof rds.DatabaseCluster
      ? backup.BackupResource.fromRdsDatabaseCluster(target)
      : backup.BackupResource.fromRdsDatabaseInstance(target)],
  });
  const role = scope.node.findChild('BackupSelection').node.tryFindChild('Role');
  if (role) {
    acknowledgeFinding(role, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]',
      'AWS Backup runs the selection with the service\'s own managed backup policy; the selection limits it to this database.');
  }
}
