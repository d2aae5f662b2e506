import { Command, InvalidArgumentError } from 'commander';
import { progressReporter } from '@kd/trainer';
import { exitTwoOnUsageError, positiveInt } from './common.ts';
import { checkVocDataset, splitVoc, VocDatasetError, type VocCheckReport } from '@kd/data';

function usageError(command: string, message: string): void {
  process.stderr.write(`kd ${command}: ${message}\n`);
  process.exitCode = 2;
}

/** Problems of one kind listed before the rest are summarised (without --all): 1,334 alike say no more than 5. */
const LISTED_PER_KIND = 5;

function formatCheckReport(r: VocCheckReport, all: boolean): string {
  // what the layout lacks first: it is often the cause of the problems below it
  const out: string[] = r.structure.map((s) => `missing: ${s}`);
  const shown = new Map<string, number>();
  for (const p of r.problems) {
    const n = (shown.get(p.kind) ?? 0) + 1;
    shown.set(p.kind, n);
    if (all || n <= LISTED_PER_KIND) out.push(`${p.file}: ${p.kind}: ${p.message}`);
  }
  for (const [kind, n] of shown) if (!all && n > LISTED_PER_KIND) out.push(`... and ${n - LISTED_PER_KIND} more ${kind} problems (--all or --json lists every one)`);
  if (out.length > 0) out.push('');
  out.push(`dataset   ${r.root}`);
  out.push(`listed in ${r.sources.join(', ')}`);
  out.push(`classes   ${r.classes.length} (${r.classSource})`);
  out.push(`records   ${r.records} usable, ${r.imagesOk} images decoded and matching <size>`);
  const total = Object.values(r.objectsPerClass).reduce((a, b) => a + b, 0);
  out.push(`objects   ${total} (${r.difficult} difficult)`);
  const width = Math.max(5, ...r.classes.map((c) => c.length)) + 2;
  for (const c of r.classes) out.push(`  ${c.padEnd(width)}${String(r.objectsPerClass[c]).padStart(8)}`);
  const kinds = Object.entries(r.problemsByKind);
  out.push(`problems  ${r.problems.length}${kinds.length ? ` (${kinds.map(([k, n]) => `${k} ${n}`).join(', ')})` : ''}`);
  return `${out.join('\n')}\n`;
}

function checkDataCommand(): Command {
  return exitTwoOnUsageError(new Command('check-data'))
    .description('read a VOC dataset, decode every image, report what its layout lacks and every problem (exit 1 if any)')
    .argument('<dir>', 'VOC20xx folder, VOCdevkit, a folder holding VOCdevkit, or a list file')
    .option('--split <name>', 'list file at the root (trainval, test.txt) or ImageSets/Main split')
    .option('--jobs <n>', 'images decoded at once (default: CPUs)', positiveInt)
    .option('--all', `list every problem (default: the first ${LISTED_PER_KIND} of each kind and a count of the rest)`)
    .option('--json', 'print one JSON object instead of the listing (every problem)')
    .action(async (dir: string, opts: { split?: string; jobs?: number; all?: boolean; json?: boolean }) => {
      let report: VocCheckReport;
      try {
        report = await checkVocDataset(dir, { split: opts.split, concurrency: opts.jobs, onProgress: progressReporter('kd check-data') });
      } catch (error) {
        if (error instanceof VocDatasetError) return usageError('check-data', error.message);
        throw error;
      }
      if (opts.json) {
        const { root, classes, classSource, sources, records, imagesOk, objectsPerClass, difficult, problems, problemsByKind, structure } = report;
        process.stdout.write(`${JSON.stringify({
          root, missing: structure, classes, classes_from: classSource, sources, records, images_ok: imagesOk,
          objects_per_class: objectsPerClass, difficult, problems_by_kind: problemsByKind, problems,
        })}\n`);
      } else process.stdout.write(formatCheckReport(report, opts.all === true));
      process.exitCode = report.problems.length > 0 ? 1 : 0;
    });
}

function ratio(value: string): number {
  const n = Number(value);
  if (!(n > 0 && n < 1)) throw new InvalidArgumentError(`expected a number in (0, 1), got "${value}"`);
  return n;
}

function seed(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`expected an integer, got "${value}"`);
  return n;
}

function splitVocCommand(): Command {
  return exitTwoOnUsageError(new Command('split-voc'))
    .description('shuffle JPEGImages (seeded) into trainval.txt and test.txt at the dataset root, like the PaddleDetection notebook')
    .argument('<dir>', 'VOC20xx folder, VOCdevkit, or a folder holding VOCdevkit (the lists are written here)')
    .option('--ratio <r>', 'fraction that goes to trainval.txt', ratio, 0.9)
    .option('--seed <s>', 'PRNG seed: the same seed gives the same lists', seed, 0)
    .action((dir: string, opts: { ratio: number; seed: number }) => {
      let r;
      try {
        r = splitVoc(dir, opts);
      } catch (error) {
        if (error instanceof VocDatasetError) return usageError('split-voc', error.message);
        throw error;
      }
      const lines = [
        `wrote ${r.trainvalPath} (${r.trainval} images) and ${r.testPath} (${r.test} images), ratio ${opts.ratio}, seed ${opts.seed}`,
        `skipped ${r.skipped.length} images${r.skipped.length ? ':' : ''}`,
        ...r.skipped.slice(0, 10).map((s) => `  ${s.image}: ${s.reason}`),
        ...(r.skipped.length > 10 ? [`  ... and ${r.skipped.length - 10} more`] : []),
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}

/** `kd check-data` and `kd split-voc`. */
export function dataCommands(): Command[] {
  return [checkDataCommand(), splitVocCommand()];
}
