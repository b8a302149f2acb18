/**
 * The gateway's side of the operator's view over real HTTP: subgraph stand-ins that verify the gateway's signature
 * and answer a real tracker's view, answer nonsense, or never answer. Every registry system is reported; nothing
 * but the silent subgraph's systems is UNKNOWN, and the report never holds a URL.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIGNATURE_HEADER, verifyInternal } from '../../common/internal-auth.js';
import type { Registry } from '../../subgraphs/kit/registry.js';
import { SUPPLIER_STATUS_PATH, SupplierStatusTracker } from '../../subgraphs/kit/supplier-status.js';
import { supplierStatusReport } from './supplier-status.js';

const KEY = 'a-test-internal-key-that-is-long-enough';
const servers: Server[] = [];
const paths: string[] = [];

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const s = createServer(handler);
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}/graphql`;
}

const registry = {
  systems: [
    { id: 'harbour-uec', kind: 'BOOKING_STANDARD', name: 'Harbour', rateLimitPerSecond: 200 },
    { id: 'meridian-ooh', kind: 'BOOKING_STANDARD', name: 'Meridian', rateLimitPerSecond: 200 },
    { id: 'oakfield-pas', kind: 'PAS_REST', name: 'Oakfield', rateLimitPerSecond: 10 },
    { id: 'smart-urgent-care', kind: 'SMART_LINKS', name: 'Feed', rateLimitPerSecond: 2 },
  ],
} as unknown as Registry;

let urls: Record<string, string>;

beforeAll(async () => {
  const tracker = new SupplierStatusTracker();
  for (let i = 0; i < 9; i++) tracker.recordCall('harbour-uec', 120, { ok: false, reason: 'UNAVAILABLE' });
  tracker.recordCall('harbour-uec', 80, { ok: true, status: 200 });
  tracker.recordCall('meridian-ooh', 40, { ok: true, status: 200 });
  tracker.recordThrottle('meridian-ooh', 'waited');
  tracker.registerSource({ circuit: (s) => (s === 'harbour-uec' ? 'OPEN' : 'CLOSED') });
  urls = {
    'booking-standard': await serve((req, res) => {
      paths.push(req.url ?? '');
      const check = verifyInternal(KEY, req.headers[SIGNATURE_HEADER] as string | undefined, { method: req.method ?? '', path: req.url ?? '', body: '', consumer: '', traceId: (req.headers['x-trace-id'] as string) ?? '' });
      res.writeHead(check.ok ? 200 : 401, { 'content-type': 'application/json' });
      res.end(JSON.stringify(check.ok ? tracker.view() : { error: 'unsigned' }));
    }),
    // Answers, but not a status view (a proxy's page, another version): its systems are UNKNOWN.
    'pas-rest': await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ replica: 'http://10.0.0.1:4003', systems: 'nope' }));
    }),
    // Never answers.
    'smart-links': await serve(() => {}),
  };
});

afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

describe('supplierStatusReport', () => {
  it('reports every registry system: from the subgraph that answered, UNKNOWN for those that did not', async () => {
    // The silent subgraph holds the report only until the deadline (else this test would time out).
    const report = await supplierStatusReport({ registry, subgraphUrls: urls, internalKey: KEY, timeoutMs: 500 });
    expect(paths).toEqual([SUPPLIER_STATUS_PATH]);
    const by = Object.fromEntries(report.systems.map((s) => [s.system, s]));
    expect(report.systems.map((s) => s.system)).toEqual(registry.systems.map((s) => s.id));

    expect(by['harbour-uec']).toMatchObject({
      health: 'FAILING',
      circuit: 'OPEN',
      subgraph: 'booking-standard',
      lastFailureReason: 'UNAVAILABLE',
      reportedBy: { pid: process.pid },
      last5Minutes: { calls: 10, failures: 9, errorRate: 0.9, p95LatencyMs: 200, failuresByReason: [{ reason: 'UNAVAILABLE', count: 9 }] },
      throttle: { limitPerSecond: 200, state: 'CLEAR' },
    });
    expect(by['harbour-uec']!.dataAgeSeconds).toBeGreaterThanOrEqual(0);
    expect(by['harbour-uec']!.lastHour).toHaveLength(60);
    expect(by['meridian-ooh']).toMatchObject({ health: 'OK', circuit: 'CLOSED', last5Minutes: { errorRate: 0 }, throttle: { state: 'WAITING' } });
    for (const id of ['oakfield-pas', 'smart-urgent-care']) {
      expect(by[id]).toMatchObject({ health: 'UNKNOWN', circuit: 'UNKNOWN', reportedBy: null, lastSuccessAt: null, throttle: { state: 'UNKNOWN' } });
    }
    expect(JSON.stringify(report)).not.toMatch(/https?:\/\/|10\.0\.0\.1/);
  });

  it('gives UNKNOWN for a subgraph that refuses the signature, and for kinds with no subgraph URL configured', async () => {
    const report = await supplierStatusReport({ registry, subgraphUrls: { 'booking-standard': urls['booking-standard']! }, internalKey: 'another-key-that-the-subgraph-refuses!!', timeoutMs: 500 });
    // A refused signature is an answer the gateway cannot use: UNKNOWN as well.
    expect(report.systems.every((s) => s.health === 'UNKNOWN')).toBe(true);
  });
});
