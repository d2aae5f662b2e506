// Every kd_* metric a service exports is in its names list (the one dashboards and alerts are
// checked against), and every name in the list is exported: a live scrape of each service.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EVALUATOR_METRIC_NAMES } from '@kd/evaluator-service/metrics';
import { TEACHER_METRIC_NAMES } from '@kd/teacher-service/metrics';
import { TRAINER_METRIC_NAMES } from '@kd/trainer-service/metrics';
import { configs, runKd, tempDir, tinyOverrides } from '../distill/fixtures.ts';
import { makeTinyTeacher, startTeacherProcess } from '../teacher/helpers.ts';

const services = fileURLToPath(new URL('../../services/', import.meta.url));
const env = { ...process.env, KD_BACKEND: 'wasm', KD_LOG_LEVEL: 'info', KD_LOG_FORMAT: 'json', NATS_URL: '' };
const stops: Array<() => void> = [];
after(() => stops.forEach((stop) => stop()));

/**
 * The kd_* metric names of a /metrics page (from its # TYPE lines: present even before a first
 * value), after checking that every series of the page carries the service and replica labels.
 */
async function scrape(port: number, service: string): Promise<string[]> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const samples = text.split('\n').filter((line) => line && !line.startsWith('#'));
  assert.ok(samples.length > 0, text);
  for (const line of samples) assert.match(line, new RegExp(`\\{(.*,)?service="${service}",replica="[^"]+"`), `${service}: ${line}`);
  return [...text.matchAll(/^# TYPE (kd_\w+) \w+$/gm)].map((m) => m[1]).sort();
}

const sorted = (names: Record<string, string>) => Object.values(names).sort();

/** Starts a service entry; resolves with its metrics port (from its "metrics listening" log line) and a stop function. */
function start(service: string, args: string[]): Promise<{ port: number; stop: () => void; child: ReturnType<typeof spawn> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(services, service, 'src/main.ts'), '--metrics-port', '0', ...args], { env });
  stops.push(() => child.kill('SIGKILL'));
  let stderr = '';
  return new Promise((resolve, reject) => {
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      const port = /"msg":"metrics listening"/.test(stderr) ? /"port":(\d+)[^\n]*"msg":"metrics listening"/.exec(stderr)?.[1] : undefined;
      if (port) resolve({ port: Number(port), stop: () => child.kill('SIGKILL'), child });
    });
    child.on('exit', (code) => reject(new Error(`${service} exited ${code}:\n${stderr}`)));
  });
}

test('teacher, trainer and evaluator export exactly the metric names their lists declare, every series labelled with service and replica', async () => {
  const tiny = await makeTinyTeacher();
  stops.push(tiny.cleanup);
  const teacher = await startTeacherProcess(['--weights', tiny.dir]);
  stops.push(() => teacher.kill());
  assert.deepEqual(await scrape(teacher.metricsPort!, 'teacher'), sorted(TEACHER_METRIC_NAMES));

  const evaluator = await start('evaluator', ['--port', '0', '--state', join(tempDir('kd-metrics-eval-'), 'state')]);
  assert.deepEqual(await scrape(evaluator.port, 'evaluator'), sorted(EVALUATOR_METRIC_NAMES));

  const tmp = tempDir('kd-metrics-trainer-');
  const data = join(tmp, 'shapes');
  const made = await runKd(['make-dataset', 'shapes', '--out', data, '--train', '4', '--test', '1', '--unlabeled', '0', '--size', '96']);
  assert.equal(made.status, 0, made.stderr);
  const trainer = await start('trainer', ['--job-id', `metrics${process.pid}`, '-c', join(configs, 'yolov3_mobilenet_v1_shapes.yml'), ...tinyOverrides(data, join(tmp, 'out'), 100000)]);
  assert.deepEqual(await scrape(trainer.port, 'trainer'), sorted(TRAINER_METRIC_NAMES));
});
