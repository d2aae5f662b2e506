// Real processes for the remote-teacher tests: the kd bin, teacher services (their own
// processes) on free ports, a tiny built-in dataset and a tiny teacher checkpoint.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const kdBin = fileURLToPath(new URL('../../services/cli/bin/kd.js', import.meta.url));
export const configs = fileURLToPath(new URL('../../configs/', import.meta.url));
const env = { ...process.env, KD_BACKEND: 'wasm', KD_LOG_LEVEL: 'warn' };

export interface KdRun { status: number | null; stdout: string; stderr: string }

/** Runs `kd ...args` to the end; `onStderr` sees the log as it comes (all of it so far). */
export function runKd(args: string[], onStderr?: (all: string) => void): Promise<KdRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [kdBin, ...args], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      onStderr?.(stderr);
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** A temp folder removed when the test file ends. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Tiny models, inputs and schedule: the whole loop in seconds. */
export const tinyOverrides = (data: string, saveDir: string, steps: number) => [
  '-o', `dataset.dir=${data}`, '-o', `save_dir=${saveDir}`, '-o', `max_iters=${steps}`, '-o', 'snapshot_iter=1000', '-o', 'log_iter=1',
  '-o', 'train_reader.batch_size=2', '-o', 'train_reader.sizes=[64]', '-o', 'train_reader.workers=0', '-o', 'eval_reader.size=64',
  '-o', 'backbone.width=0.125', '-o', 'yolo_head.width=0.0625',
];

export interface TeacherProcess { child: ChildProcess; address: string; stderr: () => string; stop(signal?: NodeJS.Signals): Promise<number | null> }

const teacherEntry = fileURLToPath(new URL('../../services/teacher/src/main.ts', import.meta.url));

/** The teacher service (its own process) on a free port, resolved once it prints `listening on HOST:PORT`. */
export function serveTeacher(weights: string, extra: string[] = []): Promise<TeacherProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', teacherEntry, '--weights', weights, '--port', '0', '--metrics-port', '0', ...extra], { env });
    let stdout = '';
    let stderr = '';
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const m = /listening on (\S+)/.exec(stdout);
      if (m) {
        resolve({
          child, address: m[1], stderr: () => stderr,
          stop: async (signal = 'SIGTERM') => {
            if (child.exitCode === null && child.signalCode === null) child.kill(signal);
            return exited;
          },
        });
      }
    });
    child.on('exit', (code) => reject(new Error(`teacher exited with ${code} before listening:\n${stderr}`)));
  });
}

/** Per-step losses of a run's log (log_iter=1: each line holds that step's own values). */
export function stepLosses(stderr: string): Array<Record<string, number>> {
  return [...stderr.matchAll(/step (\d+) lr [\d.e-]+, (.*?), eta:/g)].map((m) => Object.fromEntries(
    m[2].split(', ').map((kv) => kv.split(' ')).map(([k, v]) => [k, Number(v)]),
  ));
}
