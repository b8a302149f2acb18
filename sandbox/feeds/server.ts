/**
 * A SMART Scheduling Links Slot Publisher (spec §1): static bulk files behind a `$bulk-publish` manifest, served
 * the way a real publisher serves them.
 *
 *   GET /<data set>/$bulk-publish   the manifest, `request` and every output URL rewritten to this server
 *   GET /<data set>/<file>          an NDJSON file (slot dates moved into the coming days, see shift.ts)
 *   GET /                           the data sets and their manifest URLs
 *
 * Validators and cache headers per data set (http-cache.ts), 304 on If-None-Match / If-Modified-Since, 406 when
 * the Accept header admits neither the spec's type nor a wildcard, `?_since` accepted and ignored (the spec lets
 * servers ignore it). Request log and fault injection come from the shared sandbox server (/_sandbox/...).
 */
import type { AddressInfo } from 'node:net';
import { startSandboxServer, type SandboxRequest, type SandboxResponse, type SandboxServer } from '../lib/http.js';
import { bundledDataSets, MANIFEST_FILE, PublishedDataSet, type Document, type FeedDataSet } from './datasets.js';
import { acceptable, notModified } from './http-cache.js';

export type { FeedDataSet } from './datasets.js';

export interface FeedPublisherOptions {
  port: number;
  host?: string;
  /** Clock for the date shift and Last-Modified; pin it to test a given day. */
  now?: () => Date;
  /** What to serve (default: the two bundled reference data sets). Tests pass folders of fixtures they build. */
  dataSets?: FeedDataSet[];
  /** Origin clients use, when it is not the listening address (behind a proxy, in a container network). */
  publicOrigin?: string;
}

const MANIFEST_TYPES = ['application/json', 'application/fhir+json'];
const NDJSON_TYPES = ['application/fhir+ndjson', 'application/ndjson', 'application/x-ndjson'];

export async function startFeedPublisher(opts: FeedPublisherOptions): Promise<SandboxServer> {
  const now = opts.now ?? (() => new Date());
  const sets = new Map((opts.dataSets ?? bundledDataSets()).map((d) => [d.name, new PublishedDataSet(d, now)]));
  let origin = opts.publicOrigin?.replace(/\/+$/, '');

  const handler = async (req: SandboxRequest): Promise<SandboxResponse> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return { status: 405, headers: { allow: 'GET, HEAD' }, body: { error: 'method not allowed' } };
    let path: string;
    try {
      path = decodeURIComponent(req.path);
    } catch {
      return { status: 400, body: { error: 'bad path' } };
    }
    if (path === '/') {
      return { status: 200, body: { dataSets: [...sets.keys()].map((name) => ({ name, manifest: `${origin}/${name}/${MANIFEST_FILE}` })) } };
    }
    // /<data set>/<file>, with one trailing slash tolerated (static hosts differ; the defect fixtures use it).
    const m = /^\/([^/]+)\/([^/]+)\/?$/.exec(path);
    const set = m && sets.get(m[1]!);
    if (!m || !set) return notFound();
    const name = m[2]!;
    const accept = header(req, 'accept');

    if (name === MANIFEST_FILE) {
      if (!acceptable(accept, MANIFEST_TYPES)) return notAcceptable(MANIFEST_TYPES);
      return answer(req, await set.manifest(`${origin}/${set.spec.name}`));
    }
    const doc = await set.file(name);
    if (!doc) return notFound();
    if (!acceptable(accept, NDJSON_TYPES)) return notAcceptable(NDJSON_TYPES);
    return answer(req, doc);
  };

  const server = await startSandboxServer({ name: 'feeds', port: opts.port, ...(opts.host ? { host: opts.host } : {}), handler });
  origin ??= `http://${opts.host ?? '127.0.0.1'}:${(server.server.address() as AddressInfo).port}`;
  return server;
}

function answer(req: SandboxRequest, doc: Document): SandboxResponse {
  if (notModified(req.headers, doc)) return { status: 304, headers: doc.headers };
  return { status: 200, headers: { ...doc.headers, 'content-type': doc.contentType, vary: 'Accept' }, body: doc.body };
}

function header(req: SandboxRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

function notFound(): SandboxResponse {
  return { status: 404, body: { error: 'not found' } };
}

function notAcceptable(offered: readonly string[]): SandboxResponse {
  return { status: 406, body: { error: 'not acceptable', offered } };
}
