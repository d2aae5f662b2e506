// TLS, mutual TLS and bearer tokens on the real services: a teacher and an evaluator process
// started with --tls-cert/--tls-key/--tls-ca/--token-file serve a client that has the CA,
// a client certificate and the token (the trainer's teacher client, on its worker thread,
// configured by KD_TEACHER_* as in a pod), and refuse every client short of one of them.
// Certificates are made with openssl at run time. The token never reaches a log.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeClientConstructor, status, type Client, type ServiceError } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { channelCredentials, clientAuthFromEnv, clientOptions, type ClientAuth } from '@kd/grpc-auth';
import { makeTestCertificates, opensslAvailable, type TestCertificates } from '@kd/grpc-auth/testing';
import { EvaluatorServiceClient } from '@kd/proto';
import { GrpcTeacher, GrpcTeacherClient, TeacherUnavailableError } from '@kd/trainer';
import { getReport, startEvaluatorProcess, tempDir, type EvaluatorProcess } from '../evaluator/helpers.ts';
import { makeTinyTeacher, REPO, startTeacherProcess, TEACHER_MAIN, type TeacherProcess } from '../teacher/helpers.ts';

const TOKEN = 'kd-test-Tok3n-9f2c';
const skip = opensslAvailable() ? false : 'openssl not available';
let certs: TestCertificates;
let tokenFile: string;
let serverFlags: string[];
const cleanups: Array<() => void> = [];
before(() => {
  if (skip) return;
  certs = makeTestCertificates();
  cleanups.push(certs.cleanup);
  tokenFile = join(certs.dir, 'token');
  writeFileSync(tokenFile, `${TOKEN}\n`);
  serverFlags = ['--tls-cert', certs.serverCert, '--tls-key', certs.serverKey, '--tls-ca', certs.ca, '--token-file', tokenFile];
});
after(() => cleanups.reverse().forEach((c) => c()));

/** KD_<prefix>_* variables of a client with everything it needs, minus `without`. */
function clientEnv(prefix: string, without: Array<'cert' | 'token'> = []): NodeJS.ProcessEnv {
  return {
    [`${prefix}_TLS_CA`]: certs.ca,
    ...(without.includes('cert') ? {} : { [`${prefix}_TLS_CERT`]: certs.clientCert, [`${prefix}_TLS_KEY`]: certs.clientKey }),
    ...(without.includes('token') ? {} : { [`${prefix}_TOKEN_FILE`]: tokenFile }),
  };
}

type HealthClient = Client & { check(req: { service: string }, cb: (err: ServiceError | null, res: { status: string }) => void): void };
const HealthClient = makeClientConstructor(healthService as never, 'grpc.health.v1.Health') as unknown as new (
  address: string, creds: ReturnType<typeof channelCredentials>) => HealthClient;

function healthCheck(address: string, auth: ClientAuth): Promise<string> {
  const h = new HealthClient(address, channelCredentials(auth));
  return new Promise<string>((resolve, reject) =>
    h.check({ service: '' }, (err, res) => {
      h.close();
      return err ? reject(err) : resolve(res.status);
    }),
  );
}

const teacherOptions = { inputDtype: 'float16' as const, outputEncoding: 'fp16' as const, sparseThreshold: 0, timeoutSeconds: 20, log: () => {} };

describe('TLS and tokens on the services', { skip }, () => {
  test('teacher: mutual TLS + token; the trainer\'s client from KD_TEACHER_* gets soft targets, clients without the token or the certificate are refused', async () => {
    const tiny = await makeTinyTeacher();
    cleanups.push(tiny.cleanup);
    const teacher: TeacherProcess = await startTeacherProcess(['--weights', tiny.dir, ...serverFlags]);
    cleanups.push(() => teacher.kill());
    const address = `grpc://${teacher.address}`;

    // as in a trainer pod: the variables, read on the client's worker thread
    Object.assign(process.env, clientEnv('KD_TEACHER'));
    let remote: GrpcTeacher | undefined;
    try {
      remote = await GrpcTeacher.connect({ address, ...teacherOptions });
      const outputs = await remote.infer({ images: new Float32Array(2 * 64 * 64 * 3).fill(0.5), shape: [2, 64, 64, 3] });
      assert.deepEqual(outputs.map((t) => t.shape[0]), [2, 2, 2]);
      outputs.forEach((t) => t.dispose());
    } finally {
      await remote?.close();
      for (const k of Object.keys(clientEnv('KD_TEACHER'))) delete process.env[k];
    }

    // no token: refused at once, naming the variables to set
    const t0 = Date.now();
    await assert.rejects(GrpcTeacherClient.connect({ address, ...teacherOptions, auth: clientAuthFromEnv('KD_TEACHER', clientEnv('KD_TEACHER', ['token'])) }),
      (e: Error) => e instanceof TeacherUnavailableError && /UNAUTHENTICATED/.test(e.message) && /KD_TEACHER_TOKEN or KD_TEACHER_TOKEN_FILE/.test(e.message));
    assert.ok(Date.now() - t0 < 5000, 'a refused token is not waited out');
    // no client certificate, a foreign one, or plaintext: the handshake fails, no replica answers
    for (const auth of [
      clientAuthFromEnv('KD_TEACHER', clientEnv('KD_TEACHER', ['cert'])),
      { ...clientAuthFromEnv('KD_TEACHER', clientEnv('KD_TEACHER')), cert: undefined, key: undefined },
      { tls: false, token: TOKEN },
    ]) {
      await assert.rejects(GrpcTeacherClient.connect({ address, ...teacherOptions, connectSeconds: 1, auth }), TeacherUnavailableError);
    }
    // grpc.health.v1 needs the certificate but no token (Kubernetes probes send none)
    assert.equal(await healthCheck(teacher.address, clientAuthFromEnv('KD_TEACHER', clientEnv('KD_TEACHER', ['token']))), 'SERVING');

    const logs = teacher.stderr();
    assert.match(logs, /"transport":"mutual-tls","token":true/);
    assert.match(logs, /"reason":"no bearer token".*"msg":"call refused: bearer token"/);
    assert.ok(!logs.includes(TOKEN), 'the token is never logged');
  });

  test('evaluator: mutual TLS + token; GetReport passes with both, UNAUTHENTICATED without the token, UNAVAILABLE without the certificate', async () => {
    const state = tempDir('kd-auth-eval-');
    cleanups.push(state.cleanup);
    const evaluator: EvaluatorProcess = await startEvaluatorProcess(['--state', join(state.dir, 'state'), ...serverFlags]);
    cleanups.push(() => evaluator.kill());
    const call = async (auth: ClientAuth) => {
      const c = new EvaluatorServiceClient(evaluator.address, channelCredentials(auth), clientOptions(auth));
      try {
        await getReport(c, { jobId: 'nojob' });
        return status.OK;
      } catch (error) {
        return (error as ServiceError).code;
      } finally {
        c.close();
      }
    };
    // NOT_FOUND: the call got past TLS and the token check to the handler
    assert.equal(await call(clientAuthFromEnv('KD_EVALUATOR', clientEnv('KD_EVALUATOR'))), status.NOT_FOUND);
    assert.equal(await call(clientAuthFromEnv('KD_EVALUATOR', clientEnv('KD_EVALUATOR', ['token']))), status.UNAUTHENTICATED);
    assert.equal(await call({ ...clientAuthFromEnv('KD_EVALUATOR', clientEnv('KD_EVALUATOR')), token: 'not-it' }), status.UNAUTHENTICATED);
    assert.equal(await call(clientAuthFromEnv('KD_EVALUATOR', clientEnv('KD_EVALUATOR', ['cert']))), status.UNAVAILABLE);
    assert.ok(!evaluator.stderr().includes(TOKEN), 'the token is never logged');
  });

  test('unusable TLS or token flags stop a service at start, naming the flag and the file', () => {
    const run = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', TEACHER_MAIN, '--weights', 'unused', ...args], { cwd: REPO, encoding: 'utf8', env: { ...process.env, KD_LOG_FORMAT: 'json' } });
    const halfPair = run(['--tls-cert', certs.serverCert]);
    assert.equal(halfPair.status, 1);
    assert.match(halfPair.stderr, /kd-teacher: error: --tls-cert needs --tls-key/);
    const missing = run(['--token-file', join(certs.dir, 'no-such-token')]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /--token-file .*no-such-token: cannot read it \(ENOENT\)/);
  });
});
