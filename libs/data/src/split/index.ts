export { writeFilesAtomic } from './atomic_write.ts';
export { splitVoc, type SplitVocOptions, type SplitVocResult } from './split_voc.ts';
