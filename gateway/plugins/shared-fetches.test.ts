import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CONSUMER_HEADER } from '../../common/consumer.js';
import { sharedFetchKey, sharedFetchesPlugin } from './shared-fetches.js';
import type { SubgraphFetch } from './plugin.js';

// A real HTTP subgraph stand-in: counts what reaches it, answers after `release()` so requests overlap for sure.
let server: Server;
let url: string;
let received: { body: string; consumer: string | undefined }[] = [];
let waiting: (() => void)[] = [];
let status = 200;
const release = () => {
  for (const w of waiting.splice(0)) w();
};

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ body, consumer: req.headers[CONSUMER_HEADER] as string | undefined });
      waiting.push(() => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ data: { n: received.length, echo: body.length } }));
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  received = [];
  waiting = [];
  status = 200;
});

const fetchVia: SubgraphFetch = sharedFetchesPlugin().fetch!((u, init) => fetch(u, init), 'booking-standard');
const QUERY = JSON.stringify({ query: 'query Slots__booking_standard__1($representations:[_Any!]!){_entities(representations:$representations){__typename}}', variables: { representations: [{ id: '1' }] } });
const init = (body: string, consumer = 'RX8', trace = 't1'): RequestInit => ({ method: 'POST', body, headers: { 'content-type': 'application/json', [CONSUMER_HEADER]: consumer, 'x-trace-id': trace } });

/** Starts the fetches, waits until the server holds `expected` of them, answers, and returns what each got. */
async function together(inits: RequestInit[], expected: number) {
  const answers = inits.map((i) => fetchVia(url, i).then(async (r) => ({ status: r.status, json: (await r.json()) as { data: { n: number } } })));
  await expect.poll(() => received.length, { timeout: 10_000 }).toBe(expected);
  // Every other fetch has had its turn to join before the answer is sent.
  await new Promise((r) => setImmediate(r));
  release();
  return Promise.all(answers);
}

describe('identical subgraph queries in flight share one fetch', () => {
  it('ten identical queries for one consumer: one request, ten answers of their own', async () => {
    const answers = await together(Array.from({ length: 10 }, (_, i) => init(QUERY, 'RX8', `trace-${i}`)), 1);
    expect(received).toHaveLength(1);
    expect(answers.map((a) => a.json.data.n)).toEqual(Array(10).fill(1));
    // Each caller gets its own object: Apollo shapes results in place.
    answers[0]!.json.data.n = 99;
    expect(answers[1]!.json.data.n).toBe(1);
  });

  it('a different consumer, or different variables, is its own request', async () => {
    const other = JSON.stringify({ ...JSON.parse(QUERY), variables: { representations: [{ id: '2' }] } });
    await together([init(QUERY, 'RX8'), init(QUERY, 'RX8'), init(QUERY, 'ABC'), init(other, 'RX8')], 3);
    expect(received.map((r) => r.consumer).sort()).toEqual(['ABC', 'RX8', 'RX8']);
  });

  it('never shares a mutation', async () => {
    const mutation = JSON.stringify({ query: 'mutation Book__booking_standard__0{bookingStandardBook{code}}', variables: {} });
    await together([init(mutation), init(mutation), init(mutation)], 3);
    expect(sharedFetchKey('s', url, init(mutation))).toBeNull();
    expect(sharedFetchKey('s', url, { ...init(QUERY), method: 'GET' })).toBeNull();
    expect(sharedFetchKey('s', url, init(QUERY))).not.toBeNull();
  });

  it('a query sent after a mutation through the gateway does not join a fetch that began before it', async () => {
    const plugin = sharedFetchesPlugin();
    const shared = plugin.fetch!((u, i) => fetch(u, i), 'booking-standard');
    const before = shared(url, init(QUERY)).then((r) => r.json());
    await expect.poll(() => received.length, { timeout: 10_000 }).toBe(1);
    const hooks = await plugin.apollo!.requestDidStart!({} as never);
    await hooks!.didResolveOperation!({ operation: { operation: 'mutation' } } as never);
    const after = shared(url, init(QUERY)).then((r) => r.json());
    await expect.poll(() => received.length, { timeout: 10_000 }).toBe(2);
    release();
    await Promise.all([before, after]);
  });

  it('headers of a shape it does not know are never shared', () => {
    class Odd {
      [k: string]: string;
    }
    const odd = Object.assign(new Odd(), { [CONSUMER_HEADER]: 'RX8' });
    expect(sharedFetchKey('s', url, { ...init(QUERY), headers: odd as unknown as Record<string, string> })).toBeNull();
    expect(sharedFetchKey('s', url, { ...init(QUERY), headers: new Headers({ [CONSUMER_HEADER]: 'RX8' }) })).toContain('\nRX8\n');
    expect(sharedFetchKey('s', url, { ...init(QUERY), headers: [[CONSUMER_HEADER, 'ABC']] })).toContain('\nABC\n');
  });

  it('queries one after another are each sent: nothing is kept once answered', async () => {
    await together([init(QUERY)], 1);
    await together([init(QUERY)], 2);
    expect(received).toHaveLength(2);
  });

  it('an error answer reaches every caller sharing it', async () => {
    status = 502;
    const answers = await together([init(QUERY), init(QUERY), init(QUERY)], 1);
    expect(answers.map((a) => a.status)).toEqual([502, 502, 502]);
  });
});
