// `kd bench data`: the data loader's throughput and the consumer's wait for data.
import { Command } from 'commander';
import { LOADER_BENCH_DEFAULTS, runLoaderBench, type LoaderBenchResult } from '@kd/data';
import { integerList, nonNegativeNumber, positiveInt } from './common.ts';

function formatTable(r: LoaderBenchResult): string {
  const head = [
    `dataset    ${r.dataset}: ${r.images} generated images, longer side ${r.image_size} px`,
    `batches    ${r.batch} images at ${r.input_size}x${r.input_size}, full augmentation (${r.augmentation})`,
    `consumer   busy ${r.consume_ms} ms per batch (spinning, like a synchronous train step); ${r.batches} timed batches each`,
    '',
    `${'workers'.padEnd(14)}${'images/s'.padStart(10)}${'ms/batch'.padStart(10)}${'wait mean'.padStart(12)}${'wait p95'.padStart(11)}${'consumer img/s'.padStart(16)}`,
  ];
  const rows = r.rows.map((row) =>
    [
      (row.workers === 0 ? '0 (in-thread)' : String(row.workers)).padEnd(14),
      row.images_per_s.toFixed(1).padStart(10),
      row.ms_per_batch.toFixed(1).padStart(10),
      `${row.wait_ms_mean.toFixed(1)} ms`.padStart(12),
      `${row.wait_ms_p95.toFixed(1)} ms`.padStart(11),
      row.consumer_images_per_s.toFixed(1).padStart(16),
    ].join(''),
  );
  return [...head, ...rows].join('\n');
}

/** The `bench data` subcommand. */
export function benchDataCommand(): Command {
  const d = LOADER_BENCH_DEFAULTS;
  return new Command('data')
    .description('data loader throughput (images/s) with 0, 1 and 2 workers, and how long a busy consumer waits per batch')
    .option('--json', 'print one JSON object instead of a table')
    .option('--quick', '16 images of 128 px, batch 4 at 128, 3 batches, 20 ms consumer (seconds, for tests)')
    .option('--consume-ms <ms>', `consumer busy time per batch (default ${d.consumeMs})`, nonNegativeNumber)
    .option('--size <px>', `network input size (default ${d.inputSize})`, positiveInt)
    .option('--batch <n>', `batch size (default ${d.batchSize})`, positiveInt)
    .option('--batches <n>', `timed batches per measurement (default ${d.batches})`, positiveInt)
    .option('--workers <list>', `worker counts to measure (default ${d.workers.join(',')})`, integerList(0, 'worker counts', '0,1,2'))
    .action(async (opts: { json?: boolean; quick?: boolean; consumeMs?: number; size?: number; batch?: number; batches?: number; workers?: number[] }) => {
      const base = opts.quick ? { ...d, images: 16, imageSize: 128, batchSize: 4, inputSize: 128, batches: 3, consumeMs: 20 } : d;
      const result = await runLoaderBench({
        ...base,
        consumeMs: opts.consumeMs ?? base.consumeMs,
        inputSize: opts.size ?? base.inputSize,
        batchSize: opts.batch ?? base.batchSize,
        batches: opts.batches ?? base.batches,
        workers: opts.workers ?? base.workers,
        progress: (line) => process.stderr.write(`kd bench data: ${line}\n`),
      });
      process.stdout.write(opts.json ? `${JSON.stringify(result)}\n` : `${formatTable(result)}\n`);
    });
}
