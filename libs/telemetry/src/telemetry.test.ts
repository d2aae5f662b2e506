import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger, integerArg, MetricNameError, portArg, prettyLine, ServiceRegistry, startServingTelemetry, startTelemetryServer } from './index.ts';

test('metric names must follow kd_<service>_<what>_<unit>, counters end _total', () => {
  const r = new ServiceRegistry('demo', { defaultMetrics: false });
  r.counter({ name: 'kd_demo_requests_total', help: 'h', labelNames: ['code'] });
  r.gauge({ name: 'kd_demo_queue_depth_images', help: 'h' });
  r.histogram({ name: 'kd_demo_request_duration_seconds', help: 'h', buckets: [0.1, 1] });
  assert.throws(() => r.counter({ name: 'kd_demo_requests', help: 'h' }), /must end with _total/);
  assert.throws(() => r.gauge({ name: 'kd_other_depth_images', help: 'h' }), /kd_demo_<what>_<unit>/);
  assert.throws(() => r.gauge({ name: 'kd_demo_depth_total', help: 'h' }), /must not end with _total/);
  assert.throws(() => r.histogram({ name: 'kd_demo_latency_ms', help: 'h', buckets: [1] }), (e: Error) => e instanceof MetricNameError && /must end with a unit/.test(e.message));
  assert.throws(() => new ServiceRegistry('Bad-Name'), MetricNameError);
});

test('two registries of one service do not collide (no global registry)', async () => {
  const a = new ServiceRegistry('demo', { replica: 'a' });
  const b = new ServiceRegistry('demo', { replica: 'b' });
  a.counter({ name: 'kd_demo_events_total', help: 'h' }).inc(2);
  b.counter({ name: 'kd_demo_events_total', help: 'h' }).inc(5);
  assert.match(await a.metrics(), /^kd_demo_events_total\{service="demo",replica="a"\} 2$/m);
  assert.match(await b.metrics(), /^kd_demo_events_total\{service="demo",replica="b"\} 5$/m);
  assert.match(await a.metrics(), /^process_cpu_user_seconds_total\{service="demo",replica="a"\} /m, 'default process metrics, labelled too');
});

test('every series carries service and replica labels (replica defaults to <hostname>-<pid>), plus the extra default labels', async () => {
  const r = new ServiceRegistry('demo', { defaultMetrics: false, defaultLabels: { job_id: 'j1' } });
  r.gauge({ name: 'kd_demo_depth_images', help: 'h', labelNames: ['kind'] as const }).set({ kind: 'x' }, 3);
  const text = await r.metrics();
  const line = text.split('\n').find((l) => l.startsWith('kd_demo_depth_images{'));
  assert.ok(line, text);
  assert.match(line, /service="demo"/);
  assert.match(line, new RegExp(`replica="[^"]+-${process.pid}"`));
  assert.match(line, /job_id="j1"/);
  assert.match(line, /kind="x"/);
});

test('the HTTP server serves /metrics and /healthz on a free port and closes with a client connected', async () => {
  const r = new ServiceRegistry('demo', { defaultMetrics: false });
  r.counter({ name: 'kd_demo_hits_total', help: 'h' }).inc();
  let ok = true;
  const server = await startTelemetryServer({ registry: r.registry, port: 0, health: () => ({ ok, detail: ok ? 'serving' : 'shutting down' }) });
  assert.ok(server.port > 0);
  const base = `http://127.0.0.1:${server.port}`;
  const metrics = await fetch(`${base}/metrics`);
  assert.equal(metrics.status, 200);
  assert.match(metrics.headers.get('content-type') ?? '', /text\/plain/);
  assert.match(await metrics.text(), /^kd_demo_hits_total\{[^}]*\} 1$/m);
  const healthy = await fetch(`${base}/healthz`);
  assert.deepEqual([healthy.status, await healthy.text()], [200, 'serving\n']);
  ok = false;
  const sick = await fetch(`${base}/healthz`);
  assert.deepEqual([sick.status, await sick.text()], [503, 'shutting down\n']);
  assert.equal((await fetch(`${base}/nope`)).status, 404);
  await server.close();
  await assert.rejects(fetch(`${base}/metrics`));
});

test('a service\'s telemetry: /healthz serving until stopServing, then 503; none at all for port null', async () => {
  const r = new ServiceRegistry('demo', { defaultMetrics: false });
  const lines: string[] = [];
  const log = createLogger({ service: 'demo', level: 'info', destination: { write: (l: string) => lines.push(l) } });
  const t = await startServingTelemetry({ registry: r.registry, port: 0, host: '127.0.0.1', log });
  const health = async () => {
    const res = await fetch(`http://127.0.0.1:${t.port}/healthz`);
    return [res.status, await res.text()];
  };
  try {
    assert.deepEqual(await health(), [200, 'serving\n']);
    assert.match(lines.join(''), new RegExp(`"port":${t.port}.*"msg":"metrics listening"`));
    t.stopServing();
    assert.deepEqual(await health(), [503, 'shutting down\n']);
  } finally {
    await t.close(); // a listening server would keep the test process alive
  }
  const none = await startServingTelemetry({ registry: r.registry, port: null, host: '127.0.0.1', log });
  assert.equal(none.port, null);
  none.stopServing();
  await none.close();
});

test('option parsers: integers from a minimum, ports from 0, errors naming the option', () => {
  assert.equal(integerArg(1, '--max-batch')('16'), 16);
  assert.throws(() => integerArg(1, '--max-batch')('0'), /--max-batch must be an integer >= 1\./);
  assert.throws(() => integerArg(0, '--x')('1.5'), /--x must be an integer >= 0\./);
  assert.equal(portArg('0'), 0);
  assert.throws(() => portArg('-1'), /a port must be an integer >= 0\./);
});

test('the logger writes one JSON object per line with service and level; pretty lines are readable', () => {
  const lines: string[] = [];
  const log = createLogger({ service: 'demo', level: 'info', base: { replica: 'r0' }, destination: { write: (s: string) => void lines.push(s) } });
  log.info({ port: 5 }, 'listening');
  log.debug('hidden');
  log.warn({ reason: 'bad' }, 'rejected');
  assert.equal(lines.length, 2);
  const first = JSON.parse(lines[0]);
  assert.equal(first.msg, 'listening');
  assert.equal(first.level, 'info');
  assert.equal(first.service, 'demo');
  assert.equal(first.replica, 'r0');
  assert.equal(first.port, 5);
  assert.ok(lines.every((l) => l.endsWith('\n') && l.indexOf('\n') === l.length - 1));
  assert.match(prettyLine(lines[1]), /^\d\d:\d\d:\d\d\.\d{3} WARN  demo: rejected replica=r0 reason=bad\n$/);
  assert.throws(() => createLogger({ service: 'demo', level: 'loud' }), /log level "loud"/);
});
