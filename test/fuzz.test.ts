import { Duration, Errors, Size } from 'aws-cdk-lib';
import * as fc from 'fast-check';
import {
  DjangoDaphneService, DjangoGunicornService, DjangoUwsgiService, GunicornWorkerClass, Proxy, StaticFiles,
} from '../src';
import { formatFindings, nagFindings } from './helpers/compliance';
import { IMAGE, newStack } from './helpers/template';

/** Runs per property in `npx projen test` (fixed seed, so CI is repeatable); the `fuzz` task runs more with a random seed. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 25);
const SEED = process.env.FUZZ_SEED === 'random' ? undefined : Number(process.env.FUZZ_SEED ?? 20261125);

const seconds = (min: number, max: number) => fc.option(fc.integer({ min, max }).map((n) => Duration.seconds(n)), { nil: undefined });
const proxy = fc.constantFrom(undefined, Proxy.nginx(), Proxy.apache(), Proxy.none(),
  Proxy.nginx({ readTimeout: Duration.seconds(40), clientMaxBodySize: Size.mebibytes(25) }));

const baseProps = fc.record({
  proxy,
  cpu: fc.option(fc.constantFrom(256, 512, 1024, 2048, 300), { nil: undefined }),
  memoryLimitMiB: fc.option(fc.constantFrom(512, 1024, 2048, 4096, 1000), { nil: undefined }),
  minCapacity: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }),
  maxCapacity: fc.option(fc.integer({ min: 0, max: 12 }), { nil: undefined }),
  idleTimeout: seconds(10, 130),
  workerTimeout: seconds(5, 90),
  healthCheckInterval: seconds(3, 40),
  healthCheckTimeout: seconds(1, 20),
  stopTimeout: seconds(5, 150),
  domainNames: fc.option(fc.constantFrom(['example.com'], ['.example.org', 'www.example.org'], ['*'], ['bad host']).map((d) => [...d]), { nil: undefined }),
  staticFiles: fc.option(fc.constantFrom(StaticFiles.fromImage('/app/static'), StaticFiles.appServed()), { nil: undefined }),
}, { requiredKeys: [] });

/** Either a nag-clean construct or a ValidationError naming a prop: never a TypeError or a deep CDK error. */
function check(build: () => void, stackOf: () => any): void {
  try {
    build();
  } catch (e: any) {
    if (!Errors.isValidationError(e)) throw new Error(`not a ValidationError: ${e?.constructor?.name}: ${e?.message}`);
    expect(e.message).toMatch(/^(invalid props:\n {2}- )?[\w.]+[: (]/);
    return;
  }
  expect(formatFindings(nagFindings(stackOf()))).toBe('');
}

describe('fuzzed props: synthesizes nag-clean or throws a ValidationError naming the prop', () => {
  test('DjangoGunicornService', () => {
    fc.assert(fc.property(baseProps, fc.record({
      workerClass: fc.option(fc.constantFrom(...Object.values(GunicornWorkerClass)), { nil: undefined }),
      workers: fc.option(fc.integer({ min: -1, max: 40 }), { nil: undefined }),
      threads: fc.option(fc.integer({ min: 0, max: 16 }), { nil: undefined }),
      keepAlive: seconds(1, 120),
      maxRequestsJitter: fc.option(fc.integer({ min: 0, max: 500 }), { nil: undefined }),
    }, { requiredKeys: [] }), (base, own) => {
      const stack = newStack();
      check(() => new DjangoGunicornService(stack, 'Web', { image: IMAGE, ...base, ...own }), () => stack);
    }), { numRuns: RUNS, seed: SEED });
  });

  test('DjangoUwsgiService', () => {
    fc.assert(fc.property(baseProps, fc.record({
      processes: fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined }),
      threads: fc.option(fc.integer({ min: 0, max: 8 }), { nil: undefined }),
      cheaper: fc.option(fc.record({
        min: fc.integer({ min: 0, max: 6 }),
        step: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
      }), { nil: undefined }),
      cache: fc.option(fc.record({ name: fc.constantFrom('default', 'bad name'), items: fc.integer({ min: 0, max: 100 }) }), { nil: undefined }),
      httpKeepAlive: seconds(1, 120),
    }, { requiredKeys: [] }), (base, own) => {
      const stack = newStack();
      check(() => new DjangoUwsgiService(stack, 'Web', { image: IMAGE, ...base, ...own }), () => stack);
    }), { numRuns: RUNS, seed: SEED });
  });

  test('DjangoDaphneService', () => {
    fc.assert(fc.property(baseProps, fc.record({
      pingInterval: seconds(0, 70),
      websocketPaths: fc.option(fc.constantFrom(['/ws/'], ['/ws/', '/live/'], ['ws']).map((p) => [...p]), { nil: undefined }),
      websocketReadTimeout: seconds(1, 120),
    }, { requiredKeys: [] }), (base, own) => {
      const stack = newStack();
      check(() => new DjangoDaphneService(stack, 'Web', { image: IMAGE, ...base, ...own }), () => stack);
    }), { numRuns: RUNS, seed: SEED });
  });
});

describe('regressions found by fuzzing', () => {
  test('a WebSocket path without a leading slash is a ValidationError, not a renderer error', () => {
    const stack = newStack();
    let error: unknown;
    try {
      new DjangoDaphneService(stack, 'Web', { image: IMAGE, idleTimeout: Duration.seconds(36), healthCheckInterval: Duration.seconds(6), websocketPaths: ['ws'] });
    } catch (e) {
      error = e;
    }
    expect(Errors.isValidationError(error)).toBe(true);
    expect((error as Error).message).toMatch(/websocketPaths: /);
  });
});
