/**
 * The production packaging checked against the code, without a cluster or Docker: every process of the catalog
 * (the gateway and each remote subgraph) has a Kubernetes Deployment, Service, HorizontalPodAutoscaler and
 * PodDisruptionBudget in deploy/kubernetes/; its probes use paths the process serves on ports it listens on; every
 * setting the process requires in production comes from a Secret; and the Dockerfile builds one image that runs
 * the compiled entry points. What each process serves and requires is read from the code's own constants.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { GATEWAY_LISTEN, PRODUCTION_REQUIRED } from '../gateway/config.js';
import { GATEWAY_HEALTH } from '../gateway/health.js';
import { SUBGRAPHS, type SubgraphEntry } from '../subgraphs/catalog.js';
import { REPLICATED_REQUIRED, SUBGRAPH_PRODUCTION_REQUIRED, settingName, type RequiredSetting } from '../common/production.js';
import { loadRegistry } from '../subgraphs/kit/registry.js';
import { DIRECTORY_PRODUCTION_REQUIRED } from '../subgraphs/directory/client.js';
import { repoRoot } from '../subgraphs/kit/schema.js';
import { SUBGRAPH_HEALTH, SUBGRAPH_LISTEN } from '../subgraphs/kit/server.js';

const MANIFESTS = `${repoRoot}deploy/kubernetes/`;

/** A Kubernetes object as parsed from YAML (only the fields checked here are typed loosely). */
type K8s = { kind: string; metadata: { name: string; labels?: Record<string, string> }; spec?: any };

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean }; configMapKeyRef?: unknown };
}

/** One production process as the code defines it: how it starts, where it listens, what it serves and needs. */
interface Process {
  name: string;
  /** The source entry point; the image runs its compiled twin under dist/. */
  entry: string;
  /** V8 flags it runs with, before the entry point. */
  v8Flags: readonly string[];
  hostEnv: string;
  /** Listen ports: the environment variable that sets each, its default, and the paths served there. */
  ports: { env: string; default: number; serves: readonly string[]; public: boolean }[];
  live: string;
  ready: string;
  required: readonly RequiredSetting[];
}

/** What a subgraph requires in production beyond the kit's list, declared where it is checked. */
const OWN_PRODUCTION_REQUIRED: Record<string, readonly RequiredSetting[]> = { directory: DIRECTORY_PRODUCTION_REQUIRED };

/** Supplier credentials a subgraph reads at start-up: the environment variables the registry names for its kinds. */
function supplierCredentials(entry: SubgraphEntry): string[] {
  const registry = loadRegistry(`${repoRoot}config/suppliers.sandbox.json`, {});
  const kinds = entry.books?.kinds ?? [];
  return registry.systems.flatMap((s) => (kinds.includes(s.kind) && s.kind === 'PAS_REST' ? [s.apiKeyEnv] : []));
}

function productionProcesses(): Process[] {
  const gateway: Process = {
    name: 'gateway',
    entry: 'gateway/index.ts',
    v8Flags: [],
    hostEnv: GATEWAY_LISTEN.hostEnv,
    ports: [
      { env: GATEWAY_LISTEN.port.env, default: GATEWAY_LISTEN.port.default, serves: [GATEWAY_HEALTH.live], public: true },
      { env: GATEWAY_LISTEN.internalPort.env, default: GATEWAY_LISTEN.internalPort.default, serves: [GATEWAY_HEALTH.live, GATEWAY_HEALTH.ready], public: false },
    ],
    live: GATEWAY_HEALTH.live,
    ready: GATEWAY_HEALTH.ready,
    required: PRODUCTION_REQUIRED,
  };
  const subgraphs = SUBGRAPHS.flatMap((s): Process[] =>
    s.remote
      ? [
          {
            name: s.name,
            entry: `${s.dir}/index.ts`,
            v8Flags: s.remote.v8Flags ?? [],
            hostEnv: SUBGRAPH_LISTEN.hostEnv,
            ports: [{ env: s.remote.portEnv, default: s.remote.defaultPort, serves: [SUBGRAPH_HEALTH.live, SUBGRAPH_HEALTH.ready], public: true }],
            live: SUBGRAPH_HEALTH.live,
            ready: SUBGRAPH_HEALTH.ready,
            required: [...SUBGRAPH_PRODUCTION_REQUIRED, ...(OWN_PRODUCTION_REQUIRED[s.name] ?? []), ...supplierCredentials(s)],
          },
        ]
      : [],
  );
  return [gateway, ...subgraphs];
}

function loadManifests(): K8s[] {
  return readdirSync(MANIFESTS)
    .filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml')
    .flatMap((f) =>
      parseAllDocuments(readFileSync(`${MANIFESTS}${f}`, 'utf8')).map((d) => {
        if (d.errors.length) throw new Error(`${f}: ${d.errors[0]!.message}`);
        return d.toJS() as K8s;
      }),
    )
    .filter(Boolean);
}

const matches = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined) =>
  !!selector && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v);

/** Everything wrong with the manifests, as sentences naming the process; empty when they match the code. */
function manifestProblems(docs: K8s[], processes: Process[] = productionProcesses()): string[] {
  const problems: string[] = [];
  const of = (kind: string) => docs.filter((d) => d?.kind === kind);
  const secretRefs = new Map<string, string>();

  for (const p of processes) {
    const say = (m: string) => problems.push(`${p.name}: ${m}`);
    const dep = of('Deployment').find((d) => d.metadata.name === p.name);
    if (!dep) {
      say('no Deployment');
      continue;
    }
    const podLabels: Record<string, string> = dep.spec?.template?.metadata?.labels ?? {};
    if (!matches(dep.spec?.selector?.matchLabels, podLabels)) say('the Deployment selector does not match its pod labels');
    const pod = dep.spec?.template?.spec ?? {};
    const containers: any[] = pod.containers ?? [];
    if (containers.length !== 1) {
      say(`expected one container, found ${containers.length}`);
      continue;
    }
    const c = containers[0];
    const env = new Map<string, EnvVar>((c.env ?? []).map((e: EnvVar) => [e.name, e]));
    const plain = (name: string) => env.get(name)?.value;

    // The compiled entry point, with no TypeScript loader.
    const command = [...(c.command ?? []), ...(c.args ?? [])].join(' ');
    const compiled = `dist/${p.entry.replace(/\.ts$/, '.js')}`;
    const expected = ['node', ...p.v8Flags, compiled].join(' ');
    if (command !== expected) say(`command is "${command}", expected "${expected}"`);
    if (!existsSync(`${repoRoot}${p.entry}`)) say(`${p.entry} does not exist`);
    if (/tsx|--import|--loader|--require/.test(`${command} ${plain('NODE_OPTIONS') ?? ''}`)) say('starts with a TypeScript loader');
    if (plain('NODE_ENV') !== 'production') say('NODE_ENV is not production');

    // Where it listens: reachable from the kubelet and other pods (not loopback), on the ports it declares.
    if (plain(p.hostEnv) !== '0.0.0.0') say(`${p.hostEnv} must be 0.0.0.0 (the default listens on loopback only, out of the probes' reach)`);
    const listening = p.ports.map((port) => ({ ...port, number: Number(plain(port.env) ?? port.default) }));
    const containerPorts: { name?: string; containerPort: number }[] = c.ports ?? [];
    const resolvePort = (ref: unknown) => (typeof ref === 'number' ? ref : containerPorts.find((cp) => cp.name === ref)?.containerPort);
    for (const l of listening) {
      if (!containerPorts.some((cp) => cp.containerPort === l.number)) say(`port ${l.number} (${l.env}) is not a container port`);
    }
    for (const cp of containerPorts) {
      if (!listening.some((l) => l.number === cp.containerPort)) say(`container port ${cp.containerPort} is not a port the process listens on`);
    }
    const probe = (kind: 'livenessProbe' | 'readinessProbe', path: string) => {
      const get = c[kind]?.httpGet;
      if (!get) return say(`no ${kind} (httpGet)`);
      const port = resolvePort(get.port);
      const at = listening.find((l) => l.number === port);
      if (!at) return say(`${kind} port ${String(get.port)} is not a port the process listens on`);
      if (!at.serves.includes(get.path)) return say(`${kind} path ${get.path} is not served on port ${port} (${at.env}), which serves ${at.serves.join(', ')}`);
      if (get.path !== path) say(`${kind} uses ${get.path}, expected ${path}`);
    };
    probe('livenessProbe', p.live);
    probe('readinessProbe', p.ready);

    // Hardening and resources.
    const sc = { ...pod.securityContext, ...c.securityContext };
    if (sc.runAsNonRoot !== true) say('runAsNonRoot is not true');
    if (sc.readOnlyRootFilesystem !== true) say('readOnlyRootFilesystem is not true');
    if (sc.allowPrivilegeEscalation !== false) say('allowPrivilegeEscalation is not false');
    if (!c.resources?.requests?.cpu || !c.resources?.requests?.memory || !c.resources?.limits?.memory) say('resources need cpu and memory requests and a memory limit');

    // A Service for it, on its public port only.
    const svc = of('Service').find((s) => matches(s.spec?.selector, podLabels));
    if (!svc) say('no Service selects its pods');
    else {
      for (const sp of svc.spec.ports ?? []) {
        const target = resolvePort(sp.targetPort ?? sp.port);
        const l = listening.find((x) => x.number === target);
        if (!l) say(`Service port ${sp.port} targets ${String(sp.targetPort)}, not a port the process listens on`);
        else if (!l.public) say(`Service exposes the internal port ${target} (${l.env})`);
      }
    }
    const hpa = of('HorizontalPodAutoscaler').find((h) => h.spec?.scaleTargetRef?.kind === 'Deployment' && h.spec.scaleTargetRef.name === p.name);
    if (!hpa) say('no HorizontalPodAutoscaler');
    if (!of('PodDisruptionBudget').some((b) => matches(b.spec?.selector?.matchLabels, podLabels))) say('no PodDisruptionBudget');

    // Required production settings, each from a Secret (one of each "A or B" group). Replicas need shared state.
    const replicated = (hpa?.spec?.maxReplicas ?? dep.spec?.replicas ?? 1) > 1;
    const required = [...p.required, ...(replicated ? REPLICATED_REQUIRED : [])];
    for (const r of required) {
      const names = typeof r === 'string' ? [r] : r;
      const fromSecret = names.filter((n) => {
        const ref = env.get(n)?.valueFrom?.secretKeyRef;
        return ref && ref.optional !== true;
      });
      if (fromSecret.length === 0) say(`${settingName(r)} must be set from a Secret (required in production${replicated && REPLICATED_REQUIRED.includes(r) ? ' with more than one replica' : ''})`);
    }
    // Keys every process must share: the same Secret key everywhere, or signatures and global ids do not verify.
    for (const shared of ['INTERNAL_AUTH_KEY', 'ID_SIGNING_KEY']) {
      const ref = env.get(shared)?.valueFrom?.secretKeyRef;
      const id = ref ? `${ref.name}/${ref.key}` : 'unset';
      const seen = secretRefs.get(shared);
      if (seen === undefined) secretRefs.set(shared, id);
      else if (seen !== id) say(`${shared} comes from ${id}, other processes from ${seen}`);
    }
  }

  // The gateway reaches each subgraph through its Service, on the port the subgraph listens on.
  const gw = of('Deployment').find((d) => d.metadata.name === 'gateway')?.spec?.template?.spec?.containers?.[0];
  const gwEnv = new Map<string, EnvVar>((gw?.env ?? []).map((e: EnvVar) => [e.name, e]));
  for (const s of SUBGRAPHS) {
    if (!s.remote || !gw) continue;
    const url = gwEnv.get(s.remote.urlEnv)?.value;
    const m = url ? /^http:\/\/([a-z0-9-]+)(?:\.[a-z0-9.-]+)?:(\d+)\/graphql$/.exec(url) : null;
    if (!m) {
      problems.push(`gateway: ${s.remote.urlEnv} must be http://<service>:<port>/graphql, is ${url ?? 'unset'}`);
      continue;
    }
    const svc = of('Service').find((x) => x.metadata.name === m[1]);
    const sp = svc?.spec?.ports?.find((x: { port: number }) => x.port === Number(m[2]));
    if (!sp) problems.push(`gateway: ${s.remote.urlEnv} names ${m[1]}:${m[2]}, which no Service port provides`);
    else if (!matches(svc!.spec.selector, of('Deployment').find((d) => d.metadata.name === s.name)?.spec?.template?.metadata?.labels)) {
      problems.push(`gateway: ${s.remote.urlEnv} names Service ${m[1]}, which does not select the ${s.name} pods`);
    }
  }
  return problems;
}

describe('Kubernetes manifests (deploy/kubernetes)', () => {
  const docs = loadManifests();

  it('cover every production process of the catalog, with probes, ports and Secrets that match the code', () => {
    expect(productionProcesses().map((p) => p.name)).toEqual(['gateway', ...SUBGRAPHS.filter((s) => s.remote).map((s) => s.name)]);
    expect(manifestProblems(docs)).toEqual([]);
  });

  it('list every manifest file in the kustomization, and no sandbox simulator', () => {
    const kustomization = parseAllDocuments(readFileSync(`${MANIFESTS}kustomization.yaml`, 'utf8'))[0]!.toJS() as { resources: string[] };
    const files = readdirSync(MANIFESTS).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml');
    expect([...kustomization.resources].sort()).toEqual(files.sort());
    expect(docs.filter((d) => d.kind === 'Deployment').map((d) => d.metadata.name).sort()).toEqual(productionProcesses().map((p) => p.name).sort());
  });

  it('are caught when a Deployment is missing, a probe is wrong or a required setting is absent', () => {
    const copy = () => structuredClone(docs);
    const container = (d: K8s[], name: string) => d.find((x) => x.kind === 'Deployment' && x.metadata.name === name)!.spec.template.spec.containers[0];

    const noDeployment = copy().filter((d) => !(d.kind === 'Deployment' && d.metadata.name === 'pas-rest'));
    expect(manifestProblems(noDeployment)).toContain('pas-rest: no Deployment');

    const wrongPath = copy();
    container(wrongPath, 'directory').livenessProbe.httpGet.path = '/healthz';
    expect(manifestProblems(wrongPath).join('\n')).toMatch(/directory: livenessProbe path \/healthz is not served on port 4001/);

    // Readiness on the public port: the gateway serves /health/ready on its internal port only.
    const publicReady = copy();
    container(publicReady, 'gateway').readinessProbe.httpGet.port = 'http';
    expect(manifestProblems(publicReady).join('\n')).toMatch(/gateway: readinessProbe path \/health\/ready is not served on port 4000/);

    const wrongPort = copy();
    container(wrongPort, 'smart-links').readinessProbe.httpGet.port = 4999;
    expect(manifestProblems(wrongPort).join('\n')).toMatch(/smart-links: readinessProbe port 4999 is not a port the process listens on/);

    const noSecret = copy();
    const gw = container(noSecret, 'gateway');
    gw.env = gw.env.filter((e: EnvVar) => e.name !== 'IDEMPOTENCY_SECRET' && e.name !== 'AUTH_JWKS_URL');
    const gwProblems = manifestProblems(noSecret);
    expect(gwProblems).toContain('gateway: IDEMPOTENCY_SECRET must be set from a Secret (required in production)');
    expect(gwProblems).toContain('gateway: AUTH_PUBLIC_KEY_FILE or AUTH_JWKS_URL must be set from a Secret (required in production)');

    const noCredential = copy();
    const pas = container(noCredential, 'pas-rest');
    pas.env = pas.env.filter((e: EnvVar) => e.name !== 'OAKFIELD_PAS_API_KEY');
    expect(manifestProblems(noCredential)).toContain('pas-rest: OAKFIELD_PAS_API_KEY must be set from a Secret (required in production)');

    const noDos = copy();
    const dir = container(noDos, 'directory');
    dir.env = dir.env.filter((e: EnvVar) => e.name !== 'DOS_API_PASSWORD');
    expect(manifestProblems(noDos)).toContain('directory: DOS_API_PASSWORD must be set from a Secret (required in production)');

    const loopback = copy();
    const bs = container(loopback, 'booking-standard');
    bs.env = bs.env.filter((e: EnvVar) => e.name !== 'SUBGRAPH_HOST');
    expect(manifestProblems(loopback).join('\n')).toMatch(/booking-standard: SUBGRAPH_HOST must be 0.0.0.0/);
  });
});

describe('production build and image definition', () => {
  it('compiles every process entry point, and nothing from sandbox/, scripts/ or tests', () => {
    const build = JSON.parse(readFileSync(`${repoRoot}tsconfig.build.json`, 'utf8')) as { files: string[]; include?: string[]; compilerOptions: { outDir: string } };
    expect(build.compilerOptions.outDir).toBe('dist');
    // Each subgraph's entry by one pattern (a new adapter's index.ts is compiled without an edit here).
    expect(build.include ?? []).toEqual(['subgraphs/*/index.ts']);
    const subgraphEntries = readdirSync(`${repoRoot}subgraphs`, { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(`${repoRoot}subgraphs/${d.name}/index.ts`))
      .map((d) => `subgraphs/${d.name}/index.ts`);
    // Compiled, not deployed: the gateway-owned operations as their own subgraph, run only beside another federation
    // engine (README, "Another federation engine"); our gateway hosts them in-process.
    const optional = ['gateway/operations/standalone.ts'];
    expect([...build.files, ...subgraphEntries].sort()).toEqual([...productionProcesses().map((p) => p.entry), ...optional].sort());
    const pkg = JSON.parse(readFileSync(`${repoRoot}package.json`, 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.build).toContain('tsc -p tsconfig.build.json');
  });

  it('Dockerfile: multi-stage, npm ci with dev dependencies to build, production dependencies only to run, non-root, the gateway by default', () => {
    const dockerfile = readFileSync(`${repoRoot}Dockerfile`, 'utf8');
    const stages = dockerfile.split(/^FROM /m).slice(1);
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const build = stages.find((s) => /\bAS build\b/.test(s))!;
    expect(build).toMatch(/RUN npm ci\b(?![^\n]*--omit=dev)/);
    expect(build).toMatch(/npm run build\b/);
    const runtime = stages.at(-1)!;
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(runtime).not.toMatch(/RUN npm ci(?![^\n]*--omit=dev)/);
    expect(runtime).toMatch(/^USER [1-9]\d*(:[1-9]\d*)?$/m);
    expect(runtime).toMatch(/^CMD \["node", "dist\/gateway\/index\.js"\]$/m);
    expect(runtime).not.toMatch(/tsx/);
    // What the processes read at run time, found by repoRoot beside dist/.
    for (const path of ['dist', 'schema', 'config', 'ide/dist', 'ide/examples']) expect(build).toContain(` ${path} `);
    expect(build).toMatch(/-name schema\.graphql/);
    const ignore = readFileSync(`${repoRoot}.dockerignore`, 'utf8').split('\n').map((l) => l.trim());
    for (const path of ['node_modules', 'dist', '.git', 'sandbox', 'scripts', 'test']) expect(ignore).toContain(path);
  });
});
