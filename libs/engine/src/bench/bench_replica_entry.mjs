// Worker threads do not inherit the parent's module hooks: register tsx, then load the
// TypeScript replica (as libs/detection's data-parallel replicas do).
import { register } from 'tsx/esm/api';

register();
await import('./bench_replica.ts');
