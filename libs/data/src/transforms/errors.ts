import type { DataProblem } from '../types.ts';

/** A record that cannot become a sample (missing or corrupt image, unknown class); names the file. */
export class SampleError extends Error {
  override name = 'SampleError';
  readonly problem: DataProblem;
  constructor(problem: DataProblem, options?: { cause?: unknown }) {
    super(`${problem.file}: ${problem.message}`, options);
    this.problem = problem;
  }
}
