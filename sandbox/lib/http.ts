/**
 * The HTTP base every sandbox simulator shares: a plain node:http server, a request log tests can read, and fault
 * injection (status, delay, stall, malformed body, connection reset) driven over a control API under /_sandbox/.
 * Simulators supply only their own handler; the control API never reaches it.
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';

export interface SandboxRequest {
  method: string;
  url: URL;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** Raw body, already gunzipped when sent with Content-Encoding: gzip. */
  body: string;
}

export interface SandboxResponse {
  status: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON (Content-Type from headers, default application/json); a string as is. */
  body?: unknown;
}

export type SandboxHandler = (req: SandboxRequest) => SandboxResponse | Promise<SandboxResponse>;

/** One injected fault. Applies to requests whose path starts with `pathPrefix` (default: all), `times` times. */
export interface Fault {
  pathPrefix?: string;
  method?: string;
  /** Answer with this status instead of handling the request. */
  status?: number;
  /** Body for `status` (JSON); a simulator-appropriate default is used when absent. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Wait this long before answering (or before handling, when no status is given). */
  delayMs?: number;
  /** Never answer (the connection stays open until the client gives up). */
  stall?: boolean;
  /** Answer 200 with a truncated JSON body. */
  malformed?: boolean;
  /** Destroy the connection without answering. */
  reset?: boolean;
  /** Handle the request normally, then fail as told: the upstream committed but the client never hears it. */
  afterHandling?: boolean;
  /** How many matching requests to affect; unlimited when absent. */
  times?: number;
  /**
   * Active for this long after it was injected, then gone (a publisher stalled "for 10 s": `{ stall: true, forMs:
   * 10000 }` or `{ delayMs: 2000, forMs: 10000 }`); unlimited when absent.
   */
  forMs?: number;
}

export interface RecordedRequest {
  seq: number;
  at: string;
  method: string;
  path: string;
  query: Record<string, string[]>;
  headers: IncomingHttpHeaders;
  body: string;
  status?: number;
}

export interface SandboxServer {
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

export interface SandboxOptions {
  name: string;
  port: number;
  host?: string;
  handler: SandboxHandler;
  /** Default body for an injected error status (e.g. an OperationOutcome for FHIR simulators). */
  faultBody?: (status: number) => unknown;
  /** Requests kept in the log (oldest dropped first). */
  logLimit?: number;
  /**
   * Extra control routes under /_sandbox/ a simulator adds (e.g. a view of what it stored, for tests): answer a
   * request it owns, or undefined to fall through to the shared routes. Never logged, never faulted.
   */
  controlRoutes?: (req: SandboxRequest) => SandboxResponse | undefined;
}

const MAX_BODY = 5 * 1024 * 1024;

export async function startSandboxServer(opts: SandboxOptions): Promise<SandboxServer> {
  const log: RecordedRequest[] = [];
  let seq = 0;
  let faults: (Fault & { until?: number })[] = [];
  const logLimit = opts.logLimit ?? 2000;
  const openSockets = new Set<import('node:net').Socket>();

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      void (async () => {
        const raw = Buffer.concat(chunks);
        let body: string;
        try {
          body = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
        } catch {
          body = '';
        }
        const url = new URL(req.url ?? '/', 'http://sandbox.invalid');
        const sreq: SandboxRequest = {
          method: req.method ?? 'GET',
          url,
          path: url.pathname,
          query: url.searchParams,
          headers: req.headers,
          body,
        };
        if (url.pathname.startsWith('/_sandbox/')) {
          send(res, control(sreq));
          return;
        }
        const entry: RecordedRequest = {
          seq: ++seq,
          at: new Date().toISOString(),
          method: sreq.method,
          path: url.pathname,
          query: queryToRecord(url.searchParams),
          headers: req.headers,
          body,
        };
        log.push(entry);
        if (log.length > logLimit) log.shift();

        const fault = takeFault(sreq);
        try {
          const result = await respond(sreq, fault, res);
          if (result) {
            entry.status = result.status;
            send(res, result);
          }
        } catch (err) {
          entry.status = 500;
          send(res, { status: 500, body: opts.faultBody?.(500) ?? { error: 'internal error' } });
          console.error(`[${opts.name}] handler error`, err);
        }
      })();
    });
  });
  server.on('connection', (s) => {
    openSockets.add(s);
    s.on('close', () => openSockets.delete(s));
  });

  async function respond(sreq: SandboxRequest, fault: Fault | undefined, res: ServerResponse): Promise<SandboxResponse | null> {
    if (!fault) return opts.handler(sreq);
    if (fault.afterHandling) {
      await opts.handler(sreq);
      return applyFault(fault, res);
    }
    if (fault.delayMs && fault.status === undefined && !fault.malformed && !fault.reset && !fault.stall) {
      await sleep(fault.delayMs);
      return opts.handler(sreq);
    }
    return applyFault(fault, res);
  }

  async function applyFault(fault: Fault, res: ServerResponse): Promise<SandboxResponse | null> {
    if (fault.delayMs) await sleep(fault.delayMs);
    if (fault.stall) return null; // never answered; the socket is destroyed on close()
    if (fault.reset) {
      res.socket?.destroy();
      return null;
    }
    if (fault.malformed) {
      return { status: 200, headers: { 'content-type': 'application/json' }, body: '{"resourceType":"Bundle","entry":[{"resou' };
    }
    const status = fault.status ?? 500;
    return { status, headers: fault.headers, body: fault.body ?? opts.faultBody?.(status) ?? { error: `injected ${status}` } };
  }

  function takeFault(sreq: SandboxRequest): Fault | undefined {
    const now = Date.now();
    faults = faults.filter((f) => f.until === undefined || f.until > now);
    const i = faults.findIndex(
      (f) => sreq.path.startsWith(f.pathPrefix ?? '/') && (!f.method || f.method.toUpperCase() === sreq.method),
    );
    if (i < 0) return undefined;
    const f = faults[i]!;
    if (f.times !== undefined) {
      f.times -= 1;
      if (f.times <= 0) faults.splice(i, 1);
    }
    return f;
  }

  function control(sreq: SandboxRequest): SandboxResponse {
    const own = opts.controlRoutes?.(sreq);
    if (own) return own;
    const p = sreq.path;
    if (p === '/_sandbox/health') return { status: 200, body: { name: opts.name, status: 'ok' } };
    if (p === '/_sandbox/requests' && sreq.method === 'GET') {
      const since = Number(sreq.query.get('since') ?? 0);
      return { status: 200, body: log.filter((r) => r.seq > since) };
    }
    if (p === '/_sandbox/requests' && sreq.method === 'DELETE') {
      log.length = 0;
      return { status: 204 };
    }
    if (p === '/_sandbox/faults' && sreq.method === 'POST') {
      const parsed = JSON.parse(sreq.body || '[]') as Fault | Fault[];
      const at = Date.now();
      faults = (Array.isArray(parsed) ? parsed : [parsed]).map((f) => (typeof f.forMs === 'number' ? { ...f, until: at + f.forMs } : f));
      return { status: 200, body: faults };
    }
    if (p === '/_sandbox/faults' && sreq.method === 'DELETE') {
      faults = [];
      return { status: 204 };
    }
    return { status: 404, body: { error: 'unknown control path' } };
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of openSockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function send(res: ServerResponse, r: SandboxResponse): void {
  if (res.headersSent || res.destroyed) return;
  const headers: Record<string, string> = { ...(r.headers ?? {}) };
  let payload: string | undefined;
  if (r.body === undefined || r.status === 204 || r.status === 304) {
    payload = undefined;
  } else if (typeof r.body === 'string') {
    payload = r.body;
  } else {
    payload = JSON.stringify(r.body);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  }
  res.writeHead(r.status, headers);
  res.end(payload);
}

function queryToRecord(q: URLSearchParams): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of q) (out[k] ??= []).push(v);
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export { envPort } from '../../common/env.js';

/** Runs a simulator as its own process: start, print where it listens, stop cleanly on SIGINT/SIGTERM. */
export async function runAsProcess(start: () => Promise<SandboxServer>, label: string): Promise<void> {
  const s = await start();
  console.log(`${label} listening on ${s.url}`);
  const stop = () => {
    void s.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
