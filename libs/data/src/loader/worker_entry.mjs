// Worker threads do not inherit the parent's module hooks, so tsx is registered here before the
// TypeScript worker is imported. (`execArgv: ['--import', 'tsx']` did not start the worker on
// Node 20, and depends on the cwd to find tsx.)
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
