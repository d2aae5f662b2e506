// Loader worker thread: receives jobs, answers with batches whose buffers are transferred.
import { parentPort, workerData } from 'node:worker_threads';
import type { VocRecord } from '../types.ts';
import { createContext, runJob, transferables, type Job } from './jobs.ts';

const { records, classes } = workerData as { records: VocRecord[]; classes: string[] };
const ctx = createContext(records, classes);

// One job at a time (the pool sends the next only after the answer), so no queue is needed here.
parentPort!.on('message', async (job: Job) => {
  try {
    const result = await runJob(job, ctx);
    parentPort!.postMessage({ ok: true, result }, transferables(result));
  } catch (error) {
    const e = error as Error;
    parentPort!.postMessage({ ok: false, name: e.name, message: e.message, stack: e.stack });
  }
});
