import { Aws, CfnCondition, Fn, ICfnConditionExpression, Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** A condition expression true exactly in `regions` (Fn::Or takes 2 to 10 conditions: nested in groups of ten). */
export function regionIn(regions: string[]): ICfnConditionExpression {
  const group = (items: ICfnConditionExpression[]): ICfnConditionExpression => {
    if (items.length === 1) return items[0];
    if (items.length <= 10) return Fn.conditionOr(...items);
    const chunks: ICfnConditionExpression[] = [];
    for (let i = 0; i < items.length; i += 10) chunks.push(group(items.slice(i, i + 10)));
    return group(chunks);
  };
  return group(regions.map((region) => Fn.conditionEquals(Aws.REGION, region)));
}

/** The stack's condition `id`, "the stack is created in one of `regions`", made once per stack. */
export function regionCondition(scope: IConstruct, id: string, regions: string[]): CfnCondition {
  const stack = Stack.of(scope);
  return (stack.node.tryFindChild(id) as CfnCondition | undefined) ?? new CfnCondition(stack, id, { expression: regionIn(regions) });
}
