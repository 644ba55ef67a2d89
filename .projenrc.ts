import { awscdk, javascript, JsonFile } from 'projen';

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-django',
  description:
    'AWS CDK constructs that put a Django project into production on ECS Fargate: Gunicorn, uWSGI or Daphne behind Nginx, Apache or the load balancer alone, with production defaults that are tested with real servers.',
  author: 'cdk-django',
  authorAddress: 'cdk-django@example.com',
  repositoryUrl: 'https://example.com/cdk-django.git',
  keywords: ['cdk', 'django', 'gunicorn', 'uwsgi', 'daphne', 'nginx', 'ecs', 'fargate'],
  defaultReleaseBranch: 'main',
  stability: 'experimental',

  cdkVersion: '2.262.0',
  constructsVersion: '10.5.1',
  jsiiVersion: '~6.0.0',
  typescriptVersion: '~6.0.0',
  minNodeVersion: '20.16.0',
  packageManager: javascript.NodePackageManager.NPM,
  github: false,
  projenrcTs: true,

  devDeps: ['cdk-nag@^3.0.2', 'cdk-nag-v2@npm:cdk-nag@^2', 'aws-cdk@^2', 'tsx', 'fast-check'],

  publishToPypi: { distName: 'cdk-django', module: 'cdk_django' },

  jestOptions: {
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    passWithNoTests: false,
    jestConfig: {
      // Integration tests with real servers have their own task (test:servers).
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/integration/'],
      testTimeout: 60_000,
      // Examples and tests import the library by its package name, as users do.
      moduleNameMapper: { '^cdk-django$': '<rootDir>/src/index.ts' },
      collectCoverage: false,
    },
  },

  gitignore: ['/node_modules', '/cdk.out/', '/.venv/', '/.venv-floor/', '/.venv-tools/', '/test/integration/.run/', '__pycache__/', '*.pyc', '/benchmarks/results/*.tmp', '/benchmarks/results/quick/', '/.venv-cdk/', '/.venv-checkov/'],
  npmignoreEnabled: true,
});

// The ts-jest config uses isolatedModules (no type-check): type-check tests and examples separately.
const typecheck = project.addTask('typecheck', {
  description: 'Type-check src/, test/ and examples/ (ts-jest with isolatedModules does not)',
  exec: 'tsc --noEmit -p tsconfig.typecheck.json',
});
project.testTask.spawn(typecheck);

project.addTask('synth:examples', {
  description: 'Synthesize every examples/*.ts app with cdk-nag (AwsSolutions, NIST 800-53 r5, HIPAA) and cfn-lint',
  env: { JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20' },
  exec: 'tsx scripts/synth-examples.ts',
  receiveArgs: true,
});

project.addTask('synth:python', {
  description: 'Synthesize every examples/python/*.py app in .venv-cdk (scripts/install-python-cdk) with cdk-nag and cfn-lint',
  env: { JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20' },
  exec: 'tsx scripts/synth-python-examples.ts',
  receiveArgs: true,
});

project.addTask('checkov', {
  description: 'Scan every example template (after synth:examples and synth:python) with checkov; skips only as docs/checkov-skips.md lists',
  exec: 'tsx scripts/checkov-examples.ts',
});

project.addTask('fuzz', {
  description: 'Fuzz every construct\'s props with fast-check: more runs, a random seed',
  env: { FUZZ_RUNS: '300', FUZZ_SEED: 'random' },
  exec: 'jest test/fuzz.test.ts',
  receiveArgs: true,
});

project.addTask('test:servers', {
  description: 'Run the rendered configurations with real servers on loopback (the latest column: .venv from scripts/python-env)',
  exec: 'jest --config test/integration/jest.config.json --runInBand',
  receiveArgs: true,
});

project.addTask('test:servers:floor', {
  description: 'The smoke subset of the real-server suite on the floor column (.venv-floor from scripts/python-env)',
  env: { CDK_DJANGO_PYTHON_BIN: '.venv-floor/bin', CDK_DJANGO_SMOKE: '1' },
  exec: 'jest --config test/integration/jest.config.json --runInBand',
  receiveArgs: true,
});

// The server benchmarks: this process is the load generator, pinned to core 1; it pins the servers to core 0.
project.addTask('bench:granian', {
  description: 'Granian (not offered by the library) against the layouts it would replace, one run: benchmarks/results/granian.md',
  env: { JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20' },
  exec: 'taskset -c 1 tsx benchmarks/granian.ts',
  receiveArgs: true,
});
project.addTask('bench:upstream-keepalive', {
  description: 'Nginx reusing its connections to the app server against one connection per request, alternated in one run',
  env: { JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20' },
  exec: 'taskset -c 1 tsx benchmarks/upstream-keepalive.ts',
});
project.addTask('bench:recycling-cost', {
  description: 'What Gunicorn worker recycling costs at a high request rate: max-requests 1000, 10000 and off, uWSGI beside them',
  env: { JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20' },
  exec: 'taskset -c 1 tsx benchmarks/recycling-cost.ts',
});
project.addTask('bench:recycling-versions', {
  description: 'Which Gunicorn releases reset connections when a gthread worker recycles: the floor venv with each release, benchmarks/results/recycling-versions.md',
  env: { JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20' },
  exec: 'benchmarks/recycling-versions.sh',
  receiveArgs: true,
});
project.addTask('bench', {
  description: 'Benchmark every server layout with real servers on loopback: benchmarks/RESULTS.md and results.svg (--quick: a short run into benchmarks/results/quick/)',
  env: { JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20' },
  exec: 'taskset -c 1 tsx benchmarks/run.ts',
  receiveArgs: true,
});

// The real wheel (and sdist) in dist/python, built by jsii-pacmak with the versions of python/requirements-cdk.txt.
project.tasks.tryFind('package:python')?.reset('scripts/package-python');

// Python venvs and CDK output are no part of the npm package (jsii-pacmak packs it before building the wheel).
for (const p of ['/.venv*/', '/cdk.out/', '/python/', '/examples/python/cdk.out/']) project.addPackageIgnore(p);

// A tsconfig for tests, examples and scripts (the jsii tsconfig only covers src/).
new JsonFile(project, 'tsconfig.typecheck.json', {
  obj: {
    extends: './tsconfig.json',
    compilerOptions: {
      noEmit: true,
      rootDir: '.',
      paths: { 'cdk-django': ['./src/index.ts'] },
    },
    include: ['src/**/*.ts', 'test/**/*.ts', 'examples/**/*.ts', 'scripts/**/*.ts', 'benchmarks/**/*.ts'],
    exclude: ['node_modules'],
  },
});

// The benchmarks' own tsconfig, so eslint's project service finds their files (as test/tsconfig.json does for test/).
new JsonFile(project, 'benchmarks/tsconfig.json', {
  obj: {
    extends: '../tsconfig.json',
    compilerOptions: { noEmit: true, rootDir: '..', isolatedModules: true },
    include: ['**/*.ts'],
    exclude: ['node_modules'],
  },
});

project.synth();
