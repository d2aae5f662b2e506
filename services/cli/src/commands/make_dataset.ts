// `kd make-dataset shapes`: writes the built-in procedurally drawn VOC dataset.
import { Argument, Command, InvalidArgumentError } from 'commander';
import { generateShapesDataset, SHAPES_DEFAULTS, type ShapesDataset } from '@kd/data';
import { progressReporter } from '@kd/trainer';

function count(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected an integer >= 0, got "${value}"`);
  return n;
}

function imageSize(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 32) throw new InvalidArgumentError(`expected an integer >= 32, got "${value}"`);
  return n;
}

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`expected an integer, got "${value}"`);
  return n;
}

function summary(ds: ShapesDataset, seconds: number): string {
  const perClass = new Map(ds.classes.map((c) => [c, 0]));
  let objects = 0;
  let difficult = 0;
  for (const r of [...ds.trainval, ...ds.test]) {
    for (const o of r.objects) {
      perClass.set(o.name, (perClass.get(o.name) ?? 0) + 1);
      objects++;
      if (o.difficult) difficult++;
    }
  }
  const lines = [
    `dataset    ${ds.root}`,
    `images     trainval ${ds.trainval.length}, test ${ds.test.length}, unlabeled ${ds.unlabeled.length}`,
    `objects    ${objects} labelled (${difficult} difficult)`,
    ...ds.classes.map((c) => `  ${c.padEnd(16)}${String(perClass.get(c)).padStart(7)}`),
    `time       ${seconds.toFixed(1)} s`,
  ];
  return `${lines.join('\n')}\n`;
}

/** The `make-dataset` command. */
export function makeDatasetCommand(): Command {
  const d = SHAPES_DEFAULTS;
  return new Command('make-dataset')
    .description('write a built-in dataset as a Pascal VOC tree (list files written last: a partial run has no trainval.txt)')
    .addArgument(new Argument('<name>', 'dataset to make; shapes: 8 colour/shape classes drawn on cluttered backgrounds').choices(['shapes']))
    .option('--out <dir>', 'output directory', 'data/shapes')
    .option('--train <n>', 'trainval images', count, d.train)
    .option('--test <n>', 'test images', count, d.test)
    .option('--unlabeled <n>', 'images without annotations (for distillation on unlabeled data)', count, d.unlabeled)
    .option('--size <px>', 'longer image side; the shorter is 0.75..1 of it', imageSize, d.size)
    .option('--seed <n>', 'same seed, byte-identical files', integer, d.seed)
    .addHelpText('after', `
Writes DIR/VOCdevkit/VOC2012/{JPEGImages,Annotations}, DIR/trainval.txt, DIR/test.txt,
DIR/label_list.txt, DIR/unlabeled/*.jpg and DIR/unlabeled.txt.`)
    .action(async (_name: string, opts: { out: string; train: number; test: number; unlabeled: number; size: number; seed: number }) => {
      const start = Date.now();
      const total = opts.train + opts.test + opts.unlabeled;
      const report = progressReporter('kd make-dataset');
      const ds = await generateShapesDataset({ ...opts, onProgress: (done) => report('images', done, total) });
      process.stdout.write(summary(ds, (Date.now() - start) / 1000));
    });
}
