/**
 * Issue 10, M2: a gateway→subgraph signature covered only the consumer, the trace id and the time, and was good for
 * 120 s: one captured header set read the internal SDL and searched a patient's appointments as that organisation.
 * Now it covers the method, the path and the body too, is good for a few seconds, and is good once (shared through
 * Redis). The header set here is captured on the wire, between the real gateway and the real directory subgraph.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, freePorts, startStack, type Stack } from '../scripts/stack.js';
import { devToken } from '../scripts/token.js';
import { CONSUMER_HEADER } from '../common/consumer.js';
import { SANDBOX_INTERNAL_KEY, SIGNATURE_HEADER, TRACE_HEADER, gatewayHeaders, signInternal } from '../common/internal-auth.js';
import { gql, type GraphQLResponse } from './helpers.js';
import { startRedis, type TestRedis } from './redis.js';
import { SUBGRAPHS } from '../subgraphs/catalog.js';

let stack: Stack;
let redis: TestRedis;
let tap: Server;
let token: string;

interface Captured {
  headers: IncomingHttpHeaders;
  body: string;
}
const captured: Captured[] = [];

/** A wiretap in front of the directory subgraph: records what the gateway sends, forwards it unchanged. */
async function startTap(port: number, target: () => string): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      captured.push({ headers: req.headers, body: body.toString('utf8') });
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'connection') headers[k] = v;
      fetch(`${target()}${req.url === '/graphql' ? '' : req.url}`, { method: req.method ?? 'POST', headers, body })
        .then(async (r) => {
          res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' });
          res.end(Buffer.from(await r.arrayBuffer()));
        })
        .catch(() => {
          res.writeHead(502);
          res.end();
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  return server;
}

/** Sends `body` to a subgraph with exactly these headers. */
async function send(url: string, headers: Record<string, string>, body: string): Promise<{ status: number; json: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

/** The signed headers of a captured request, as an attacker would lift them. */
function lifted(c: Captured): Record<string, string> {
  const pick = (name: string) => {
    const v = c.headers[name];
    return typeof v === 'string' ? { [name]: v } : {};
  };
  return { ...pick(CONSUMER_HEADER), ...pick(TRACE_HEADER), ...pick(SIGNATURE_HEADER) };
}

/** Every subgraph process (the catalog's remote entries: the directory and every supplier adapter). */
const SUBGRAPH_NAMES = SUBGRAPHS.filter((s) => s.remote).map((s) => s.name);
const SDL = JSON.stringify({ query: '{ _service { sdl } }' });
const PATIENT_SEARCH = JSON.stringify({
  query: 'query($input: SupplierPatientAppointmentsInput!) { pasRestPatientAppointments(input: $input) { code appointments { ref } } }',
  variables: { input: { system: 'oakfield-pas', nhsNumber: '9476719931' } },
});

beforeAll(async () => {
  redis = await startRedis();
  const ports = await freePorts();
  const tapPort = await freePort();
  // The gateway reaches the directory subgraph through the tap; everything else is the real stack.
  tap = await startTap(tapPort, () => stack.url('directory'));
  stack = await startStack({
    ports,
    keepAllOutput: true,
    env: { LOG_LEVEL: 'warn', REDIS_URL: redis.url, DIRECTORY_SUBGRAPH_URL: `http://127.0.0.1:${tapPort}/graphql` },
  });
  token = await devToken({ org: 'RX8' });
}, 90_000);

afterAll(async () => {
  await stack?.stopAll();
  tap?.close();
  await redis?.dispose();
});

describe('gateway → subgraph signatures', () => {
  it('a normal request through the gateway still works, signed on the way out', async () => {
    captured.length = 0;
    const res = await gql(stack.gatewayUrl, '{ services(near: { postcode: "LS1 4AP" }, radiusKm: 10, first: 3) { edges { node { id name } } } }', {}, { authorization: `Bearer ${token}` });
    expect(res.errors).toBeUndefined();
    expect(res.data!.services.edges.length).toBeGreaterThan(0);
    expect(captured.length).toBeGreaterThan(0);
    expect(captured[0]!.headers[SIGNATURE_HEADER]).toMatch(/^v2\./);
    expect(captured[0]!.headers[CONSUMER_HEADER]).toBeTruthy();
  });

  it('a captured header set replayed with another body is refused (the internal SDL, a patient search), at any subgraph', async () => {
    captured.length = 0;
    await gql(stack.gatewayUrl, '{ services(near: { postcode: "LS1 4AP" }, radiusKm: 10, first: 1) { edges { node { id } } } }', {}, { authorization: `Bearer ${token}` });
    const headers = lifted(captured[0]!);
    expect(headers[SIGNATURE_HEADER]).toBeTruthy();

    // Immediately, well within the time window, with the organisation's consumer header.
    const sdl = await send(stack.url('directory'), headers, SDL);
    expect(sdl.status).toBe(401);
    expect(JSON.stringify(sdl.json)).not.toContain('type Query');
    const search = await send(stack.url('pas-rest'), headers, PATIENT_SEARCH);
    expect(search.status).toBe(401);
    expect(search.json.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(search.json.data).toBeUndefined();

    // Control: the same bodies with a fresh signature of their own are answered, so the refusals were the signature's.
    const consumer = { odsCode: 'RX8', name: 'NHS 111' };
    const ok = await send(stack.url('directory'), gatewayHeaders(consumer, { url: stack.url('directory'), body: SDL }), SDL);
    expect(ok.status).toBe(200);
    expect(ok.json.data._service.sdl).toContain('type Query');
    const okSearch = await send(stack.url('pas-rest'), gatewayHeaders(consumer, { url: stack.url('pas-rest'), body: PATIENT_SEARCH }), PATIENT_SEARCH);
    expect(okSearch.status).toBe(200);
    expect(okSearch.json.data.pasRestPatientAppointments.code).toBeTruthy();
  });

  it('the same request replayed as it was (same headers, same body) is refused', async () => {
    captured.length = 0;
    await gql(stack.gatewayUrl, '{ services(near: { postcode: "LS1 4AP" }, radiusKm: 10, first: 1) { edges { node { id } } } }', {}, { authorization: `Bearer ${token}` });
    const original = captured[0]!;
    const replay = await send(stack.url('directory'), lifted(original), original.body);
    expect(replay.status).toBe(401);

    // And a signature used once directly is refused the second time, whichever subgraph process sees it.
    const headers = gatewayHeaders(null, { url: stack.url('directory'), body: SDL });
    expect((await send(stack.url('directory'), headers, SDL)).status).toBe(200);
    expect((await send(stack.url('directory'), headers, SDL)).status).toBe(401);
  });

  it('a signature 60 s old (or 60 s ahead) is refused, even over the right request', async () => {
    const url = stack.url('directory');
    for (const offset of [-60, 60]) {
      const at = Math.floor(Date.now() / 1000) + offset;
      const signature = signInternal(SANDBOX_INTERNAL_KEY, { method: 'POST', path: '/graphql', body: SDL, consumer: '', traceId: 't' }, at);
      const res = await send(url, { [TRACE_HEADER]: 't', [SIGNATURE_HEADER]: signature }, SDL);
      expect(res.status, `offset ${offset}`).toBe(401);
    }
    // The same, signed now: accepted.
    const now = signInternal(SANDBOX_INTERNAL_KEY, { method: 'POST', path: '/graphql', body: SDL, consumer: '', traceId: 't' });
    expect((await send(url, { [TRACE_HEADER]: 't', [SIGNATURE_HEADER]: now }, SDL)).status).toBe(200);
  });

  it('the gateway-owned operations and readiness sign what they send (availability, an appointment search, /health/ready)', async () => {
    const logAt = Object.fromEntries(SUBGRAPH_NAMES.map((n) => [n, stack.output(n).length]));
    // Readiness is served on the gateway's operational port; its probes are signed requests to every subgraph.
    const ready = await fetch(`http://127.0.0.1:${stack.port('gateway-internal')}/health/ready`);
    expect(ready.status).toBe(200);
    const from = new Date(Date.now() + 24 * 3600_000).toISOString();
    const to = new Date(Date.now() + 48 * 3600_000).toISOString();
    // What is checked is the signing; a supplier slow on a busy machine (a cold cache, a TIMEOUT in coverage) is
    // asked again, a few times, rather than failing a test that is not about it.
    let avail: GraphQLResponse<Record<string, any>> | undefined;
    for (let attempt = 0; attempt < 4; attempt++) {
      avail = await gql(
        stack.gatewayUrl,
        'query($s: AvailabilitySearch!) { availability(search: $s) { totalCount coverage { failures { supplierSystem reason } } } }',
        { s: { serviceIds: ['1402000105', '1402000301'], from, to, first: 5 } },
        { authorization: `Bearer ${token}` },
      );
      expect(avail.errors).toBeUndefined();
      if (avail.data!.availability.coverage.failures.length === 0) break;
    }
    expect(avail!.data!.availability.coverage.failures).toEqual([]);
    expect(avail!.data!.availability.totalCount).toBeGreaterThan(0);
    const search = await gql(
      stack.gatewayUrl,
      'query($p: PatientLookupInput!) { appointments(patient: $p) { failures { supplierSystem outcome } } }',
      { p: { nhsNumber: '9476719931' } },
      { authorization: `Bearer ${token}` },
    );
    expect(search.errors).toBeUndefined();
    expect(search.data!.appointments.failures.filter((f: { outcome: string }) => f.outcome === 'SUPPLIER_UNAVAILABLE')).toEqual([]);
    // No subgraph refused the gateway during this test.
    for (const name of SUBGRAPH_NAMES) {
      expect(stack.output(name).slice(logAt[name]), name).not.toContain('refused a request not signed by the gateway');
    }
  });
});
