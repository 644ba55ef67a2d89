import { IPolicyValidationPlugin, Stack } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks } from 'cdk-nag';
import { IConstruct } from 'constructs';

/** One unacknowledged finding: rule, resource, and what the rule says. */
export interface Finding {
  readonly pack: string;
  readonly ruleId: string;
  readonly resource: string;
  readonly description: string;
}

/** The cdk-nag packs the library is clean against. */
export type PackName = 'AwsSolutions' | 'NIST.800.53.R5' | 'HIPAA.Security';

const PACKS: Record<PackName, () => IPolicyValidationPlugin & { validateScope(scope: IConstruct): any }> = {
  'AwsSolutions': () => new AwsSolutionsChecks(),
  'NIST.800.53.R5': () => new NIST80053R5Checks(),
  'HIPAA.Security': () => new HIPAASecurityChecks(),
};

/**
 * Runs cdk-nag v3 packs over a stack (or any scope) and returns every unacknowledged finding.
 * An empty array means clean; the compliance test proves a known-bad resource is reported.
 */
export function nagFindings(scope: IConstruct, packs: PackName[] = ['AwsSolutions', 'NIST.800.53.R5', 'HIPAA.Security']): Finding[] {
  const findings: Finding[] = [];
  for (const pack of packs) {
    const report = PACKS[pack]().validateScope(scope);
    for (const v of report.violations ?? []) {
      for (const r of v.violatingResources ?? []) {
        findings.push({
          pack,
          ruleId: v.ruleName,
          resource: r.resourceLogicalId ?? r.constructPath ?? '?',
          description: v.description,
        });
      }
    }
  }
  return findings;
}

/** A one-line-per-finding text for test failure messages. */
export function formatFindings(findings: Finding[]): string {
  return findings.map((f) => `${f.ruleId} on ${f.resource}: ${f.description}`).join('\n');
}

export function stackOf(scope: IConstruct): Stack {
  return Stack.of(scope);
}
