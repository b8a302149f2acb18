/**
 * The self-hosted GraphQL IDE under /graphiql/: the GraphiQL bundle built into ide/dist by `npm run build:ide`
 * (no CDN: it works on closed networks), and /graphiql/config.json with the page's settings (endpoint, the example
 * operations in ide/examples, and in development only a freshly minted sandbox token as the Authorization header).
 *
 * Only GET and HEAD; only files inside the bundle; every answer carries a strict Content-Security-Policy.
 */
import { createReadStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Kind, parse } from 'graphql';
import type { IdeConfig, IdeExample } from '../ide/src/config.js';
import { repoRoot } from '../common/repo-root.js';
import { DEV_AUDIENCE, DEV_ISSUER, DEV_PUBLIC_KEY, type GatewayConfig } from './config.js';
import { DEV_CONSUMER, hasDevKey, signDevToken } from './dev-token.js';

export type { IdeConfig, IdeExample };

export interface IdeOptions {
  /** The built bundle (ide/dist). Checked on every request, so building after start-up needs no restart. */
  distDir: string;
  /** Production: never a token in the page, whatever devToken says. */
  production: boolean;
  /** Preloaded as tabs, in order. */
  examples: readonly IdeExample[];
  /** Mints the token prefilled as `Authorization: Bearer …` (development only). */
  devToken?: () => Promise<string>;
  /** Whether the gateway answers introspection (default: not in production); without it the page asks for none. */
  introspection?: boolean;
  /** The GraphQL endpoint relative to the page at /graphiql/. */
  endpoint?: string;
}

export const IDE_PATH = '/graphiql';

/**
 * What the page may load, and why:
 * - scripts, workers and fetches from this origin only (`'self'`): the bundle, Monaco's three workers (built as
 *   same-origin files by graphiql/setup-workers/vite), config.json and /graphql. No eval, no inline script.
 * - styles from this origin plus `'unsafe-inline'`: Monaco and GraphiQL's UI libraries insert <style> elements
 *   and style attributes at run time (no nonce support). Styles cannot run code; scripts stay strict.
 * - fonts and images also as `data:` URIs: GraphiQL's CSS inlines its fonts and icons that way.
 * - no frames, objects, forms, <base>, or being framed (clickjacking).
 * No remote origin appears anywhere: the IDE works on a closed network and cannot leak queries or tokens.
 */
export const IDE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "worker-src 'self'",
  "connect-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self' data:",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': IDE_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.ttf': 'font/ttf',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

/** Vite names every emitted asset `assets/<name>-<8-character hash>.<ext>`: safe to cache for a year. */
const HASHED_ASSET = /^assets\/[^/]+-[A-Za-z0-9_-]{8}\.[a-z0-9]+$/;
const IMMUTABLE = 'public, max-age=31536000, immutable';

export function contentTypeFor(file: string): string {
  return CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
}

export function cacheControlFor(relativePath: string): string {
  return HASHED_ASSET.test(relativePath) ? IMMUTABLE : 'no-cache';
}

function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}, head = false): void {
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': type,
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(head ? undefined : body);
}

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>GraphQL IDE not built</title></head>
<body style="font-family: system-ui, sans-serif; margin: 2rem; max-width: 40rem">
<h1>The GraphQL IDE has not been built</h1>
<p>The gateway serves GraphiQL from <code>ide/dist</code>, which is built by <code>npm run build:ide</code>
(<code>npm ci</code> runs it). Build it and reload this page; the gateway need not restart.</p>
<p>The GraphQL API itself is unaffected: <code>POST /graphql</code>.</p>
</body></html>
`;

/**
 * Splits the path after /graphiql/ into safe segments, or null when it tries to leave the bundle (`..`, encoded
 * or not), names a dotfile, or is malformed.
 */
function safeSegments(rest: string): string[] | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rest);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const segments = decoded.split('/');
  if (segments.some((s) => s === '' || s.startsWith('.'))) return null;
  return segments;
}

export function createIdeHandler(opts: IdeOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const distDir = resolve(opts.distDir);
  const endpoint = opts.endpoint ?? '../graphql';
  const mintToken = opts.production ? undefined : opts.devToken;

  async function config(): Promise<IdeConfig> {
    const headers: Record<string, string> = {};
    if (mintToken) headers.Authorization = `Bearer ${await mintToken()}`;
    return {
      endpoint,
      mode: opts.production ? 'production' : 'development',
      introspection: opts.introspection ?? !opts.production,
      headers,
      examples: opts.examples.map((e) => ({ name: e.name, query: e.query })),
    };
  }

  async function serveFile(req: IncomingMessage, res: ServerResponse, rel: string, head: boolean): Promise<void> {
    const file = join(distDir, rel);
    if (!file.startsWith(distDir + sep)) {
      send(res, 400, 'text/plain; charset=utf-8', 'Bad path\n', {}, head);
      return;
    }
    const info = await stat(file).catch(() => null);
    if (!info?.isFile()) {
      send(res, 404, 'text/plain; charset=utf-8', 'Not found\n', {}, head);
      return;
    }
    const etag = `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
    const headers = {
      ...SECURITY_HEADERS,
      'content-type': contentTypeFor(file),
      'cache-control': cacheControlFor(rel),
      etag,
      'last-modified': info.mtime.toUTCString(),
    };
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    res.writeHead(200, { ...headers, 'content-length': String(info.size) });
    if (head) {
      res.end();
      return;
    }
    await pipeline(createReadStream(file), res);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const [path = '/', query] = (req.url ?? '/').split('?', 2);
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') {
      send(res, 405, 'text/plain; charset=utf-8', 'Method not allowed\n', { allow: 'GET, HEAD' });
      return;
    }
    const head = method === 'HEAD';
    if (path === IDE_PATH) {
      // Relative asset paths need the trailing slash; a relative Location also works behind a path prefix.
      send(res, 308, 'text/plain; charset=utf-8', 'Moved to graphiql/\n', { location: `graphiql/${query ? `?${query}` : ''}` }, head);
      return;
    }
    if (!path.startsWith(`${IDE_PATH}/`)) {
      send(res, 404, 'text/plain; charset=utf-8', 'Not found\n', {}, head);
      return;
    }
    const rest = path.slice(IDE_PATH.length + 1);
    if (rest === 'config.json') {
      send(res, 200, 'application/json; charset=utf-8', JSON.stringify(await config()), {}, head);
      return;
    }
    const segments = rest === '' ? ['index.html'] : safeSegments(rest);
    if (!segments) {
      send(res, 400, 'text/plain; charset=utf-8', 'Bad path\n', {}, head);
      return;
    }
    if (!existsSync(join(distDir, 'index.html'))) {
      send(res, 503, 'text/html; charset=utf-8', NOT_BUILT_PAGE, { 'retry-after': '30' }, head);
      return;
    }
    await serveFile(req, res, segments.join('/'), head);
  }

  return (req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'The IDE could not answer this request\n');
      else res.destroy();
    });
  };
}

/** The example operations in `dir` (`*.graphql`, in file name order), named by their operation. */
export function loadExamples(dir: string): IdeExample[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.graphql'))
    .sort()
    .map((f) => {
      const query = readFileSync(join(dir, f), 'utf8');
      let doc;
      try {
        doc = parse(query);
      } catch (err) {
        throw new Error(`${dir}/${f} is not valid GraphQL: ${(err as Error).message}`);
      }
      const op = doc.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
      return { name: op?.name?.value ?? f.replace(/\.graphql$/, ''), query };
    });
}

/**
 * The IDE as the gateway process serves it. The token is minted only outside production and only while the
 * gateway verifies tokens with the sandbox's dev key, issuer and audience: anywhere else it would be refused
 * (and anyone who can mint it could anyway: the dev key is in the repository).
 */
export function ideOptions(config: GatewayConfig, root: string = repoRoot): IdeOptions {
  const sandboxAuth =
    !config.production &&
    config.auth.publicKeyFile === DEV_PUBLIC_KEY &&
    config.auth.issuer === DEV_ISSUER &&
    config.auth.audience === DEV_AUDIENCE;
  const consumer = config.auth.anonymousConsumer ?? DEV_CONSUMER;
  return {
    distDir: `${root}ide/dist`,
    production: config.production,
    introspection: config.introspection,
    examples: loadExamples(`${root}ide/examples`),
    ...(sandboxAuth && hasDevKey() ? { devToken: () => signDevToken({ consumer, ttlSeconds: 8 * 3600 }) } : {}),
  };
}
