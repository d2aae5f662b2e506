#!/usr/bin/env node
// Regenerates the TypeScript code of the proto contracts (proto/ -> libs/proto/src/gen)
// with buf and the local ts-proto plugin (buf.yaml, buf.gen.yaml); works offline.
// Lints the .proto files first, since their comments are the API documentation.
//   node scripts/gen-proto.mjs            regenerate in place (`npm run proto`)
//   node scripts/gen-proto.mjs --out DIR  write under DIR instead (DIR/libs/proto/src/gen)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// The npm package's launcher (what `npx buf` runs), called directly: no npm, no network.
const buf = join(root, 'node_modules', '.bin', 'buf');

function run(args) {
  const r = spawnSync(buf, args, { cwd: root, stdio: 'inherit' });
  if (r.error) throw r.error;
  if (r.status !== 0) {
    console.error(`gen-proto: buf ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status || 1);
  }
}

const argv = process.argv.slice(2);
let out;
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--out' && argv[i + 1]) out = resolve(argv[++i]);
  else {
    console.error(`gen-proto: unknown argument ${argv[i]}\nusage: node scripts/gen-proto.mjs [--out DIR]`);
    process.exit(2);
  }
}
if (!existsSync(buf)) {
  console.error(`gen-proto: ${buf} not found; run npm install (devDependency @bufbuild/buf)`);
  process.exit(1);
}

run(['lint']);
run(out ? ['generate', '--output', out] : ['generate']);
