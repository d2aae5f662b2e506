// Worker threads do not inherit the parent's module hooks: register tsx, then load the
// TypeScript replica (the same pattern as libs/data's loader workers).
import { register } from 'tsx/esm/api';

register();
await import('./replica_worker.ts');
