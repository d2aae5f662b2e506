// NATS credentials against a real nats-server that requires them: user + password (the bus
// publishes and consumes through JetStream), a .creds file (operator mode, JWTs signed here),
// and refusal without them. Bad settings are named, never printed.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { connect, nkeys } from 'nats';
import { CheckpointSaved, type EventPayload } from '@kd/proto';
import { BusConfigError, connectNatsBus, natsAuthOptions, type EventBus } from './index.ts';
import { delay, freePort, natsServerBinary, portOpen, skipUnless, stopProcess, waitFor } from './test_support.ts';

const binary = natsServerBinary();
const dir = mkdtempSync(join(tmpdir(), 'kd-nats-auth-'));
const servers: ChildProcess[] = [];
after(async () => {
  for (const s of servers) await stopProcess(s);
  rmSync(dir, { recursive: true, force: true });
});

/** nats-server with this config (listen line added) on a free port; resolves with its URL. */
async function startServer(name: string, config: string): Promise<string> {
  const port = await freePort();
  const file = join(dir, `${name}.conf`);
  writeFileSync(file, `listen: 127.0.0.1:${port}\n${config}\n`);
  const child = spawn(binary!, ['-c', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  servers.push(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  for (const end = Date.now() + 10_000; !(await portOpen(port, '127.0.0.1', 200)); await delay(30)) {
    if (child.exitCode !== null || Date.now() > end) throw new Error(`nats-server (${name}) did not start: ${stderr}`);
  }
  return `nats://127.0.0.1:${port}`;
}

/** Whether a plain nats.js connection with these options is accepted; the error text otherwise. */
async function tryConnect(url: string, options: object): Promise<true | string> {
  try {
    const nc = await connect({ servers: url, timeout: 2000, reconnect: false, ...options });
    await nc.close();
    return true;
  } catch (error) {
    return String((error as Error).message);
  }
}

// A JWT as nats-server's jwt library reads it: ed25519-nkey signed by the issuer's key.
const b64 = (b: Uint8Array | string) => Buffer.from(b).toString('base64url');
function jwt(issuer: ReturnType<typeof nkeys.createAccount>, subject: string, name: string, nats: Record<string, unknown>): string {
  const head = b64(JSON.stringify({ typ: 'JWT', alg: 'ed25519-nkey' }));
  const body = b64(JSON.stringify({ jti: `kd${Date.now()}${name}`, iat: Math.floor(Date.now() / 1000), iss: issuer.getPublicKey(), name, sub: subject, nats: { ...nats, version: 2 } }));
  return `${head}.${body}.${b64(issuer.sign(new TextEncoder().encode(`${head}.${body}`)))}`;
}

describe('NATS credentials', { skip: skipUnless(binary !== undefined, 'nats-server binary') }, () => {
  test('NATS_USER + NATS_PASSWORD: the bus publishes and consumes on a server that requires them; without them the server refuses', async () => {
    const url = await startServer('userpass', `jetstream { store_dir: "${join(dir, 'js')}" }\nauthorization { users = [ { user: kd, password: "pa55-word" } ] }`);
    assert.match(String(await tryConnect(url, {})), /Authorization Violation/i);
    assert.match(String(await tryConnect(url, natsAuthOptions({ NATS_USER: 'kd', NATS_PASSWORD: 'wrong' }))), /Authorization Violation/i);

    const saved = { NATS_USER: process.env.NATS_USER, NATS_PASSWORD: process.env.NATS_PASSWORD };
    Object.assign(process.env, { NATS_USER: 'kd', NATS_PASSWORD: 'pa55-word' }); // as a Secret's env would (this file is its own process)
    const logs: string[] = [];
    let bus: EventBus | undefined;
    try {
      bus = await connectNatsBus(url, { log: (l) => logs.push(l), closeTimeoutMs: 1000 });
      const got: number[] = [];
      await bus.consume('evaluator', 'kd.authjob.checkpoint_saved', async (e) => void got.push((e.payload as { step: number }).step));
      const event: EventPayload<'checkpoint_saved'> = CheckpointSaved.fromPartial({ jobId: 'authjob', step: 7, path: 'runs/authjob/model_7' });
      await bus.publish('authjob', 'checkpoint_saved', event);
      await waitFor('the event through JetStream', () => got.length === 1);
      assert.deepEqual(got, [7]);
      assert.ok(!logs.join('\n').includes('pa55-word'), logs.join('\n'));
    } finally {
      await bus?.close();
      for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
    }
  });

  test('NATS_CREDS: a .creds file (user JWT + seed) is accepted by a server in operator mode; another account\'s user is not', async () => {
    const operator = nkeys.createOperator();
    const account = nkeys.createAccount();
    const user = nkeys.createUser();
    const opJwt = jwt(operator, operator.getPublicKey(), 'kd-op', { type: 'operator' });
    const accJwt = jwt(operator, account.getPublicKey(), 'kd', { type: 'account', limits: { subs: -1, conn: -1, leaf: -1, imports: -1, exports: -1, data: -1, payload: -1, wildcards: true } });
    const userJwt = jwt(account, user.getPublicKey(), 'trainer', { type: 'user', pub: {}, sub: {}, subs: -1, data: -1, payload: -1 });
    const creds = (token: string, seed: Uint8Array) =>
      `-----BEGIN NATS USER JWT-----\n${token}\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n${new TextDecoder().decode(seed)}\n------END USER NKEY SEED------\n`;
    const good = join(dir, 'kd.creds');
    writeFileSync(good, creds(userJwt, user.getSeed()));
    // signed by an account the server does not know
    const stranger = nkeys.createAccount();
    const bad = join(dir, 'stranger.creds');
    writeFileSync(bad, creds(jwt(stranger, user.getPublicKey(), 'x', { type: 'user', pub: {}, sub: {}, subs: -1, data: -1, payload: -1 }), user.getSeed()));

    const url = await startServer('operator', `operator: "${opJwt}"\nresolver: MEMORY\nresolver_preload: { ${account.getPublicKey()}: "${accJwt}" }`);
    assert.equal(await tryConnect(url, natsAuthOptions({ NATS_CREDS: good })), true);
    assert.notEqual(await tryConnect(url, natsAuthOptions({ NATS_CREDS: bad })), true);
    assert.notEqual(await tryConnect(url, {}), true);
  });

  test('NATS_TOKEN is sent as the server\'s token', async () => {
    const url = await startServer('token', 'authorization { token: "t0ken" }');
    assert.equal(await tryConnect(url, natsAuthOptions({ NATS_TOKEN: 't0ken' })), true);
    assert.notEqual(await tryConnect(url, natsAuthOptions({})), true);
  });

  test('bad settings name the variable, never the secret', () => {
    const notCreds = join(dir, 'not.creds');
    writeFileSync(notCreds, 'hello');
    const cases: Array<[NodeJS.ProcessEnv, RegExp]> = [
      [{ NATS_USER: 'kd' }, /NATS_USER is set without NATS_PASSWORD/],
      [{ NATS_PASSWORD: 'hush' }, /NATS_PASSWORD is set without NATS_USER/],
      [{ NATS_CREDS: join(dir, 'missing.creds') }, /NATS_CREDS=.*missing\.creds: cannot read it \(ENOENT\)/],
      [{ NATS_CREDS: notCreds }, /NATS_CREDS=.*not\.creds: not a NATS \.creds file/],
      [{ NATS_TOKEN: 'hush', NATS_USER: 'kd', NATS_PASSWORD: 'hush' }, /NATS_USER\/NATS_PASSWORD and NATS_TOKEN are both set/],
    ];
    for (const [env, message] of cases) {
      assert.throws(() => natsAuthOptions(env), (e: Error) => e instanceof BusConfigError && message.test(e.message) && !e.message.includes('hush'), JSON.stringify(env));
    }
    assert.deepEqual(natsAuthOptions({}), {});
  });
});
