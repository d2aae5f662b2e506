// The committed generated code must be what the .proto files generate today.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const GEN = join('libs', 'proto', 'src', 'gen');

function listFiles(dir: string, base = dir, out: string[] = []): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) listFiles(path, base, out);
    else out.push(relative(base, path));
  }
  return out.sort();
}

test('libs/proto/src/gen matches a fresh buf generate of proto/', { timeout: 120_000 }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'kd-proto-gen-'));
  try {
    const r = spawnSync(process.execPath, [join(root, 'scripts', 'gen-proto.mjs'), '--out', tmp], {
      cwd: root,
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, `scripts/gen-proto.mjs failed:\n${r.stdout}${r.stderr}`);

    const committedDir = join(root, GEN);
    const freshDir = join(tmp, GEN);
    const committed = listFiles(committedDir);
    const fresh = listFiles(freshDir);
    assert.ok(fresh.length > 0, `buf generate wrote nothing under ${freshDir}`);

    const stale = [
      ...fresh.filter((f) => !committed.includes(f)).map((f) => `missing: ${f}`),
      ...committed.filter((f) => !fresh.includes(f)).map((f) => `not generated from proto/: ${f}`),
      ...fresh
        .filter((f) => committed.includes(f))
        .filter((f) => readFileSync(join(freshDir, f), 'utf8') !== readFileSync(join(committedDir, f), 'utf8'))
        .map((f) => `differs: ${f}`),
    ];
    assert.deepEqual(
      stale,
      [],
      `${GEN} is out of date with proto/ (or buf.gen.yaml); run \`npm run proto\` and commit the result:\n  ${stale.join('\n  ')}`,
    );
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
