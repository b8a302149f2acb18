/**
 * Apollo Server on a plain node:http server. startStandaloneServer cannot serve anything but GraphQL, and the
 * gateway also serves health checks (and later the IDE and metrics), so both the gateway and the subgraphs
 * mount GraphQL through this handler. It bounds the request body and never echoes parse details.
 */
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';

export interface GraphQLHttpOptions<C extends BaseContext> {
  maxBodyBytes: number;
  context: (req: IncomingMessage) => Promise<C>;
  /**
   * Runs once the whole body has arrived, before it is parsed: a refusal is sent as it is and nothing runs. The
   * subgraphs check the gateway's signature here, because it covers the body.
   */
  authorise?: (req: IncomingMessage, rawBody: string) => Promise<{ status: number; body: unknown } | null>;
  /**
   * The bytes of a response text already encoded, when its maker kept them (the gateway's identical warm searches):
   * written as they are, neither encoded again nor copied behind the headers as a string body is.
   */
  encodedBody?: (text: string) => Uint8Array | undefined;
}

export class BodyTooLargeError extends Error {}

export function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      reject(new BodyTooLargeError());
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        // Stop reading but keep the socket: the client gets its 413 (sent with `connection: close`), not a reset.
        req.off('data', onData);
        req.pause();
        reject(new BodyTooLargeError());
        return;
      }
      chunks.push(c);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * After a 413: read and drop what the client is still sending, up to `cap` bytes or two seconds, then cut the
 * socket. Cutting it at once would reset it under the client's writes and lose the 413 with them.
 */
function discardRest(req: IncomingMessage, cap: number): void {
  let dropped = 0;
  const cut = setTimeout(() => req.socket.destroy(), 2000);
  cut.unref();
  req.on('data', (c: Buffer) => {
    dropped += c.length;
    if (dropped > cap) req.socket.destroy();
  });
  req.once('end', () => clearTimeout(cut));
  req.resume();
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text, 'utf8')), ...headers });
  res.end(text);
}

export function graphQLErrorResponse(res: ServerResponse, status: number, message: string, code: string): void {
  sendJson(res, status, { errors: [{ message, extensions: { code } }] });
}

export function createGraphQLHandler<C extends BaseContext>(
  server: ApolloServer<C>,
  opts: GraphQLHttpOptions<C>,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    let raw: string;
    try {
      raw = await readBody(req, opts.maxBodyBytes);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        discardRest(req, opts.maxBodyBytes * 10);
        graphQLErrorResponse(res, 413, `Request body is larger than ${opts.maxBodyBytes} bytes`, 'PAYLOAD_TOO_LARGE');
      } else {
        res.destroy();
      }
      return;
    }
    if (opts.authorise) {
      const refusal = await opts.authorise(req, raw);
      if (refusal) {
        sendJson(res, refusal.status, refusal.body);
        return;
      }
    }

    const headers = new HeaderMap();
    for (const [k, v] of Object.entries(req.headers)) {
      if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
    }
    let body: unknown = raw;
    if (raw && (headers.get('content-type') ?? '').includes('json')) {
      try {
        body = JSON.parse(raw);
      } catch {
        graphQLErrorResponse(res, 400, 'Request body is not valid JSON', 'BAD_REQUEST');
        return;
      }
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const result = await server.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: (req.method ?? 'GET').toUpperCase(), headers, search: url.search, body },
      context: () => opts.context(req),
    });

    const outHeaders: Record<string, string> = {};
    for (const [k, v] of result.headers) outHeaders[k] = v;
    if (result.body.kind === 'complete') {
      const body = opts.encodedBody?.(result.body.string) ?? result.body.string;
      // Its length up front (Node would send it chunked: writeHead leaves it no length to set).
      outHeaders['content-length'] = String(typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.byteLength);
      res.writeHead(result.status ?? 200, outHeaders);
      res.end(body);
      return;
    }
    res.writeHead(result.status ?? 200, outHeaders);
    for await (const chunk of result.body.asyncIterator) res.write(chunk);
    res.end();
  };
}

/** Runs a GraphQL handler; a failure inside it becomes a masked 500, logged without request data. */
export function serveGraphQL(
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  req: IncomingMessage,
  res: ServerResponse,
  logger: { error(obj: object, msg: string): void },
): void {
  handle(req, res).catch((err: unknown) => {
    logger.error({ err: (err as Error).message }, 'graphql handler failed');
    if (!res.headersSent) sendJson(res, 500, { errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
  });
}

/** Slow clients are cut off in seconds (Node's defaults are a minute for headers and five for a request). */
export const HEADERS_TIMEOUT_MS = 10_000;
export const REQUEST_TIMEOUT_MS = 15_000;

/** An HTTP server whose request timeouts are checked every second, not every 30 s (Node's default). */
export function createHttpServer(handler: RequestListener): Server {
  return createServer({ connectionsCheckingInterval: 1000, headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS }, handler);
}

/** Listens and resolves with the bound port (the one asked for, or the one the OS chose for port 0). */
export async function listen(server: Server, port: number, host: string): Promise<number> {
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = Math.min(server.headersTimeout, HEADERS_TIMEOUT_MS);
  server.requestTimeout = Math.min(server.requestTimeout || REQUEST_TIMEOUT_MS, REQUEST_TIMEOUT_MS);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

/**
 * Stops accepting connections, lets requests in flight finish (keep-alive connections close as they go idle),
 * and cuts whatever is still open after `graceMs`: a rolling restart must not fail requests it could have served.
 */
export async function drain(server: Server, graceMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const idle = setInterval(() => server.closeIdleConnections(), 50);
  const cut = setTimeout(() => server.closeAllConnections(), graceMs);
  try {
    await closed;
  } finally {
    clearInterval(idle);
    clearTimeout(cut);
  }
}
