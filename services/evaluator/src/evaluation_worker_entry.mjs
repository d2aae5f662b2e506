// Worker threads do not inherit the parent's module hooks: register tsx, then load the
// TypeScript worker (the same pattern as the teacher's inference thread).
import { register } from 'tsx/esm/api';

register();
await import('./evaluation_worker.ts');
