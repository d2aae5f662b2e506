// TLS, mutual TLS and tokens against a real grpc-js server on port 0: the right client gets
// through, every client short of a certificate or token is refused, health checks stay open,
// and each bad setting is named.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Server, status, type ServiceError } from '@grpc/grpc-js';
import {
  AuthConfigError, channelCredentials, clientAuthFromEnv, clientOptions, describeClientAuth, serverAuth, type ClientAuth, type RefusedCall,
  type ServerAuthSettings,
} from './index.ts';
import { makeTestCertificates, opensslAvailable, type TestCertificates } from './test_support.ts';

const identity = (b: Buffer) => b;
const ECHO = {
  say: { path: '/kd.test.Echo/Say', requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
};
// stands in for grpc.health.v1 (the exemption goes by method path)
const HEALTH_PATH = '/grpc.health.v1.Health/Check';
const HEALTH = { check: { ...ECHO.say, path: HEALTH_PATH } };

const skip = opensslAvailable() ? false : 'openssl not available';
let certs: TestCertificates;
before(() => {
  if (!skip) certs = makeTestCertificates();
});
after(() => certs?.cleanup());

/** An Echo server (plus a health Check) with these auth settings on 127.0.0.1:0. */
async function startServer(settings: ServerAuthSettings) {
  const auth = serverAuth(settings);
  const refused: RefusedCall[] = [];
  const server = new Server({ interceptors: auth.interceptors((c) => refused.push(c)) });
  server.addService(ECHO, { say: (call: { request: Buffer }, cb: (e: null, r: Buffer) => void) => cb(null, call.request) });
  server.addService(HEALTH, { check: (_call: unknown, cb: (e: null, r: Buffer) => void) => cb(null, Buffer.alloc(0)) });
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', auth.credentials, (e, p) => (e ? rej(e) : res(p))));
  return { port, refused, auth, close: () => server.forceShutdown() };
}

/** One unary call with a 5 s deadline; resolves with the status code (0 = OK). */
function call(port: number, auth: ClientAuth | undefined, path = ECHO.say.path): Promise<{ code: number; details: string }> {
  const client = new Client(`127.0.0.1:${port}`, channelCredentials(auth), clientOptions(auth));
  const body = path === HEALTH_PATH ? Buffer.alloc(0) : Buffer.from('hello');
  return new Promise((resolve) => {
    client.makeUnaryRequest(path, identity, identity, body, { deadline: Date.now() + 5000 }, (error: ServiceError | null) => {
      client.close();
      resolve({ code: error?.code ?? status.OK, details: error?.details ?? '' });
    });
  });
}

const read = (f: string) => new Uint8Array(readFileSync(f));

describe('gRPC auth', { skip }, () => {
  test('mutual TLS + token: the right client gets through; no token, a wrong one, no client certificate or a foreign one are refused', async () => {
    const tokenFile = join(certs.dir, 'token');
    writeFileSync(tokenFile, 's3cret-token\n');
    const server = await startServer({ tlsCert: certs.serverCert, tlsKey: certs.serverKey, tlsCa: certs.ca, tokenFile });
    try {
      assert.equal(server.auth.transport, 'mutual-tls');
      const good: ClientAuth = { tls: true, ca: read(certs.ca), cert: read(certs.clientCert), key: read(certs.clientKey), token: 's3cret-token' };
      assert.equal((await call(server.port, good)).code, status.OK);
      assert.equal(describeClientAuth(good), 'mutual-tls, token');

      const noToken = await call(server.port, { ...good, token: undefined });
      assert.equal(noToken.code, status.UNAUTHENTICATED, noToken.details);
      const wrong = await call(server.port, { ...good, token: 's3cret-tokeN' });
      assert.equal(wrong.code, status.UNAUTHENTICATED, wrong.details);
      assert.deepEqual(server.refused.map((r) => [r.method, r.reason]), [[ECHO.say.path, 'no bearer token'], [ECHO.say.path, 'wrong bearer token']]);
      assert.ok(!JSON.stringify(server.refused).includes('s3cret'), 'a refused call is reported without any token');

      // the health check needs no token (Kubernetes' gRPC probes send none), but still the certificate
      assert.equal((await call(server.port, { ...good, token: undefined }, HEALTH_PATH)).code, status.OK);

      for (const [what, auth] of [
        ['no client certificate', { tls: true, ca: read(certs.ca), token: 's3cret-token' }],
        ['a client certificate of another CA', { tls: true, ca: read(certs.ca), cert: read(certs.otherClientCert), key: read(certs.otherClientKey), token: 's3cret-token' }],
        ['plaintext', { tls: false, token: 's3cret-token' }],
      ] as const) {
        const r = await call(server.port, auth);
        assert.equal(r.code, status.UNAVAILABLE, `${what}: ${r.details}`);
      }
    } finally {
      server.close();
    }
  });

  test('TLS without client certificates: a client that does not trust the server\'s CA is refused', async () => {
    const server = await startServer({ tlsCert: certs.serverCert, tlsKey: certs.serverKey });
    try {
      assert.equal(server.auth.transport, 'tls');
      assert.equal((await call(server.port, { tls: true, ca: read(certs.ca) })).code, status.OK);
      assert.equal((await call(server.port, { tls: true, ca: read(certs.otherCa) })).code, status.UNAVAILABLE);
      // the certificate names localhost and 127.0.0.1; another expected name fails verification
      assert.equal((await call(server.port, { tls: true, ca: read(certs.ca), serverName: 'kd-teacher.example' })).code, status.UNAVAILABLE);
    } finally {
      server.close();
    }
  });

  test('a token without TLS: checked the same way', async () => {
    const tokenFile = join(certs.dir, 'plain-token');
    writeFileSync(tokenFile, 'abc');
    const server = await startServer({ tokenFile });
    try {
      assert.equal((await call(server.port, { tls: false, token: 'abc' })).code, status.OK);
      assert.equal((await call(server.port, undefined)).code, status.UNAUTHENTICATED);
    } finally {
      server.close();
    }
  });

  test('bad server settings name the flag and the file', () => {
    const notPem = join(certs.dir, 'not.pem');
    writeFileSync(notPem, 'hello');
    const empty = join(certs.dir, 'empty-token');
    writeFileSync(empty, '\n');
    const cases: Array<[ServerAuthSettings, RegExp]> = [
      [{ tlsCert: certs.serverCert }, /--tls-cert needs --tls-key/],
      [{ tlsKey: certs.serverKey }, /--tls-key needs --tls-cert/],
      [{ tlsCa: certs.ca }, /--tls-ca .* needs --tls-cert and --tls-key/],
      [{ tlsCert: join(certs.dir, 'missing.pem'), tlsKey: certs.serverKey }, /--tls-cert .*missing\.pem: cannot read it \(ENOENT\)/],
      [{ tlsCert: notPem, tlsKey: certs.serverKey }, /--tls-cert .*not\.pem: not a PEM certificate/],
      [{ tlsCert: certs.serverCert, tlsKey: certs.clientKey }, /--tls-cert .*server\.pem \/ --tls-key .*client\.key: .*key values mismatch/],
      [{ tokenFile: empty }, /--token-file .*empty-token: the token is empty/],
    ];
    for (const [settings, message] of cases) assert.throws(() => serverAuth(settings), (e: Error) => e instanceof AuthConfigError && message.test(e.message), JSON.stringify(settings));
  });

  test('client settings from KD_<SERVICE>_* variables; bad ones named', () => {
    const tokenFile = join(certs.dir, 'client-token');
    writeFileSync(tokenFile, 'tok\n');
    const auth = clientAuthFromEnv('KD_X', { KD_X_TLS_CA: certs.ca, KD_X_TLS_CERT: certs.clientCert, KD_X_TLS_KEY: certs.clientKey, KD_X_TOKEN_FILE: tokenFile });
    assert.equal(auth.tls, true);
    assert.equal(auth.token, 'tok');
    assert.equal(describeClientAuth(auth), 'mutual-tls, token');
    assert.deepEqual(clientAuthFromEnv('KD_X', {}), { tls: false });
    assert.equal(clientAuthFromEnv('KD_X', { KD_X_TLS: '1' }).tls, true);
    const cases: Array<[NodeJS.ProcessEnv, RegExp]> = [
      [{ KD_X_TLS_CERT: certs.clientCert }, /KD_X_TLS_CERT needs KD_X_TLS_KEY/],
      [{ KD_X_TOKEN: 'a', KD_X_TOKEN_FILE: tokenFile }, /KD_X_TOKEN and KD_X_TOKEN_FILE are both set/],
      [{ KD_X_TOKEN: 'has space' }, /KD_X_TOKEN: the token must be printable ASCII/],
      [{ KD_X_TLS_CA: join(certs.dir, 'nope.pem') }, /KD_X_TLS_CA .*nope\.pem: cannot read it/],
      [{ KD_X_TLS: 'yes' }, /KD_X_TLS=yes: expected 1 or 0/],
    ];
    for (const [env, message] of cases) assert.throws(() => clientAuthFromEnv('KD_X', env), (e: Error) => e instanceof AuthConfigError && message.test(e.message), JSON.stringify(env));
    assert.throws(() => clientAuthFromEnv('KD_X', { KD_X_TOKEN: 'has space' }), (e: Error) => !e.message.includes('has space'), 'the error never prints the token');
  });
});
