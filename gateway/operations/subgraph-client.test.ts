/**
 * The one gateway→subgraph caller's error taxonomy, against a real HTTP server: a deadline is TIMEOUT, a refused
 * connection UNAVAILABLE, GraphQL errors by extensions.code / reason, an unreadable answer INVALID_RESPONSE; every
 * request is signed (gatewayHeaders) over the exact body sent.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/stack.js';
import { SIGNATURE_HEADER } from '../../common/internal-auth.js';
import { FindServicesDocument } from './generated/directory.js';
import { SubgraphCallError, SubgraphClient } from './subgraph-client.js';

let server: Server;
let url: string;
let reply: (req: IncomingMessage, body: string, res: ServerResponse) => void = () => {};
const seen: { headers: IncomingMessage['headers']; body: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ headers: req.headers, body });
      reply(req, body, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const ctx = { consumer: { odsCode: 'RX8', name: 'NHS 111' }, traceId: 'trace-1' };
const vars = { filter: { ids: ['1'] }, after: null };

function json(res: ServerResponse, status: number, value: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(typeof value === 'string' ? value : JSON.stringify(value));
}

async function failure(p: Promise<unknown>): Promise<SubgraphCallError> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(SubgraphCallError);
  return err as SubgraphCallError;
}

describe('SubgraphClient', () => {
  it('sends the typed document, signed, and returns its data', async () => {
    const data = { services: { totalCount: 0, pageInfo: { hasNextPage: false, endCursor: null }, edges: [] } };
    reply = (_req, _body, res) => json(res, 200, { data });
    const answer = await new SubgraphClient({ directory: url }, 'k'.repeat(32)).request('directory', FindServicesDocument, vars, ctx, 1000);
    expect(answer.data).toEqual(data);
    const last = seen.at(-1)!;
    expect(JSON.parse(last.body).query).toMatch(/query FindServices/);
    expect(last.headers[SIGNATURE_HEADER]).toEqual(expect.any(String));
  });

  it('a deadline is TIMEOUT', async () => {
    reply = () => {}; // never answers
    const err = await failure(new SubgraphClient({ directory: url }, 'k'.repeat(32)).request('directory', FindServicesDocument, vars, ctx, 150));
    expect(err.reason).toBe('TIMEOUT');
  });

  it('a refused connection is UNAVAILABLE, and the message holds no address', async () => {
    const closed = `http://127.0.0.1:${await freePort()}/graphql`;
    const err = await failure(new SubgraphClient({ directory: closed }, 'k'.repeat(32)).request('directory', FindServicesDocument, vars, ctx, 1000));
    expect(err.reason).toBe('UNAVAILABLE');
    expect(err.message).not.toMatch(/127\.0\.0\.1|http/);
  });

  it.each([
    [{ errors: [{ message: 'No such postcode', extensions: { code: 'BAD_USER_INPUT', field: 'near' } }] }, 'BAD_USER_INPUT'],
    [{ errors: [{ message: 'x', extensions: { code: 'SUPPLIER_UNAVAILABLE', reason: 'RATE_LIMITED' } }] }, 'RATE_LIMITED'],
    [{ errors: [{ message: 'x', extensions: { code: 'FORBIDDEN' } }] }, 'FORBIDDEN'],
    [{ errors: [{ message: 'x', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] }, 'UNAVAILABLE'],
    ['<html>502 Bad Gateway</html>', 'INVALID_RESPONSE'],
    [{}, 'INVALID_RESPONSE'],
  ] as const)('answer %j is %s', async (body, reason) => {
    reply = (_req, _body, res) => json(res, 200, body);
    const err = await failure(new SubgraphClient({ directory: url }, 'k'.repeat(32)).request('directory', FindServicesDocument, vars, ctx, 1000));
    expect(err.reason).toBe(reason);
    if (reason === 'BAD_USER_INPUT') expect(err).toMatchObject({ field: 'near', clientMessage: 'No such postcode' });
  });

  it('an HTTP error page is UNAVAILABLE', async () => {
    reply = (_req, _body, res) => json(res, 503, '<html>down</html>');
    const err = await failure(new SubgraphClient({ directory: url }, 'k'.repeat(32)).request('directory', FindServicesDocument, vars, ctx, 1000));
    expect(err.reason).toBe('UNAVAILABLE');
  });
});
