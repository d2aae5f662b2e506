// End to end with a real Prometheus (Debian's `prometheus` package, installed when missing):
// it scrapes the services of `kd cluster --quick` (= npm start -- --quick) through the scrape
// jobs of deploy/prometheus/prometheus.yml and evaluates deploy/prometheus/rules. Every target
// is up while it runs, every query of every dashboard returns data, every alert rule evaluates
// without error, and the gRPC health names the Kubernetes probes ask for are SERVING.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { credentials, makeClientConstructor, type Client, type ServiceError } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { freePort, natsServerBinary, stopProcess } from '@kd/bus/testing';
import { EvaluateRequest, EvaluatorServiceClient, EvaluatorServiceService, TeacherServiceService } from '@kd/proto';
import { dashboardQueries, RULES } from './queries.ts';
import { DEPLOY, ensureDebianProgram, REPO, skipUnless } from './tools.ts';

const prometheusBinary = ensureDebianProgram('prometheus', 'prometheus');
const skip = skipUnless(prometheusBinary !== undefined, 'prometheus (Debian package prometheus) not available')
  || skipUnless(natsServerBinary() !== undefined, 'nats-server (kd cluster\'s private bus) not available');

const tmp = mkdtempSync(join(tmpdir(), 'kd-prom-e2e-'));
const children: ChildProcess[] = [];
after(async () => {
  for (const c of children) await stopProcess(c, 'SIGTERM');
  rmSync(tmp, { recursive: true, force: true });
});

/** The scrape jobs of the shipped config, each reading its targets from a file this test writes. */
function prometheusConfig(): { config: object; jobs: string[] } {
  const shipped = YAML.parse(readFileSync(join(DEPLOY, 'prometheus/prometheus.yml'), 'utf8')) as { scrape_configs: Array<{ job_name: string }> };
  const jobs = shipped.scrape_configs.map((j) => j.job_name);
  for (const job of jobs) writeFileSync(join(tmp, `${job}.json`), '[]');
  return {
    jobs,
    config: {
      // every target each second: the evaluator's mAP gauges are set only a few seconds before
      // the cluster stops it, and a trainer lives only as long as its steps. A trainer answers
      // /metrics between two steps (its event loop turns once per step); a step of this tiny run
      // takes well under the 1 s timeout even on a busy machine
      global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
      rule_files: [join(RULES, '*.yml')],
      scrape_configs: jobs.map((job) => ({
        job_name: job, file_sd_configs: [{ files: [join(tmp, `${job}.json`)], refresh_interval: '1s' }],
      })),
    },
  };
}

const targets = new Map<string, string[]>();
/** Adds a scrape target to a job's file (written whole, then renamed: Prometheus never reads half a file). */
function addTarget(job: string, hostPort: string): void {
  targets.set(job, [...(targets.get(job) ?? []), hostPort]);
  const file = join(tmp, `${job}.json`);
  writeFileSync(`${file}.tmp`, JSON.stringify([{ targets: targets.get(job) }]));
  renameSync(`${file}.tmp`, file);
}

async function api(base: string, path: string, params: Record<string, string | number> = {}): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const url = `${base}/api/v1/${path}?${new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)]))}`;
  const body = await (await fetch(url)).json();
  assert.equal(body.status, 'success', `${url}: ${JSON.stringify(body)}`);
  return body.data;
}

type HealthClient = Client & { check(req: { service: string }, cb: (err: ServiceError | null, res: { status: string }) => void): void };
const HealthClient = makeClientConstructor(healthService as never, 'grpc.health.v1.Health') as unknown as new (a: string, c: ReturnType<typeof credentials.createInsecure>) => HealthClient;
function health(address: string, service: string): Promise<string> {
  const h = new HealthClient(address, credentials.createInsecure());
  return new Promise((resolve) => h.check({ service }, (err, res) => {
    h.close();
    resolve(err ? `error: ${err.message}` : res.status);
  }));
}
const grpcName = (def: Record<string, { path: string }>) => Object.values(def)[0].path.split('/')[1];

/**
 * A job's evaluation while the cluster trains: the evaluator's per-job mAP gauges are otherwise
 * set only by the trainers' model_final evaluations, a second before the cluster stops it, and
 * a 1 s scrape can miss them.
 */
function evaluateForJob(address: string, checkpoint: string, dataset: string): Promise<string> {
  const client = new EvaluatorServiceClient(address, credentials.createInsecure());
  const request = EvaluateRequest.fromPartial({ jobId: 'e2e-probe', checkpoint: { path: checkpoint, dataset } });
  return new Promise((resolve) => client.evaluate(request, (err, res) => {
    client.close();
    resolve(err ? `error: ${err.message}` : `mAP ${res.report?.meanAp}`);
  }));
}

test('Prometheus scrapes kd cluster --quick: every target up, every dashboard query returns data, every rule evaluates', { skip, timeout: 240_000 }, async () => {
  const { config, jobs } = prometheusConfig();
  const configFile = join(tmp, 'prometheus.yml');
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const prom = spawn(prometheusBinary!, [`--config.file=${configFile}`, `--storage.tsdb.path=${join(tmp, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(prom);
  let promLog = '';
  prom.stderr!.setEncoding('utf8').on('data', (d: string) => (promLog = (promLog + d).slice(-4000)));
  for (const end = Date.now() + 30_000; ; await new Promise((r) => setTimeout(r, 200))) {
    const ready = await fetch(`${base}/-/ready`).then((r) => r.ok, () => false);
    if (ready) break;
    assert.ok(Date.now() < end && prom.exitCode === null, `prometheus did not become ready: ${promLog}`);
  }

  // the cluster: each service's metrics URL becomes a target of its job as soon as it is printed.
  // A new target is first scraped up to 1 s (file refresh) + 1 s (interval) after it is written;
  // 200 steps keep each trainer up for many seconds more (with 60, at 3 s scrapes, a trainer
  // once ended 3 s after it started and was never scraped)
  const started = Date.now() / 1000;
  const cluster = spawn(process.execPath, [join(REPO, 'services/cli/bin/kd.js'), 'cluster', '--quick', '--init', join(REPO, 'models/yolov3_mobilenet_v1_shapes'), '--steps', '200', '--work', join(tmp, 'work')], {
    cwd: REPO, env: { ...process.env, NATS_URL: '', KD_BACKEND: 'wasm' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(cluster);
  const grpc = new Map<string, string>();
  const healthChecks: Array<Promise<[string, string]>> = [];
  let probe: Promise<string> | undefined;
  let out = '';
  let partial = '';
  cluster.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  // its progress lines, with each service's addresses, go to stderr
  cluster.stderr!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    const lines = (partial + d).split('\n');
    partial = lines.pop()!;
    for (const m of lines.join('\n').matchAll(/^kd cluster: (teacher|evaluator|trainer \w+) started \(pid \d+\): (?:gRPC (\S+), )?.*?metrics http:\/\/(\S+)\/metrics/gm)) {
      const job = `kd-${m[1].split(' ')[0]}`;
      assert.ok(jobs.includes(job), `no scrape job ${job} in deploy/prometheus/prometheus.yml`);
      addTarget(job, m[3]);
      if (m[2]) {
        grpc.set(m[1], m[2]);
        // the names the Kubernetes probes ask for, while the service runs
        const names = m[1] === 'teacher' ? ['', grpcName(TeacherServiceService)] : ['', grpcName(EvaluatorServiceService)];
        for (const n of names) healthChecks.push(health(m[2], n).then((s) => [`${m[1]} "${n}"`, s]));
        // (the cluster generated its dataset in WORK/shapes before it started any service)
        if (m[1] === 'evaluator') probe = evaluateForJob(m[2], join(REPO, 'models/yolov3_mobilenet_v1_shapes'), join(tmp, 'work', 'shapes'));
      }
    }
  });
  // scrape errors while the services run, for the message should a target never be up
  const scrapeErrors = new Map<string, Set<string>>();
  const watch = setInterval(() => void api(base, 'targets').then((d) => {
    for (const t of d.activeTargets as Array<{ scrapeUrl: string; lastError: string; health: string }>) {
      scrapeErrors.set(t.scrapeUrl, (scrapeErrors.get(t.scrapeUrl) ?? new Set()).add(`${new Date().toISOString().slice(11, 19)} ${t.health} ${t.lastError}`));
    }
  }, () => {}), 1000);
  const code = await new Promise<number | null>((resolve) => cluster.on('exit', resolve));
  clearInterval(watch);
  assert.equal(code, 0, out);
  const ended = Date.now() / 1000 + 2;
  await new Promise((r) => setTimeout(r, 3500)); // the last scrapes and rule evaluations
  for (const [what, s] of await Promise.all(healthChecks)) assert.equal(s, 'SERVING', `health of ${what}`);
  assert.match(await probe!, /^mAP [\d.]+$/, 'the evaluation for a job while the cluster trained');
  assert.deepEqual([...grpc.keys()].sort(), ['evaluator', 'teacher']);

  // every target was up while its service ran (they are gone now: up is 0 for them by the end)
  const everUp = await api(base, 'query', { query: 'max_over_time(up[10m])', time: ended });
  const seen = new Map<string, number>(everUp.result.map((r: { metric: { job: string; instance: string }; value: [number, string] }) => [`${r.metric.job} ${r.metric.instance}`, Number(r.value[1])]));
  const expected = [...targets.entries()].flatMap(([job, ts]) => ts.map((t) => `${job} ${t}`));
  assert.equal(expected.length, 4, `teacher, evaluator and two trainers: ${expected.join(', ')}`);
  for (const t of expected) assert.equal(seen.get(t), 1, `target ${t} was never up (scrapes: ${JSON.stringify([...scrapeErrors].map(([u, e]) => [u, [...e]]))})`);

  // every query of every dashboard has data over the run
  const empty: string[] = [];
  for (const q of dashboardQueries()) {
    const data = await api(base, 'query_range', { query: q.expr, start: started, end: ended, step: 1 });
    const values = data.result.flatMap((r: { values: Array<[number, string]> }) => r.values.map((v) => Number(v[1]))).filter((v: number) => !Number.isNaN(v));
    if (values.length === 0) empty.push(`${q.where}: ${q.expr}`);
  }
  assert.deepEqual(empty, [], 'dashboard queries without data');

  // the alert rules were loaded and evaluated against this data without errors
  const rules = await api(base, 'rules');
  const evaluated = rules.groups.flatMap((g: { rules: Array<{ name: string; health: string; lastError?: string }> }) => g.rules);
  assert.ok(evaluated.length >= 4, JSON.stringify(rules));
  for (const r of evaluated) assert.equal(r.health, 'ok', `rule ${r.name}: ${r.lastError}`);
});
