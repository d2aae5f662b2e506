// Worker threads do not inherit the parent's module hooks: register tsx, then load the
// TypeScript worker (the same pattern as libs/data's loader workers).
import { register } from 'tsx/esm/api';

register();
await import('./grpc_worker.ts');
