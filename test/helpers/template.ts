import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';

/** A fresh app and env-agnostic stack, as most users start. */
export function newStack(id = 'Test'): Stack {
  return new Stack(new App(), id);
}

export const IMAGE = ecs.ContainerImage.fromRegistry('example/mysite:1');

/** The ContainerDefinitions of the only task definition in a template. */
export function containers(template: Template): any[] {
  const tds = Object.values(template.findResources('AWS::ECS::TaskDefinition'));
  if (tds.length !== 1) throw new Error(`expected one task definition, found ${tds.length}`);
  return (tds[0] as any).Properties.ContainerDefinitions;
}

export function container(template: Template, name: string): any {
  const hit = containers(template).find((c) => c.Name === name);
  if (!hit) throw new Error(`no container ${name}`);
  return hit;
}

/** Environment of a container as a plain object. */
export function envOf(def: any): Record<string, any> {
  return Object.fromEntries((def.Environment ?? []).map((e: any) => [e.Name, e.Value]));
}

/** `--name=value` flags of a rendered command. */
export function flag(argv: string[], name: string): string | undefined {
  return argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

/** The single resource of a type, its Properties. */
export function only(template: Template, type: string): any {
  const all = Object.values(template.findResources(type));
  if (all.length !== 1) throw new Error(`expected one ${type}, found ${all.length}`);
  return (all[0] as any).Properties;
}

/** Runs a construct factory and returns the ValidationError message it throws. */
export function validationMessage(build: (scope: Construct) => void): string {
  const stack = newStack();
  try {
    build(stack);
  } catch (e: any) {
    if (e?.constructor?.name !== 'ValidationError' && e?.type !== 'validation') {
      throw new Error(`expected a ValidationError, got ${e?.constructor?.name}: ${e?.message}`);
    }
    return e.message;
  }
  throw new Error('expected a ValidationError, nothing was thrown');
}

/** The text of a template string value, with tokens (Fn::Join parts) flattened to their JSON. */
export function text(value: any): string {
  if (typeof value === 'string') return value;
  if (value?.['Fn::Join']) return value['Fn::Join'][1].map((p: any) => (typeof p === 'string' ? p : JSON.stringify(p))).join('');
  return JSON.stringify(value);
}
