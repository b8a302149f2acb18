/**
 * The GraphQL HTTP handler both the gateway and the subgraphs mount: every complete answer carries its length in
 * bytes (UTF-8, so a Welsh service name counts for what it is), whether written from Apollo's text or from bytes
 * its maker kept (`encodedBody`), and refusals made here carry theirs too.
 */
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGraphQLHandler, createHttpServer, serveGraphQL } from './http-graphql.js';

const NAME = 'Ysbyty Gwynedd — Adran Achosion Brys ŵŷ';
const apollo = new ApolloServer({ typeDefs: 'type Query { name: String, n: Int }', resolvers: { Query: { name: () => NAME, n: () => 7 } } });
const servers: ReturnType<typeof createHttpServer>[] = [];
const logger = { error: () => {} };
/** Texts the `encodedBody` hook was asked about, and what it answered. */
const asked: string[] = [];

async function serve(encodedBody?: (text: string) => Uint8Array | undefined): Promise<string> {
  const handle = createGraphQLHandler(apollo, { maxBodyBytes: 200, context: async () => ({}), ...(encodedBody ? { encodedBody } : {}) });
  const server = createHttpServer((req, res) => serveGraphQL(handle, req, res, logger));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
}

/** The raw answer: status, headers and body bytes as they came off the socket. */
function post(url: string, body: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; bytes: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

beforeAll(async () => {
  await apollo.start();
});

afterAll(async () => {
  for (const s of servers) s.close();
  await apollo.stop();
});

describe('createGraphQLHandler', () => {
  it('sends an answer with its length in UTF-8 bytes, not in characters', async () => {
    const url = await serve();
    const res = await post(url, JSON.stringify({ query: '{ name }' }));
    expect(res.status).toBe(200);
    expect(res.headers['transfer-encoding']).toBeUndefined();
    expect(Number(res.headers['content-length'])).toBe(res.bytes.length);
    const text = res.bytes.toString('utf8');
    expect(res.bytes.length).toBeGreaterThan(text.length);
    expect(JSON.parse(text)).toEqual({ data: { name: NAME } });
  });

  it('writes the bytes its maker kept for a text as they are, and the text itself otherwise', async () => {
    const kept = new Map<string, Buffer>();
    const url = await serve((text) => {
      asked.push(text);
      return kept.get(text);
    });
    const plain = await post(url, JSON.stringify({ query: '{ name }' }));
    const text = plain.bytes.toString('utf8');
    expect(asked).toEqual([text]);
    // Kept bytes that differ from the text's own encoding (as no real maker's would) show which were written.
    const marked = Buffer.from(text.replace('Gwynedd', 'GWYNEDD'), 'utf8');
    kept.set(text, marked);
    const again = await post(url, JSON.stringify({ query: '{ name }' }));
    expect(again.bytes.equals(marked)).toBe(true);
    expect(Number(again.headers['content-length'])).toBe(marked.length);
    const other = await post(url, JSON.stringify({ query: '{ n }' }));
    expect(JSON.parse(other.bytes.toString('utf8'))).toEqual({ data: { n: 7 } });
    expect(Number(other.headers['content-length'])).toBe(other.bytes.length);
  });

  it('gives its own refusals their length too', async () => {
    const url = await serve();
    for (const [body, status] of [['{ not json', 400], [JSON.stringify({ query: `{ name ${' '.repeat(300)}}` }), 413]] as const) {
      const res = await post(url, body);
      expect(res.status).toBe(status);
      expect(Number(res.headers['content-length'])).toBe(res.bytes.length);
      expect(JSON.parse(res.bytes.toString('utf8')).errors[0].extensions.code).toMatch(/BAD_REQUEST|PAYLOAD_TOO_LARGE/);
    }
  });
});
