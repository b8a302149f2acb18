import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kind, parse, print, visit } from 'graphql';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { repoRoot } from '../subgraphs/kit/schema.js';
import { authenticate, loadVerificationKey } from './plugins/auth.js';
import { DEV_AUDIENCE, DEV_ISSUER, DEV_PUBLIC_KEY, gatewayConfig } from './config.js';
import { IDE_CSP, createIdeHandler, ideOptions, loadExamples, type IdeConfig, type IdeOptions } from './ide.js';
import { DEV_CONSUMER } from './dev-token.js';
import { SEED_CONSUMERS } from '../sandbox/seed/services.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw request: node:http sends the path as given (fetch would normalise `..` away before it left). */
function raw(base: string, method: string, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(base);
    const req = request({ hostname, port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

const SECRET = 'top-secret-outside-the-bundle';
let root: string;
let dist: string;
const servers: Server[] = [];

async function serve(opts: Partial<IdeOptions> = {}): Promise<string> {
  const handler = createIdeHandler({ distDir: dist, production: false, examples: [], ...opts });
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'ide-test-'));
  dist = join(root, 'dist');
  mkdirSync(join(dist, 'assets'), { recursive: true });
  writeFileSync(join(root, 'secret.txt'), SECRET);
  writeFileSync(join(dist, 'index.html'), '<!doctype html><title>GraphiQL</title>');
  writeFileSync(join(dist, 'assets', 'index-Czy2nufq.js'), 'console.log(1)');
  writeFileSync(join(dist, 'assets', 'index-BWktzq9D.css'), 'body{}');
  writeFileSync(join(dist, 'assets', 'codicon-DCmgc-ay.ttf'), 'ttf');
  writeFileSync(join(dist, 'assets', 'graphql.worker-7-a2hYx4.js'), 'self.onmessage=null');
  writeFileSync(join(dist, 'assets', 'plain.js'), '1');
  writeFileSync(join(dist, 'assets', 'blob-AbCdEf12.xyz'), 'x');
  writeFileSync(join(dist, '.env'), SECRET);
});

afterAll(() => {
  for (const s of servers) s.close();
  rmSync(root, { recursive: true, force: true });
});

describe('the IDE handler', () => {
  it('serves the page at /graphiql/ (redirecting /graphiql there) with no-cache, the CSP and nosniff', async () => {
    const base = await serve();
    const redirect = await raw(base, 'GET', '/graphiql?x=1');
    expect(redirect.status).toBe(308);
    expect(redirect.headers.location).toBe('graphiql/?x=1');

    const page = await raw(base, 'GET', '/graphiql/');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>GraphiQL</title>');
    expect(page.headers).toMatchObject({
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-cache',
      'content-security-policy': IDE_CSP,
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
    });
    const head = await raw(base, 'HEAD', '/graphiql/');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(head.headers['content-length']).toBe(page.headers['content-length']);
  });

  it('serves each file type with its content type; hashed assets are immutable, others revalidate', async () => {
    const base = await serve();
    const cases: [string, string, string][] = [
      ['/graphiql/assets/index-Czy2nufq.js', 'text/javascript; charset=utf-8', 'public, max-age=31536000, immutable'],
      ['/graphiql/assets/index-BWktzq9D.css', 'text/css; charset=utf-8', 'public, max-age=31536000, immutable'],
      ['/graphiql/assets/codicon-DCmgc-ay.ttf', 'font/ttf', 'public, max-age=31536000, immutable'],
      ['/graphiql/assets/graphql.worker-7-a2hYx4.js', 'text/javascript; charset=utf-8', 'public, max-age=31536000, immutable'],
      ['/graphiql/assets/plain.js', 'text/javascript; charset=utf-8', 'no-cache'],
      ['/graphiql/assets/blob-AbCdEf12.xyz', 'application/octet-stream', 'public, max-age=31536000, immutable'],
      ['/graphiql/index.html', 'text/html; charset=utf-8', 'no-cache'],
    ];
    for (const [path, type, cache] of cases) {
      const res = await raw(base, 'GET', path);
      expect(res.status, path).toBe(200);
      expect(res.headers['content-type'], path).toBe(type);
      expect(res.headers['cache-control'], path).toBe(cache);
      expect(res.headers['x-content-type-options'], path).toBe('nosniff');
      expect(res.headers['content-security-policy'], path).toBe(IDE_CSP);
    }
  });

  it('answers 304 to a matching If-None-Match', async () => {
    const base = await serve();
    const first = await raw(base, 'GET', '/graphiql/');
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^W\/"/);
    const again = await raw(base, 'GET', '/graphiql/', { 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.body).toBe('');
  });

  it('refuses every way out of the bundle, and dotfiles', async () => {
    const base = await serve();
    const attempts = [
      '/graphiql/../secret.txt',
      '/graphiql/assets/../../secret.txt',
      '/graphiql/..%2fsecret.txt',
      '/graphiql/%2e%2e/secret.txt',
      '/graphiql/%2E%2E%2Fsecret.txt',
      '/graphiql/assets/..%2f..%2fsecret.txt',
      '/graphiql/..%5csecret.txt',
      '/graphiql/assets%5c..%5c..%5csecret.txt',
      '/graphiql//etc/passwd',
      '/graphiql/%2fetc%2fpasswd',
      '/graphiql/index.html%00.js',
      '/graphiql/%E0%A4%A',
      '/graphiql/.env',
    ];
    for (const path of attempts) {
      const res = await raw(base, 'GET', path);
      expect(res.status, path).toBe(400);
      expect(res.body, path).not.toContain(SECRET);
      expect(res.headers['content-security-policy'], path).toBe(IDE_CSP);
    }
  });

  it('answers 404 for files the bundle does not have, and for folders', async () => {
    const base = await serve();
    for (const path of ['/graphiql/assets/missing-AbCdEf12.js', '/graphiql/assets', '/graphiql/assets/', '/graphiqlx', '/graphiql-x/']) {
      const res = await raw(base, 'GET', path);
      expect(res.status, path).toBe(path === '/graphiql/assets/' ? 400 : 404);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    }
  });

  it('allows only GET and HEAD', async () => {
    const base = await serve();
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      for (const path of ['/graphiql/', '/graphiql/config.json', '/graphiql/assets/index-Czy2nufq.js']) {
        const res = await raw(base, method, path);
        expect(res.status, `${method} ${path}`).toBe(405);
        expect(res.headers.allow).toBe('GET, HEAD');
      }
    }
  });

  it('answers 503 with a page saying how to build the bundle when it has not been built', async () => {
    const base = await serve({ distDir: join(root, 'not-built') });
    for (const path of ['/graphiql/', '/graphiql/assets/index-Czy2nufq.js']) {
      const res = await raw(base, 'GET', path);
      expect(res.status, path).toBe(503);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['content-security-policy']).toBe(IDE_CSP);
      expect(res.body).toContain('npm run build:ide');
    }
    // The settings need no bundle.
    expect((await raw(base, 'GET', '/graphiql/config.json')).status).toBe(200);
  });

  it('gives the page its settings: endpoint, examples, and in development a fresh token each time', async () => {
    let n = 0;
    const devToken = vi.fn(async () => `token-${++n}`);
    const examples = [{ name: 'One', query: '{ a }' }, { name: 'Two', query: '{ b }' }];
    const base = await serve({ devToken, examples });
    const first = await raw(base, 'GET', '/graphiql/config.json');
    expect(first.status).toBe(200);
    expect(first.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(first.headers['cache-control']).toBe('no-store');
    expect(JSON.parse(first.body) as IdeConfig).toEqual({
      endpoint: '../graphql',
      mode: 'development',
      introspection: true,
      headers: { Authorization: 'Bearer token-1' },
      examples,
    });
    const second = JSON.parse((await raw(base, 'GET', '/graphiql/config.json')).body) as IdeConfig;
    expect(second.headers.Authorization).toBe('Bearer token-2');
  });

  it('never mints or serves a token in production, even when given a minter', async () => {
    const devToken = vi.fn(async () => 'must-not-appear');
    const base = await serve({ production: true, devToken });
    const res = await raw(base, 'GET', '/graphiql/config.json');
    expect(JSON.parse(res.body) as IdeConfig).toMatchObject({ mode: 'production', introspection: false, headers: {} });
    expect(res.body).not.toContain('must-not-appear');
    expect(devToken).not.toHaveBeenCalled();
  });

  it('answers 500 without detail when the token cannot be minted', async () => {
    const base = await serve({ devToken: async () => Promise.reject(new Error('no key at /secret/path')) });
    const res = await raw(base, 'GET', '/graphiql/config.json');
    expect(res.status).toBe(500);
    expect(res.body).not.toContain('/secret/path');
  });
});

describe('the Content-Security-Policy', () => {
  const directives = new Map(IDE_CSP.split('; ').map((d) => [d.split(' ')[0]!, d.split(' ').slice(1)]));

  it('names no other origin, allows no inline or eval script, and forbids framing', () => {
    expect(IDE_CSP).not.toMatch(/https?:|\*|blob:|'unsafe-eval'|'wasm-unsafe-eval'/);
    expect(directives.get('default-src')).toEqual(["'none'"]);
    for (const d of ['script-src', 'worker-src', 'connect-src']) expect(directives.get(d), d).toEqual(["'self'"]);
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    expect(directives.get('base-uri')).toEqual(["'none'"]);
    // Only styles and fonts/images are widened: styles for Monaco's run-time <style> elements, data: for the
    // fonts and icons GraphiQL's CSS inlines.
    expect(directives.get('style-src')).toEqual(["'self'", "'unsafe-inline'"]);
    expect(directives.get('font-src')).toEqual(["'self'", 'data:']);
    expect(directives.get('img-src')).toEqual(["'self'", 'data:']);
  });
});

describe('the example operations', () => {
  const examples = loadExamples(`${repoRoot}ide/examples`);

  it('are valid, named operations, in file order', () => {
    expect(examples.map((e) => e.name)).toEqual(['ServicesNearPostcode', 'Availability', 'BookAppointment']);
    for (const e of examples) expect(() => parse(e.query)).not.toThrow();
  });

  it("are the README's examples (the README writes them anonymous; comments and layout aside)", () => {
    const readme = readFileSync(`${repoRoot}README.md`, 'utf8');
    const blocks = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]!);
    const canonical = (q: string) =>
      print(
        visit(parse(q, { noLocation: true }), {
          [Kind.OPERATION_DEFINITION]: (node) => ({ ...node, name: undefined }),
        }),
      );
    expect(blocks.map(canonical), 'README.md ```graphql blocks vs ide/examples/*.graphql').toEqual(examples.map((e) => canonical(e.query)));
  });
});

describe('ideOptions', () => {
  it('mints a token the gateway accepts, for the dev consumer, when running on the sandbox keys', async () => {
    const opts = ideOptions(gatewayConfig({}));
    expect(opts.production).toBe(false);
    expect(opts.distDir).toBe(`${repoRoot}ide/dist`);
    expect(opts.examples.length).toBeGreaterThan(0);
    const token = await opts.devToken!();
    const principal = await authenticate(`Bearer ${token}`, {
      issuer: DEV_ISSUER,
      audience: DEV_AUDIENCE,
      key: await loadVerificationKey({ publicKeyFile: DEV_PUBLIC_KEY }),
      anonymousConsumer: null,
      clockToleranceSeconds: 5,
    });
    expect(principal).toMatchObject({ authenticated: true, consumer: { odsCode: 'RX8' } });
  });

  it("acts for one of the sandbox's seed consumers, so the sandbox suppliers know it", () => {
    expect(SEED_CONSUMERS).toContainEqual(DEV_CONSUMER);
  });

  it('offers no token in production, or when tokens are verified with other keys', () => {
    const prod = gatewayConfig({
      NODE_ENV: 'production',
      AUTH_ISSUER: 'https://auth.example.nhs.uk',
      AUTH_AUDIENCE: 'booking',
      AUTH_PUBLIC_KEY_FILE: DEV_PUBLIC_KEY,
      IDEMPOTENCY_SECRET: 'x'.repeat(32),
      INTERNAL_AUTH_KEY: 'y'.repeat(32),
    });
    expect(ideOptions(prod)).toMatchObject({ production: true, introspection: false });
    expect(ideOptions(prod).devToken).toBeUndefined();
    expect(ideOptions(gatewayConfig({ AUTH_JWKS_URL: 'https://auth.example.nhs.uk/jwks' })).devToken).toBeUndefined();
    expect(ideOptions(gatewayConfig({ AUTH_ISSUER: 'https://auth.example.nhs.uk' })).devToken).toBeUndefined();
  });
});
