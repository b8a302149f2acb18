/**
 * The compiled build starts as production runs it: `npm run build` (reused when dist/ is newer than every source
 * file), then `node dist/gateway/index.js` and `node dist/subgraphs/pas-rest/index.js` with plain node (no
 * TypeScript loader), NODE_ENV=production and only the settings production requires, from a working directory
 * outside the repository (files read at run time are found from dist/, not from the current directory), against
 * nothing: the gateway is live and ready but degraded, the subgraph is live and ready.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SUBGRAPHS } from '../subgraphs/catalog.js';
import { repoRoot } from '../subgraphs/kit/schema.js';

const DIST = join(repoRoot, 'dist');
/** Nothing listens here: every upstream and subgraph the processes are pointed at refuses at once. */
const NOWHERE = 'http://127.0.0.1:1';

function files(dir: string, keep: (f: string) => boolean): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && keep(join(e.parentPath, e.name)))
    .map((e) => join(e.parentPath, e.name));
}

/** dist/ is fresh when it was built after the last change to any source file the build reads. */
function distIsFresh(): boolean {
  const built = files(DIST, (f) => f.endsWith('.js')).map((f) => statSync(f).mtimeMs);
  if (!built.length || !existsSync(join(DIST, 'gateway/index.js'))) return false;
  const sources = ['gateway', 'subgraphs', 'ide/src'].flatMap((d) => files(join(repoRoot, d), (f) => f.endsWith('.ts')));
  const config = ['tsconfig.json', 'tsconfig.build.json', 'package.json'].map((f) => join(repoRoot, f));
  return Math.max(...[...sources, ...config].map((f) => statSync(f).mtimeMs)) < Math.min(...built);
}

interface Started {
  child: ChildProcess;
  logs: () => string;
  /** The first log line whose msg matches. */
  line: Promise<Record<string, unknown>>;
}

/** Starts a compiled entry point with plain node and only `env` (plus PATH), in a directory outside the repository. */
function start(entry: string, env: Record<string, string>, listening: RegExp): Started {
  const child = spawn(process.execPath, [join(DIST, entry)], {
    cwd: tmpdir(),
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_ENV: 'production', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const line = new Promise<Record<string, unknown>>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString('utf8');
      for (const l of out.split('\n')) {
        try {
          const parsed = JSON.parse(l) as Record<string, unknown>;
          if (typeof parsed.msg === 'string' && listening.test(parsed.msg)) resolve(parsed);
        } catch {
          // not a whole JSON line yet
        }
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.once('exit', (code) => reject(new Error(`${entry} exited (${code}) before listening:\n${out}`)));
    // Seconds on an idle machine; generous for a loaded one.
    setTimeout(() => reject(new Error(`${entry} did not listen within 40 s:\n${out}`)), 40_000).unref();
  });
  return { child, logs: () => out, line };
}

/** SIGTERM, as Kubernetes stops a pod: the exit code, or the signal's name when the process died of it. */
async function stop(s: Started | undefined): Promise<number | string | null> {
  if (!s) return null;
  if (s.child.exitCode !== null || s.child.signalCode !== null) return s.child.exitCode ?? s.child.signalCode;
  const exited = new Promise<number | string | null>((resolve) => s.child.once('exit', (code, signal) => resolve(code ?? signal)));
  s.child.kill('SIGTERM');
  const timer = setTimeout(() => s.child.kill('SIGKILL'), 12_000);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

/** How the process was started, as the kernel saw it: the command line and the environment. */
function processStart(pid: number): { argv: string[]; env: string[] } {
  const read = (f: string) => readFileSync(`/proc/${pid}/${f}`, 'utf8').split('\0').filter(Boolean);
  return { argv: read('cmdline'), env: read('environ') };
}

function expectNoTypeScriptLoader(pid: number, entry: string) {
  const { argv, env } = processStart(pid);
  expect(argv).toEqual([process.execPath, join(DIST, entry)]);
  expect(argv.join(' ')).not.toMatch(/tsx|--import|--loader|--experimental-loader|--require/);
  expect(env.filter((e) => e.startsWith('NODE_OPTIONS='))).toEqual([]);
}

const PRODUCTION_KEYS = {
  INTERNAL_AUTH_KEY: 'production-build-test-internal-key-000000000001',
  ID_SIGNING_KEY: 'production-build-test-id-signing-key-00000000001',
};

describe('the compiled production build (npm run build, node dist/...)', () => {
  let gateway: Started | undefined;
  let subgraph: Started | undefined;

  beforeAll(() => {
    if (distIsFresh()) return;
    const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: repoRoot, encoding: 'utf8', timeout: 170_000 });
    if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}\n${build.stderr}`);
  }, 180_000);

  afterAll(async () => {
    await Promise.all([stop(gateway), stop(subgraph)]);
  });

  it('holds the compiled processes and nothing from sandbox/, scripts/ or tests, importing no .ts file and no tsx', () => {
    for (const entry of ['gateway/index.js', ...SUBGRAPHS.filter((s) => s.remote).map((s) => `${s.dir}/index.js`)]) {
      expect(existsSync(join(DIST, entry)), entry).toBe(true);
    }
    for (const dir of ['sandbox', 'scripts', 'test', 'bench']) expect(existsSync(join(DIST, dir)), `dist/${dir}`).toBe(false);
    const js = files(DIST, (f) => f.endsWith('.js'));
    expect(js.filter((f) => f.endsWith('.test.js'))).toEqual([]);
    const bad = js.filter((f) => /(?:from\s*|import\s*\(\s*)['"](?:[^'"]*\.ts|tsx(?:\/[^'"]*)?|[^'"]*\/(?:sandbox|scripts|test)\/[^'"]*)['"]/.test(readFileSync(f, 'utf8')));
    expect(bad).toEqual([]);
  });

  it('imports only packages the image installs (dependencies, not devDependencies)', () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const specifiers = /(?:^|[\n;])\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|(?:^|[\n;])\s*import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;
    const packages = new Set<string>();
    for (const f of files(DIST, (x) => x.endsWith('.js'))) {
      for (const m of readFileSync(f, 'utf8').matchAll(specifiers)) {
        const spec = m[1] ?? m[2] ?? m[3] ?? '';
        if (spec.startsWith('.') || spec.startsWith('node:')) continue;
        packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
      }
    }
    expect(packages.size).toBeGreaterThan(0);
    expect([...packages].filter((p) => !(p in pkg.dependencies))).toEqual([]);
  });

  it('starts the gateway with plain node in production: live on its public port, ready but degraded against no subgraphs', async () => {
    const urls = Object.fromEntries(SUBGRAPHS.flatMap((s) => (s.remote ? [[s.remote.urlEnv, `${NOWHERE}/graphql`]] : [])));
    gateway = start(
      'gateway/index.js',
      {
        ...PRODUCTION_KEYS,
        AUTH_ISSUER: 'https://auth.production-build-test.invalid',
        AUTH_AUDIENCE: 'nhs-booking-gateway',
        AUTH_PUBLIC_KEY_FILE: join(repoRoot, 'config/dev-keys/sandbox.public.jwk.json'),
        IDEMPOTENCY_SECRET: 'production-build-test-idempotency-secret-0001',
        GATEWAY_PORT: '0',
        GATEWAY_INTERNAL_PORT: '0',
        ...urls,
      },
      /^gateway listening on /,
    );
    const listening = await gateway.line;
    const url = new URL(String(listening.url));
    const internal = `http://127.0.0.1:${String(listening.internalPort)}`;
    expectNoTypeScriptLoader(gateway.child.pid!, 'gateway/index.js');

    const live = await fetch(`${url.origin}/health/live`);
    expect(live.status).toBe(200);
    // Ready to take traffic (readiness does not cascade subgraph outages), and degraded: no subgraph answers.
    const ready = await fetch(`${internal}/health/ready`);
    expect(ready.status).toBe(200);
    expect((await ready.json()) as { degraded: boolean }).toMatchObject({ ready: true, degraded: true });
    expect((await fetch(`${url.origin}/health/ready`)).status).toBe(404);
    // The IDE bundle is found from dist/ too (ide/dist beside it), when it has been built.
    const ide = await fetch(`${url.origin}/graphiql/`);
    expect(ide.status).toBe(existsSync(join(repoRoot, 'ide/dist/index.html')) ? 200 : 503);
    await ide.arrayBuffer();

    expect(await stop(gateway)).toBe(0);
  }, 60_000);

  it('starts a supplier subgraph with plain node in production: live and ready, refusing unsigned requests', async () => {
    const pasRest = SUBGRAPHS.find((s) => s.name === 'pas-rest')!;
    subgraph = start(
      `${pasRest.dir}/index.js`,
      {
        ...PRODUCTION_KEYS,
        [pasRest.remote!.portEnv]: '0',
        OAKFIELD_PAS_API_KEY: 'production-build-test-api-key',
        SANDBOX_PAS_REST_URL: NOWHERE,
        SANDBOX_BOOKING_STANDARD_URL: NOWHERE,
        SANDBOX_FEEDS_URL: NOWHERE,
      },
      /subgraph listening on /,
    );
    const listening = await subgraph.line;
    const url = new URL(String(listening.url));
    expectNoTypeScriptLoader(subgraph.child.pid!, `${pasRest.dir}/index.js`);

    expect((await fetch(`${url.origin}/health/live`)).status).toBe(200);
    expect((await fetch(`${url.origin}/health/ready`)).status).toBe(200);
    const unsigned = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' });
    expect(unsigned.status).toBe(401);

    expect(await stop(subgraph)).toBe(0);
  }, 60_000);
});
