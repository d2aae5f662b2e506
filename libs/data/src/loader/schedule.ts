// The training schedule, decided on the main thread: which records form each batch, each
// one's mixup partner, the batch's RandomShape size and a seed per sample. Workers only
// compute, so batches are the same for a seed whatever the number or timing of workers.
import { Rng, deriveSeed } from '../random.ts';

/** One sample of a batch: record index, mixup partner index (-1: none), augmentation seed. */
export interface SamplePlan {
  record: number;
  partner: number;
  seed: number;
}

/** One batch to compute: its position in the stream, epoch, size (px) and samples. */
export interface BatchPlan {
  index: number;
  epoch: number;
  size: number;
  samples: SamplePlan[];
}

export interface ScheduleOptions {
  records: number;
  batchSize: number;
  sizes: readonly number[];
  seed: number;
  /** Mixup partners are drawn while epoch < mixupEpochs (0 disables mixup). */
  mixupEpochs: number;
  /** Unlabeled records, indexed after the labeled ones (records .. records + unlabeled - 1). */
  unlabeled?: number;
  /** How many of each batch's samples are unlabeled (never mixed up); 0 by default. */
  unlabeledPerBatch?: number;
}

/**
 * An endless stream of batch plans: records reshuffled every epoch (the permutation of epoch e
 * depends only on seed and e), batches run across epoch boundaries so no record is dropped.
 */
export class TrainSchedule {
  private readonly rng: Rng;
  private order: number[] = [];
  private pos = 0;
  private epoch = -1;
  private index = 0;
  private unlabeledOrder: number[] = [];
  private unlabeledPos = 0;
  private unlabeledEpoch = -1;

  constructor(private readonly options: ScheduleOptions) {
    this.rng = new Rng(deriveSeed(options.seed, 0x5c4ed));
  }

  private nextRecord(): number {
    if (this.pos >= this.order.length) {
      this.epoch++;
      this.order = new Rng(deriveSeed(this.options.seed, 0xe90c4, this.epoch)).shuffle(Array.from({ length: this.options.records }, (_, i) => i));
      this.pos = 0;
    }
    return this.order[this.pos++];
  }

  // Unlabeled images cycle through their own permutations, so they never shift the labeled order.
  private nextUnlabeled(): number {
    const count = this.options.unlabeled ?? 0;
    if (this.unlabeledPos >= this.unlabeledOrder.length) {
      this.unlabeledEpoch++;
      this.unlabeledOrder = new Rng(deriveSeed(this.options.seed, 0x0ab1ed, this.unlabeledEpoch)).shuffle(Array.from({ length: count }, (_, i) => i));
      this.unlabeledPos = 0;
    }
    return this.options.records + this.unlabeledOrder[this.unlabeledPos++];
  }

  /** The next batch plan. */
  next(): BatchPlan {
    const { records, batchSize, sizes, mixupEpochs } = this.options;
    const unlabeled = (this.options.unlabeled ?? 0) > 0 ? Math.min(this.options.unlabeledPerBatch ?? 0, batchSize - 1) : 0;
    const samples: SamplePlan[] = [];
    let epoch = 0;
    for (let i = 0; i < batchSize - unlabeled; i++) {
      const record = this.nextRecord();
      epoch = this.epoch;
      // A partner other than the record itself, uniformly (ppdet draws another index too).
      const partner = epoch < mixupEpochs && records > 1 ? (record + this.rng.int(1, records)) % records : -1;
      samples.push({ record, partner, seed: this.rng.uint32() });
    }
    for (let i = 0; i < unlabeled; i++) samples.push({ record: this.nextUnlabeled(), partner: -1, seed: this.rng.uint32() });
    return { index: this.index++, epoch, size: this.rng.pick(sizes), samples };
  }
}
