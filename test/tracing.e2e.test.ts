/**
 * One trace across processes: a client's W3C traceparent is continued by the gateway, each subgraph fetch, the
 * subgraph's operation and the supplier call, all exported over OTLP/HTTP to a receiver this test runs itself.
 */
import { createServer, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, freePorts, startStack, type Stack } from '../scripts/stack.js';
import { devToken } from '../scripts/token.js';
import { gql } from './helpers.js';

interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  attributes: Record<string, unknown>;
}

let stack: Stack;
let receiver: Server;
let rawBodies = '';
const spans: ReceivedSpan[] = [];

/** OTLP/HTTP JSON: resourceSpans → scopeSpans → spans, ids as hex strings. */
function collect(body: string): void {
  const doc = JSON.parse(body) as {
    resourceSpans?: { resource?: { attributes?: { key: string; value: { stringValue?: string } }[] }; scopeSpans?: { spans?: Record<string, any>[] }[] }[];
  };
  for (const rs of doc.resourceSpans ?? []) {
    const service = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        const attributes = Object.fromEntries(((s.attributes ?? []) as { key: string; value: Record<string, unknown> }[]).map((a) => [a.key, Object.values(a.value)[0]]));
        spans.push({ service, traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId ?? '', name: s.name, attributes });
      }
    }
  }
}

beforeAll(async () => {
  const port = await freePort();
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      if (req.url === '/v1/traces' && (req.headers['content-type'] ?? '').includes('json')) {
        rawBodies += body;
        collect(body);
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => receiver.listen(port, '127.0.0.1', () => r()));
  stack = await startStack({ ports: await freePorts(), env: { LOG_LEVEL: 'warn', OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` } });
}, 90_000);

afterAll(async () => {
  await stack?.stopAll();
  await new Promise<void>((r) => receiver?.close(() => r()));
});

async function spansOf(traceId: string, until: (s: ReceivedSpan[]) => boolean): Promise<ReceivedSpan[]> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const mine = spans.filter((s) => s.traceId === traceId);
    if (until(mine) || Date.now() > deadline) return mine;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('traces', () => {
  it('follow a booking from the client through the gateway and the subgraph to the supplier call, with no patient data', async () => {
    const auth = { authorization: `Bearer ${await devToken({ org: 'RX8' })}` };
    const from = new Date(Date.now() + 24 * 3600_000);
    const slots = await gql(
      stack.gatewayUrl,
      'query($from: DateTime!, $to: DateTime!) { service(id: "1402000101") { ... on BookingStandardService { slots(from: $from, to: $to, first: 5) { nodes { id } } } } }',
      { from: from.toISOString(), to: new Date(from.getTime() + 24 * 3600_000).toISOString() },
      auth,
    );
    const slotId = slots.data!.service.slots.nodes[0].id as string;
    const traceId = randomBytes(16).toString('hex');
    const traceparent = `00-${traceId}-${randomBytes(8).toString('hex')}-01`;
    const booked = await gql(
      stack.gatewayUrl,
      'mutation($input: BookAppointmentInput!) { bookAppointment(input: $input) { outcome } }',
      {
        input: {
          slotId,
          idempotencyKey: `trace-${traceId}`,
          description: 'traced booking',
          patient: { nhsNumber: '9476719931', name: { family: 'Tracey', given: ['Ottilie'] }, birthDate: '1984-02-29', gender: 'FEMALE', address: { lines: ['1 Park Row'], city: 'Leeds', postcode: 'LS1 5AB' } },
          clinicalHandover: { reportId: '6f1f1c2e-8c7b-4d6e-9f0a-1b2c3d4e5f60', summary: 'Traced.', authorOdsCode: 'RX8' },
        },
      },
      { ...auth, traceparent },
    );
    expect(booked.data?.bookAppointment.outcome).toBe('BOOKED');

    const mine = await spansOf(traceId, (s) => s.some((x) => x.name === 'supplier call') && s.some((x) => x.name === 'gateway request'));
    const services = new Set(mine.map((s) => s.service));
    expect(services.has('gateway')).toBe(true);
    expect(services.has('booking-standard-subgraph')).toBe(true);
    const request = mine.find((s) => s.name === 'gateway request' && s.service === 'gateway');
    const operation = mine.find((s) => s.name === 'subgraph operation' && s.service === 'booking-standard-subgraph');
    const supplier = mine.find((s) => s.name === 'supplier call' && s.attributes['http.request.method'] === 'POST');
    expect(request, 'gateway request span').toBeDefined();
    expect(operation, 'subgraph operation span').toBeDefined();
    expect(supplier, 'supplier call span').toBeDefined();
    expect(supplier!.attributes['supplier.system']).toBe('harbour-uec');
    // Parent links hold the tree together: the supplier call sits inside the subgraph operation.
    const ids = new Set(mine.map((s) => s.spanId));
    expect(ids.has(supplier!.parentSpanId)).toBe(true);
    expect(operation!.parentSpanId).not.toBe('');
    // Nothing about the patient in any span of any trace.
    for (const secret of ['9476719931', 'Tracey', 'Ottilie', '1984-02-29', 'LS1 5AB']) expect(rawBodies).not.toContain(secret);
  }, 60_000);

  it('gives a read its spans for the gateway request and each fetch of the plan', async () => {
    const traceId = randomBytes(16).toString('hex');
    const res = await gql(stack.gatewayUrl, '{ service(id: "1402000101") { name ... on BookingStandardService { nextAvailable { id } } } }', {}, {
      traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`,
    });
    expect(res.errors).toBeUndefined();
    const mine = await spansOf(traceId, (s) => s.filter((x) => x.name === 'subgraph fetch').length >= 2 && s.some((x) => x.name === 'supplier call'));
    const fetched = new Set(mine.filter((s) => s.name === 'subgraph fetch').map((s) => s.attributes['graphql.subgraph']));
    expect(fetched).toEqual(new Set(['directory', 'booking-standard']));
    expect(mine.some((s) => s.service === 'directory-subgraph' && s.name === 'subgraph operation')).toBe(true);
  }, 60_000);
});
