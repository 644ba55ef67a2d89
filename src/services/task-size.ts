import { isWholeNumber } from '../numbers';
import { Problem } from '../problems';

/** Fargate's valid memory (MiB) for each CPU size: [min, max, step]. */
const FARGATE_MEMORY: Record<number, [number, number, number]> = {
  256: [512, 2048, 512],
  512: [1024, 4096, 1024],
  1024: [2048, 8192, 1024],
  2048: [4096, 16384, 1024],
  4096: [8192, 30720, 1024],
  8192: [16384, 61440, 4096],
  16384: [32768, 122880, 8192],
};

/** Problems with a Fargate task size: CloudFormation would accept it and the deploy would fail. */
export function fargateSizeProblems(cpu: number, memoryMiB: number): Problem[] {
  const range = FARGATE_MEMORY[cpu];
  if (!range) {
    return [{ prop: 'cpu', message: `Fargate supports ${Object.keys(FARGATE_MEMORY).join(', ')} CPU units, got ${cpu}` }];
  }
  const [min, max, step] = range;
  const ok = isWholeNumber(memoryMiB, min, max)
    && (cpu === 256 ? [512, 1024, 2048].includes(memoryMiB) : (memoryMiB - min) % step === 0);
  return ok ? [] : [{
    prop: 'memoryLimitMiB',
    message: `with cpu ${cpu} Fargate supports ${min}-${max} MiB in steps of ${step}, got ${memoryMiB}`,
  }];
}
