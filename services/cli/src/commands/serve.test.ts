// `kd serve`: flags pass through to the service untouched (its own --help included), and the
// real teacher runs as a child that gets our SIGTERM and whose exit code we return.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Command } from 'commander';
import { parseConfig } from '@kd/config';
import { createYoloV3, saveCheckpoint } from '@kd/detection';
import { initBackend } from '@kd/engine';
import { runService, serveCommand } from './serve.ts';

async function parse(argv: string[]): Promise<Array<[string, string[]]>> {
  const calls: Array<[string, string[]]> = [];
  const kd = new Command('kd').exitOverride().addCommand(serveCommand(async (name, args) => {
    calls.push([name, args]);
    return 0;
  }));
  await kd.parseAsync(argv, { from: 'user' });
  return calls;
}

test('kd serve teacher passes every flag through, --help included', async () => {
  assert.deepEqual(await parse(['serve', 'teacher', '--weights', 'models/x', '--port', '0', '--metrics-port', 'none']),
    [['teacher', ['--weights', 'models/x', '--port', '0', '--metrics-port', 'none']]]);
  assert.deepEqual(await parse(['serve', 'teacher', '--help']), [['teacher', ['--help']]]);
  process.exitCode = 0;
});

test('the teacher runs as a child: its own --help, then SIGTERM is forwarded and its exit code returned', async () => {
  let help = '';
  const code = await runService('teacher', ['--help'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    onSpawn: (child) => child.stdout!.setEncoding('utf8').on('data', (d: string) => (help += d)),
  });
  assert.equal(code, 0);
  assert.match(help, /--max-queue-delay-ms <ms>/);

  await initBackend('wasm', () => {});
  const root = mkdtempSync(join(tmpdir(), 'kd-serve-'));
  try {
    const config = parseConfig({
      num_classes: 2, max_iters: 1, backbone: { name: 'MobileNetV1', width: 0.25 }, yolo_head: { width: 0.125 }, dataset: { dir: 'unused' }, eval_reader: { size: 64 },
    });
    await saveCheckpoint(join(root, 'teacher'), createYoloV3(config, 1).store, config, 1);
    let out = '';
    const exit = runService('teacher', ['--weights', join(root, 'teacher'), '--port', '0', '--metrics-port', 'none'], {
      stdio: ['ignore', 'pipe', 'ignore'],
      onSpawn: (child) => child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        // what a Ctrl-C or a pod stop does to kd: the signal reaches kd's own handlers
        if (/^listening on 127\.0\.0\.1:\d+$/m.test(out)) process.emit('SIGTERM', 'SIGTERM');
      }),
    });
    assert.equal(await exit, 0);
    assert.match(out, /^listening on /);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
