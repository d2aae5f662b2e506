// Test helpers (`@kd/grpc-auth/testing`): self-signed certificates made with openssl at run
// time, so no key is ever committed. Two CAs: clients signed by the other one must be refused.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificates {
  dir: string;
  /** The CA the server trusts and that signed serverCert and clientCert. */
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** Another CA, and a client certificate it signed: a server trusting `ca` refuses it. */
  otherCa: string;
  otherClientCert: string;
  otherClientKey: string;
  cleanup(): void;
}

/** Whether openssl runs here. */
export function opensslAvailable(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const openssl = (args: string[], cwd: string) => execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function makeCa(dir: string, name: string): void {
  openssl(['req', '-x509', ...EC, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=${name}`], dir);
}

function makeLeaf(dir: string, name: string, ca: string, usage: 'serverAuth' | 'clientAuth'): void {
  writeFileSync(join(dir, `${name}.ext`), `subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=${usage}\n`);
  openssl(['req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`], dir);
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`], dir);
}

/** A CA, a server certificate for localhost/127.0.0.1, a client certificate, and a foreign CA's client; in a temp folder. */
export function makeTestCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'kd-certs-'));
  makeCa(dir, 'ca');
  makeLeaf(dir, 'server', 'ca', 'serverAuth');
  makeLeaf(dir, 'client', 'ca', 'clientAuth');
  makeCa(dir, 'other-ca');
  makeLeaf(dir, 'other-client', 'other-ca', 'clientAuth');
  const p = (f: string) => join(dir, f);
  return {
    dir, ca: p('ca.pem'), serverCert: p('server.pem'), serverKey: p('server.key'), clientCert: p('client.pem'), clientKey: p('client.key'),
    otherCa: p('other-ca.pem'), otherClientCert: p('other-client.pem'), otherClientKey: p('other-client.key'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
