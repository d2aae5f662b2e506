// Tools the deploy tests run: kubectl (kustomize), promtool and prometheus (Debian's
// `prometheus` package, installed with apt-get when missing and this runs as root), and each
// service's own --help (the flags the manifests may use).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const DEPLOY = join(REPO, 'deploy');

/** Where a program is, or undefined. */
export function which(program: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' });
  const path = r.stdout.trim();
  return r.status === 0 && path ? path : undefined;
}

/**
 * Skip reason when `what` is missing, or false. Under CI=true nothing is skipped: a missing
 * tool fails the test instead (CI installs them, see .ci/run).
 */
export function skipUnless(available: boolean, what: string): string | false {
  if (available || process.env.CI === 'true') return false;
  return `${what} (CI=true makes this a failure)`;
}

const installTried = new Map<string, string | undefined>();

/**
 * Makes `program` available from Debian package `pkg`: already on PATH, or installed now with
 * apt-get (as root). Returns its path, or undefined after saying on stderr why it could not.
 */
export function ensureDebianProgram(program: string, pkg: string): string | undefined {
  const found = which(program);
  if (found) return found;
  if (installTried.has(pkg)) return which(program);
  let why: string | undefined;
  if (process.getuid?.() !== 0) why = 'not root';
  else if (!which('apt-get')) why = 'no apt-get';
  else {
    process.stderr.write(`test/deploy: ${program} is missing; installing Debian package ${pkg} (apt-get install -y ${pkg})\n`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    let r = spawnSync('apt-get', ['install', '-y', '-qq', pkg], { encoding: 'utf8', env });
    if (r.status !== 0) {
      spawnSync('apt-get', ['update', '-qq'], { encoding: 'utf8', env });
      r = spawnSync('apt-get', ['install', '-y', '-qq', pkg], { encoding: 'utf8', env });
    }
    if (r.status !== 0) why = `apt-get install ${pkg} failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' ')}`;
  }
  installTried.set(pkg, why);
  if (why) process.stderr.write(`test/deploy: cannot install ${pkg} for ${program}: ${why}\n`);
  return which(program);
}

/** `kubectl kustomize DIR` as parsed documents. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- manifests are free-form YAML; the tests check each field they read
export async function kustomize(dir: string): Promise<Array<Record<string, any>>> {
  const { default: YAML } = await import('yaml');
  const out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return YAML.parseAllDocuments(out).map((d) => d.toJSON()).filter(Boolean);
}

/** The long and short flags a service's --help lists (e.g. --weights, -o). */
export function serviceFlags(service: 'teacher' | 'trainer' | 'evaluator'): Promise<Set<string>> {
  const entry = join(REPO, 'services', service, 'src/main.ts');
  if (!existsSync(entry)) throw new Error(`no entry ${entry}`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', entry, '--help'], { cwd: REPO });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${service} --help exited ${code}`));
      // the Options block only (the text after it mentions flags too, e.g. of other commands)
      const start = out.indexOf('Options:');
      const options = out.slice(start, out.indexOf('\n\n', start) > 0 ? out.indexOf('\n\n', start) : undefined);
      resolve(new Set([...options.matchAll(/(?:^|\s|,)(--?[a-z][a-z0-9-]*)/gm)].map((m) => m[1])));
    });
  });
}
