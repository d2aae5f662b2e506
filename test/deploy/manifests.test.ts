// The Kubernetes manifests render (kubectl kustomize, both overlays) and agree with the code:
// every kd container runs `kd serve <service>` with flags that service has and -o keys its
// config has; ports, probes and Services line up; probe service names are the gRPC services;
// every KD_*/NATS_* variable is one the code reads and every $(NAME) is defined; the trainer
// reaches the headless teacher Service; NetworkPolicies select the pods they mean; the HPA
// scales on a metric the teacher exports. The compose stack and the images are checked the same way.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { NATS_AUTH_VARIABLES } from '@kd/bus';
import { loadConfig } from '@kd/config';
import { clientAuthVariables } from '@kd/grpc-auth';
import { EvaluatorServiceService, TeacherServiceService } from '@kd/proto';
import { TEACHER_METRIC_NAMES } from '@kd/teacher-service/metrics';
import { parseTeacherAddress, TEACHER_AUTH_PREFIX } from '@kd/trainer';
import { DEPLOY, REPO, kustomize, serviceFlags, skipUnless, which } from './tools.ts';

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type Service = 'teacher' | 'trainer' | 'evaluator';
const SERVICES: Service[] = ['teacher', 'trainer', 'evaluator'];

/** The gRPC service name a kd server registers, from its generated definition's method paths. */
const grpcServiceName = (def: Record<string, { path: string }>) => Object.values(def)[0].path.split('/')[1];
const HEALTH_NAMES: Record<string, string[]> = { teacher: ['', grpcServiceName(TeacherServiceService)], evaluator: ['', grpcServiceName(EvaluatorServiceService)] };

/** Source text of everything that reads the environment: libs, services, the image's healthcheck. */
function codeText(): string {
  const texts: string[] = [readFileSync(join(DEPLOY, 'docker/healthcheck.mjs'), 'utf8')];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (name === 'node_modules') continue;
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(ts|mjs)$/.test(name) && !name.endsWith('.test.ts')) texts.push(readFileSync(p, 'utf8'));
    }
  };
  walk(join(REPO, 'libs'));
  walk(join(REPO, 'services'));
  return texts.join('\n');
}
let code = '';
/** Variables read under names built at run time (the auth prefixes). */
const DERIVED = new Set([...Object.values(clientAuthVariables(TEACHER_AUTH_PREFIX)), ...Object.values(clientAuthVariables('KD_EVALUATOR')), ...Object.values(NATS_AUTH_VARIABLES)]);
const readByCode = (name: string) => DERIVED.has(name) || new RegExp(`\\b${name}\\b`).test(code);

let flags: Record<Service, Set<string>>;
before(async () => {
  code = codeText();
  flags = Object.fromEntries(await Promise.all(SERVICES.map(async (s) => [s, await serviceFlags(s)]))) as Record<Service, Set<string>>;
});

/** The kd service a container runs (args `serve <service> ...`), with its flags as name -> values. */
function kdCommand(args: string[]): { service: Service; flags: Map<string, string[]> } | undefined {
  if (args[0] !== 'serve' || !SERVICES.includes(args[1] as Service)) return undefined;
  const parsed = new Map<string, string[]>();
  for (let i = 2; i < args.length; i++) {
    assert.match(args[i], /^--?[a-z]/, `argument ${JSON.stringify(args[i])} of kd serve ${args[1]} is not a flag`);
    const next = args[i + 1];
    const value = next !== undefined && !/^--?[a-z]/.test(next) ? (i++, next) : '';
    parsed.set(args[i - (value === '' ? 0 : 1)], [...(parsed.get(args[i - (value === '' ? 0 : 1)]) ?? []), value]);
  }
  return { service: args[1] as Service, flags: parsed };
}

/** Checks a kd container's flags against its service's --help and its -o keys against the config. */
function checkFlags(where: string, cmd: { service: Service; flags: Map<string, string[]> }, substitute: (s: string) => string): void {
  for (const flag of cmd.flags.keys()) assert.ok(flags[cmd.service].has(flag), `${where}: kd serve ${cmd.service} has no flag ${flag}`);
  const config = cmd.flags.get('-c')?.[0] ?? cmd.flags.get('--config')?.[0];
  if (cmd.service === 'trainer') {
    assert.ok(config, `${where}: the trainer needs -c`);
    const overrides = (cmd.flags.get('-o') ?? []).map(substitute);
    assert.doesNotThrow(() => loadConfig(join(REPO, substitute(config)), overrides), `${where}: -o ${overrides.join(' -o ')}`);
  }
}

const manifestsSkip = skipUnless(which('kubectl') !== undefined, 'kubectl not available');

describe('Kubernetes manifests', { skip: manifestsSkip }, () => {
  for (const overlay of ['cpu', 'gpu']) {
    test(`overlays/${overlay} renders and agrees with the code`, async () => {
      const docs: Doc[] = await kustomize(join(DEPLOY, 'k8s/overlays', overlay));
      const byKind = (kind: string) => docs.filter((d) => d.kind === kind);
      const named = (kind: string, name: string) => {
        const d = docs.find((x) => x.kind === kind && x.metadata.name === name);
        assert.ok(d, `no ${kind} ${name}`);
        return d!;
      };
      for (const d of docs) if (d.kind !== 'Namespace') assert.equal(d.metadata.namespace, 'kd', `${d.kind} ${d.metadata.name}`);
      for (const kind of ['Deployment', 'Service', 'Job', 'ConfigMap', 'PersistentVolumeClaim', 'PodDisruptionBudget', 'HorizontalPodAutoscaler', 'ServiceMonitor', 'PodMonitor', 'PrometheusRule', 'NetworkPolicy']) {
        assert.ok(byKind(kind).length > 0, `no ${kind}`);
      }
      const configMaps = new Map(byKind('ConfigMap').map((c) => [c.metadata.name, c.data ?? {}]));
      const workloads = [...byKind('Deployment'), ...byKind('Job')];
      const pods = new Map<string, Doc>(); // service -> pod template

      for (const w of workloads) {
        const spec = w.spec.template.spec;
        const claims = new Set(byKind('PersistentVolumeClaim').map((c) => c.metadata.name));
        for (const v of spec.volumes ?? []) if (v.persistentVolumeClaim) assert.ok(claims.has(v.persistentVolumeClaim.claimName), `${w.metadata.name}: no claim ${v.persistentVolumeClaim.claimName}`);
        for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
          const where = `${overlay}: ${w.kind} ${w.metadata.name} container ${c.name}`;
          // the variables the container has: env, and every key of its envFrom ConfigMaps
          const vars = new Map<string, string>();
          for (const e of c.env ?? []) vars.set(e.name, e.value ?? '');
          for (const f of c.envFrom ?? []) {
            if (f.configMapRef) {
              assert.ok(configMaps.has(f.configMapRef.name), `${where}: no ConfigMap ${f.configMapRef.name}`);
              for (const [k, v] of Object.entries(configMaps.get(f.configMapRef.name)!)) vars.set(k, String(v));
            }
          }
          for (const name of vars.keys()) {
            if (/^(KD|NATS)_/.test(name)) assert.ok(readByCode(name), `${where}: no code reads ${name}`);
          }
          const text = [...(c.command ?? []), ...(c.args ?? [])].join(' ');
          for (const m of text.matchAll(/\$\(([A-Z_]+)\)|\$\{?([A-Z_]+)\}?/g)) {
            const name = m[1] ?? m[2];
            assert.ok(vars.has(name), `${where}: ${name} is used but not set`);
          }
          if (vars.has('KD_BACKEND')) assert.ok(['auto', 'tensorflow', 'wasm', 'cpu'].includes(vars.get('KD_BACKEND')!), `${where}: KD_BACKEND ${vars.get('KD_BACKEND')}`);
          const substitute = (s: string) => s.replace(/\$\(([A-Z_]+)\)/g, (_, n: string) => vars.get(n) ?? '');
          const cmd = kdCommand(c.args ?? []);
          if (c.name === 'dataset') continue;
          assert.ok(cmd, `${where}: args ${JSON.stringify(c.args)} are not "serve <service> ..."`);
          checkFlags(where, cmd!, substitute);
          pods.set(cmd!.service, w);
          const ports = new Map<string, number>((c.ports ?? []).map((p: Doc) => [p.name, p.containerPort]));
          const metricsPort = Number(cmd!.flags.get('--metrics-port')?.[0]);
          assert.equal(ports.get('metrics'), metricsPort, `${where}: containerPort "metrics" must be --metrics-port`);
          assert.equal(Number(vars.get('KD_HEALTHCHECK_PORT')), metricsPort, `${where}: KD_HEALTHCHECK_PORT must be --metrics-port`);
          assert.equal(cmd!.flags.get('--host')?.[0], '0.0.0.0', `${where}: --host 0.0.0.0, or nothing outside the pod reaches it`);
          if (cmd!.service === 'trainer') {
            const teacher = parseTeacherAddress(substitute(cmd!.flags.get('--teacher')![0]));
            const [, name, port] = /^dns:\/\/\/([^:]+):(\d+)$/.exec(teacher.targets[0]) ?? [];
            const svc = named('Service', name);
            assert.equal(svc.spec.clusterIP, 'None', 'trainers balance over the teachers only through a headless Service');
            assert.ok(svc.spec.ports.some((p: Doc) => p.port === Number(port) && p.name === 'grpc'), `${where}: Service ${name} has no grpc port ${port}`);
            continue;
          }
          const grpcPort = Number(cmd!.flags.get('--port')![0]);
          assert.equal(ports.get('grpc'), grpcPort, `${where}: containerPort "grpc" must be --port`);
          for (const kind of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
            const probe = c[kind];
            assert.ok(probe?.grpc, `${where}: ${kind} must be a native grpc probe`);
            assert.equal(probe.grpc.port, grpcPort, `${where}: ${kind} port`);
            assert.ok(HEALTH_NAMES[cmd!.service].includes(probe.grpc.service ?? ''), `${where}: ${kind} asks for health of ${probe.grpc.service}, which the ${cmd!.service} does not register`);
          }
          assert.ok(Number(cmd!.flags.get('--max-connection-age-s')?.[0] ?? 1) > 0 || cmd!.service !== 'teacher', `${where}: teachers need --max-connection-age-s`);
          const gpu = c.resources?.limits?.['nvidia.com/gpu'];
          if (cmd!.service === 'teacher' && overlay === 'gpu') {
            assert.equal(gpu, 1, `${where}: one GPU per teacher replica`);
            assert.equal(vars.get('KD_BACKEND'), 'tensorflow');
            assert.match(c.image, /:gpu$/);
            assert.ok(spec.tolerations?.length && spec.nodeSelector, `${where}: GPU toleration and node selector`);
          } else {
            assert.equal(gpu, undefined, `${where}: no GPU`);
            assert.match(c.image, /:cpu$/);
          }
        }
      }
      assert.deepEqual([...pods.keys()].sort(), [...SERVICES].sort());

      // Services select the pods they front, by ports the pods have
      const podLabels = (svc: Service) => pods.get(svc)!.spec.template.metadata.labels as Record<string, string>;
      const matches = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);
      const containerPorts = (svc: Service) => new Set(pods.get(svc)!.spec.template.spec.containers.flatMap((c: Doc) => (c.ports ?? []).map((p: Doc) => p.name)));
      for (const s of byKind('Service')) {
        const svc = SERVICES.find((x) => matches(s.spec.selector, podLabels(x)));
        assert.ok(svc, `Service ${s.metadata.name} selects no kd pod`);
        for (const p of s.spec.ports) assert.ok(containerPorts(svc!).has(p.targetPort), `Service ${s.metadata.name}: no container port ${p.targetPort}`);
      }
      for (const m of byKind('ServiceMonitor')) {
        const s = byKind('Service').find((x) => matches(m.spec.selector.matchLabels, x.metadata.labels ?? {}));
        assert.ok(s, `ServiceMonitor ${m.metadata.name} selects no Service`);
        assert.ok(s!.spec.ports.some((p: Doc) => p.name === m.spec.endpoints[0].port), `ServiceMonitor ${m.metadata.name}: Service has no port ${m.spec.endpoints[0].port}`);
        assert.equal(s!.metadata.labels[m.spec.jobLabel], m.metadata.name, 'job label = the job the dashboards query');
        assert.equal(m.spec.endpoints[0].honorLabels, true, 'kd\'s service/replica labels must survive');
      }
      for (const m of byKind('PodMonitor')) {
        const svc = SERVICES.find((x) => matches(m.spec.selector.matchLabels, podLabels(x)));
        assert.equal(svc, 'trainer', `PodMonitor ${m.metadata.name}`);
        assert.ok(containerPorts('trainer').has(m.spec.podMetricsEndpoints[0].port));
        assert.equal(podLabels('trainer')[m.spec.jobLabel], 'kd-trainer');
      }

      // the HPA scales the teacher Deployment on the teacher's queue metric
      const hpa = named('HorizontalPodAutoscaler', 'kd-teacher');
      assert.equal(hpa.spec.scaleTargetRef.name, pods.get('teacher')!.metadata.name);
      assert.equal(hpa.spec.metrics[0].pods.metric.name, TEACHER_METRIC_NAMES.queueDepth);
      const adapter = YAML.parse(readFileSync(join(DEPLOY, 'prometheus/adapter-values.yaml'), 'utf8'));
      assert.equal(adapter.rules.custom[0].name.as, TEACHER_METRIC_NAMES.queueDepth, 'the adapter serves the metric the HPA asks for');
      assert.ok(matches(named('PodDisruptionBudget', 'kd-teacher').spec.selector.matchLabels, podLabels('teacher')));

      // NetworkPolicies: trainers (only) reach teachers; trainers and the evaluator reach NATS; metrics only from monitoring
      const policy = (svc: Service) => byKind('NetworkPolicy').find((p) => matches(p.spec.podSelector.matchLabels, podLabels(svc)));
      const teacherPolicy = policy('teacher')!;
      const grpcFrom = teacherPolicy.spec.ingress.find((r: Doc) => r.ports.some((p: Doc) => p.port === 50051)).from[0].podSelector.matchLabels;
      assert.ok(matches(grpcFrom, podLabels('trainer')), 'trainers may reach teachers');
      assert.ok(!matches(grpcFrom, podLabels('evaluator')), 'the evaluator may not reach teachers');
      const nats = named('NetworkPolicy', 'kd-nats');
      const natsFrom = nats.spec.ingress.find((r: Doc) => r.ports.some((p: Doc) => p.port === 4222)).from[0].podSelector.matchLabels;
      for (const svc of ['trainer', 'evaluator'] as const) assert.ok(matches(natsFrom, podLabels(svc)), `${svc} may reach NATS`);
      assert.ok(!matches(natsFrom, podLabels('teacher')), 'teachers do not use NATS');
      for (const svc of SERVICES) {
        const p = policy(svc);
        assert.ok(p, `no NetworkPolicy for the ${svc}`);
        const metricsPort = pods.get(svc)!.spec.template.spec.containers[0].ports.find((x: Doc) => x.name === 'metrics').containerPort;
        const rule = p!.spec.ingress.find((r: Doc) => r.ports.some((x: Doc) => x.port === metricsPort));
        assert.ok(rule?.from[0].namespaceSelector, `${svc}: /metrics open to the monitoring namespace only`);
        assert.ok(!rule.from[0].podSelector, `${svc}: /metrics rule`);
      }
      assert.match(configMaps.get('kd-cluster')!.NATS_URL, /^nats:\/\/kd-nats:4222$/, 'the Helm release of deploy/nats/values.yaml');
    });
  }
});

describe('compose stack and images', () => {
  // merge keys: the compose file shares one x-kd block (<<: *kd)
  const compose = YAML.parse(readFileSync(join(DEPLOY, 'compose/compose.yaml'), 'utf8'), { merge: true });

  test('compose: every kd service runs with flags its service has; trainer, Prometheus and Grafana point at the right services and ports', () => {
    const services = compose.services as Record<string, Doc>;
    const ports = new Map<string, { grpc?: number; metrics?: number; service: Service }>();
    for (const [name, s] of Object.entries(services)) {
      const cmd = Array.isArray(s.command) ? kdCommand(s.command) : undefined;
      for (const v of Object.keys(s.environment ?? {})) if (/^(KD|NATS)_/.test(v)) assert.ok(readByCode(v), `compose ${name}: no code reads ${v}`);
      if (!cmd) continue;
      checkFlags(`compose ${name}`, cmd, (x) => x);
      const metrics = Number(cmd.flags.get('--metrics-port')?.[0]);
      assert.equal(Number(s.environment.KD_HEALTHCHECK_PORT), metrics, `compose ${name}: KD_HEALTHCHECK_PORT`);
      ports.set(name, { grpc: cmd.flags.has('--port') ? Number(cmd.flags.get('--port')![0]) : undefined, metrics, service: cmd.service });
    }
    assert.equal([...ports.values()].filter((p) => p.service === 'teacher').length, 2, 'two teacher replicas');
    const trainer = kdCommand(services.trainer.command)!;
    for (const target of parseTeacherAddress(trainer.flags.get('--teacher')![0]).targets) {
      const [host, port] = target.split(':');
      assert.equal(ports.get(host)?.service, 'teacher', `trainer --teacher ${target}`);
      assert.equal(ports.get(host)?.grpc, Number(port), `trainer --teacher ${target}`);
    }
    const prometheus = YAML.parse(readFileSync(join(DEPLOY, 'prometheus/prometheus.yml'), 'utf8'));
    const scraped = prometheus.scrape_configs.flatMap((j: Doc) => j.static_configs.flatMap((c: Doc) => c.targets));
    const expected = [...ports.entries()].map(([host, p]) => `${host}:${p.metrics}`);
    assert.deepEqual([...scraped].sort(), expected.sort(), 'Prometheus scrapes every kd service of the compose stack');
    for (const s of ['prometheus', 'grafana']) {
      for (const v of services[s].volumes) {
        const host = String(v).split(':')[0];
        if (host.startsWith('.')) assert.ok(existsSync(join(DEPLOY, 'compose', host)), `compose ${s}: ${host} does not exist`);
      }
    }
  });

  test('images: the GPU image installs tfjs-node-gpu in the engine\'s tfjs version; both run kd as a non-root user with a healthcheck', () => {
    const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8'));
    const tfjs = lock.packages['node_modules/@tensorflow/tfjs-core'].version;
    const gpu = readFileSync(join(DEPLOY, 'docker/Dockerfile.gpu'), 'utf8');
    assert.equal(/^ARG TFJS_VERSION=(\S+)$/m.exec(gpu)?.[1], tfjs, 'Dockerfile.gpu TFJS_VERSION must equal @tensorflow/tfjs-core in package-lock.json');
    assert.match(gpu, /@tensorflow\/tfjs-node-gpu@\$\{TFJS_VERSION\}/);
    assert.match(gpu, /KD_BACKEND=tensorflow/);
    assert.match(gpu, /^FROM \$\{CUDA_IMAGE\}/m);
    const cpu = readFileSync(join(DEPLOY, 'docker/Dockerfile'), 'utf8');
    assert.match(cpu, /KD_BACKEND=wasm/);
    for (const file of [cpu, gpu]) {
      assert.match(file, /npm ci --omit=dev/);
      assert.match(file, /^USER (?!root)\w+$/m);
      assert.match(file, /^HEALTHCHECK .*healthcheck\.mjs/m);
      const entry = /^ENTRYPOINT \["node", "([^"]+)"\]$/m.exec(file)?.[1];
      assert.ok(entry && existsSync(join(REPO, entry)), `ENTRYPOINT ${entry}`);
      for (const m of file.matchAll(/^COPY (?!--from)(?:--chown=\S+ )?(\S+)/gm)) if (m[1] !== 'package.json') assert.ok(existsSync(join(REPO, m[1])), `COPY ${m[1]}`);
    }
    for (const f of ['Dockerfile.dockerignore', 'Dockerfile.gpu.dockerignore']) assert.match(readFileSync(join(DEPLOY, 'docker', f), 'utf8'), /^\*\*\/node_modules$/m);
  });
});
