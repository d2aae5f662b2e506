// Processes under kd cluster's supervision: ready lines, logs, failures, SIGTERM then SIGKILL,
// and the whole process group stopped (a service's own children too).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ProcessStartError, readableLogLine, startProcess, type StartProcessOptions } from './process.ts';
import { ClusterInterruptedError, ServiceFailedError, Supervisor } from './supervisor.ts';

const tmp = mkdtempSync(join(tmpdir(), 'kd-supervisor-test-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

/** A node child running `code`, ready when it prints "ready <value>". */
function nodeChild(name: string, code: string, timeoutMs = 10_000): StartProcessOptions<string> {
  return {
    name, command: process.execPath, args: ['-e', code], logFile: join(tmp, `${name}.log`), timeoutMs,
    ready: (stdout) => /^ready (\S+)$/m.exec(stdout)?.[1],
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('startProcess: resolves with what the ready line says; output goes to the log file; stop() is SIGTERM', async () => {
  const { process: p, ready } = await startProcess(nodeChild('echo', 'console.error("booting"); console.log("ready 127.0.0.1:5"); setInterval(() => {}, 1000)'));
  assert.equal(ready, '127.0.0.1:5');
  assert.ok(p.running && alive(p.pid));
  assert.deepEqual(await p.stop(), { code: null, signal: 'SIGTERM' });
  assert.match(readFileSync(p.logFile, 'utf8'), /booting/);
  assert.match(readFileSync(p.logFile, 'utf8'), /ready 127\.0\.0\.1:5/);
});

test('startProcess: a process that exits before it is ready is a ProcessStartError with its output in the tail', async () => {
  await assert.rejects(startProcess(nodeChild('crash', 'console.error(JSON.stringify({ level: "fatal", msg: "bad flag --x" })); process.exit(2)')), (e: ProcessStartError) => {
    assert.ok(e instanceof ProcessStartError);
    assert.equal(e.message, 'crash exited with code 2 before it was ready');
    assert.equal(e.process.tail(), 'FATAL bad flag --x');
    return true;
  });
});

test('stop(): SIGKILL after the grace period for a process that ignores SIGTERM, and its children go with it', async () => {
  const code = `
    const { spawn } = require('node:child_process');
    const g = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    process.on('SIGTERM', () => {});
    console.log('ready ' + g.pid);
    setInterval(() => {}, 1000);`;
  const { process: p, ready } = await startProcess(nodeChild('stubborn', code));
  const grandchild = Number(ready);
  assert.ok(alive(grandchild));
  const t0 = Date.now();
  assert.deepEqual(await p.stop(300), { code: null, signal: 'SIGKILL' });
  assert.ok(Date.now() - t0 >= 250);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(alive(grandchild), false, 'the service\'s own child is in its process group and was killed too');
});

test('Supervisor: a service that exits stops the run with its name; one that may exit does not; stopAll ends the rest', async () => {
  const lines: string[] = [];
  const s = new Supervisor((l) => lines.push(l), 2000);
  try {
    const done = await s.start(nodeChild('trainer x', 'console.log("ready 1"); setTimeout(() => process.exit(0), 100)'), { mayExit: true });
    const bus = await s.start(nodeChild('bus', 'console.log("ready 2"); setInterval(() => {}, 1000)'), { stopOrder: 1 });
    const service = await s.start(nodeChild('teacher', 'console.log("ready 3"); setTimeout(() => { console.error("out of memory"); process.exit(3); }, 300)'));
    await done.process.exited;
    await assert.rejects(s.guard(new Promise(() => {})), (e: ServiceFailedError) => {
      assert.ok(e instanceof ServiceFailedError);
      assert.equal(e.message, 'teacher exited with code 3');
      assert.equal(e.process, service.process);
      assert.match(e.process.tail(), /out of memory/);
      return true;
    });
    assert.ok(bus.process.running);
    await s.stopAll();
    assert.equal(bus.process.running, false);
    assert.deepEqual(s.processes.map((p) => p.name), ['trainer x', 'bus', 'teacher']);
  } finally {
    await s.stopAll();
    s.dispose();
  }
});

test('readableLogLine: pino JSON as LEVEL msg (error), other lines unchanged', () => {
  assert.equal(readableLogLine('{"level":"error","msg":"CheckpointError: x","pid":1}'), 'ERROR CheckpointError: x');
  assert.equal(readableLogLine('{"level":"fatal","msg":"failed to start","err":{"message":"EADDRINUSE"}}'), 'FATAL failed to start (EADDRINUSE)');
  assert.equal(readableLogLine('    at main (file.ts:1:2)'), '    at main (file.ts:1:2)');
  assert.equal(readableLogLine('{not json'), '{not json');
});

test('ClusterInterruptedError: exit code 128 + the signal number', () => {
  assert.equal(new ClusterInterruptedError('SIGINT').exitCode, 130);
  assert.equal(new ClusterInterruptedError('SIGTERM').exitCode, 143);
  assert.equal(new ClusterInterruptedError('SIGHUP').exitCode, 129);
});
