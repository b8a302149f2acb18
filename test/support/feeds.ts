/**
 * Test support (not used at run time): small SMART feeds built in a temporary folder and served by the sandbox
 * publisher, so ingest is tested over real HTTP against exactly the defect a test describes.
 */
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFeedPublisher, type FeedDataSet } from '../../sandbox/feeds/server.js';
import type { SandboxServer } from '../../sandbox/lib/http.js';
import type { SmartLinksSystem } from '../../subgraphs/kit/registry.js';

/** A fixture file: its manifest type and its lines (objects are written as JSON, strings as they are). */
export interface FixtureFile {
  type: string;
  lines: (object | string)[];
}

export interface FixtureFeed {
  files: Record<string, FixtureFile>;
  /** The manifest: default lists every file under https://publisher.example/feed/, as a real one would. */
  manifest?: Record<string, unknown> | string;
  cache?: FeedDataSet['cache'];
}

export const PUBLISHER_BASE = 'https://publisher.example/feed';

export function defaultManifest(files: Record<string, FixtureFile>): Record<string, unknown> {
  return {
    transactionTime: '2026-11-20T09:00:00Z',
    request: `${PUBLISHER_BASE}/$bulk-publish`,
    output: Object.entries(files).map(([name, f]) => ({ type: f.type, url: `${PUBLISHER_BASE}/${name}` })),
    error: [],
  };
}

export interface ServedFixtures {
  publisher: SandboxServer;
  /** The folder a data set's files are in (tests rewrite them to simulate a new publication). */
  dir(name: string): string;
  /** A registry system reading data set `name`. */
  system(name: string, overrides?: Partial<SmartLinksSystem>): SmartLinksSystem;
  /** Requests the publisher received (the shared sandbox log), oldest first. */
  requests(): Promise<{ path: string; headers: Record<string, string>; status?: number }[]>;
  clearRequests(): Promise<void>;
  /** Rewrites one data set's files (and manifest) in place. */
  write(name: string, feed: FixtureFeed): Promise<void>;
  close(): Promise<void>;
}

export async function serveFixtures(sets: Record<string, FixtureFeed>, opts: { now?: () => Date } = {}): Promise<ServedFixtures> {
  const root = await mkdtemp(join(tmpdir(), 'smart-feed-'));
  const write = async (name: string, feed: FixtureFeed) => {
    const dir = join(root, name);
    await mkdir(dir, { recursive: true });
    for (const [file, f] of Object.entries(feed.files)) {
      await writeFile(join(dir, file), f.lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
    }
    const manifest = feed.manifest ?? defaultManifest(feed.files);
    await writeFile(join(dir, '$bulk-publish'), typeof manifest === 'string' ? manifest : JSON.stringify(manifest, null, 2));
  };
  const dataSets: FeedDataSet[] = [];
  for (const [name, feed] of Object.entries(sets)) {
    await write(name, feed);
    dataSets.push({ name, dir: join(root, name), shiftDates: false, ...(feed.cache ? { cache: feed.cache } : {}) });
  }
  const publisher = await startFeedPublisher({ port: 0, dataSets, ...(opts.now ? { now: opts.now } : {}) });
  return {
    publisher,
    dir: (name) => join(root, name),
    system: (name, overrides = {}) => smartSystem(`fixture-${name}`.slice(0, 40), `${publisher.url}/${name}/$bulk-publish`, overrides),
    requests: async () => (await (await fetch(`${publisher.url}/_sandbox/requests`)).json()) as never,
    clearRequests: async () => {
      await fetch(`${publisher.url}/_sandbox/requests`, { method: 'DELETE' });
    },
    write,
    close: async () => {
      await publisher.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

export function smartSystem(id: string, manifestUrl: string, overrides: Partial<SmartLinksSystem> = {}): SmartLinksSystem {
  return {
    id,
    kind: 'SMART_LINKS',
    name: `Feed ${id}`,
    manifestUrl,
    pollFloorSeconds: 60,
    deadlineMs: 3000,
    cacheTtlSeconds: 60,
    rateLimitPerSecond: 2,
    ...overrides,
  };
}

/** A controllable clock for polling decisions. */
export function testClock(start = '2026-11-21T10:00:00Z'): { now: () => Date; advance(seconds: number): void } {
  let t = Date.parse(start);
  return { now: () => new Date(t), advance: (s) => (t += s * 1000) };
}

// ---- resource builders: valid by default, each test overrides what it breaks ----------------------------------

const SD = 'http://fhir-registry.smarthealthit.org/StructureDefinition';

export function location(id: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    resourceType: 'Location',
    id,
    name: `Clinic ${id}`,
    telecom: [
      { system: 'phone', value: '617-555-0100' },
      { system: 'url', value: `https://clinic.example/locations/${id}` },
    ],
    address: { line: [`${id} Main St`], city: 'Boston', state: 'MA', postalCode: '02114' },
    identifier: [{ system: 'https://clinic.example/sites', value: `SITE-${id}` }],
    ...over,
  };
}

export function schedule(id: string, locationId: string, code = '57', over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    resourceType: 'Schedule',
    id,
    actor: [{ reference: `Location/${locationId}` }],
    serviceType: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/service-type', code, display: code === '57' ? 'Immunization' : code }] }],
    ...over,
  };
}

export function slot(id: string, scheduleId: string, start: string, end: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    resourceType: 'Slot',
    id,
    schedule: { reference: `Schedule/${scheduleId}` },
    status: 'free',
    start,
    end,
    extension: [
      { url: `${SD}/booking-deep-link`, valueUrl: `https://portal.example/book?slot=${id}` },
      { url: `${SD}/booking-phone`, valueString: '617-555-0199' },
    ],
    ...over,
  };
}

export function capacity(n: unknown): Record<string, unknown> {
  return { url: `${SD}/slot-capacity`, valueInteger: n };
}

export function deepLink(url: string): Record<string, unknown> {
  return { url: `${SD}/booking-deep-link`, valueUrl: url };
}

/** A one-location, one-schedule feed with the given slot lines. */
export function simpleFeed(slots: (object | string)[], over: { locations?: (object | string)[]; schedules?: (object | string)[] } = {}): FixtureFeed {
  return {
    files: {
      'locations.ndjson': { type: 'Location', lines: over.locations ?? [location('1')] },
      'schedules.ndjson': { type: 'Schedule', lines: over.schedules ?? [schedule('10', '1')] },
      'slots.ndjson': { type: 'Slot', lines: slots },
    },
  };
}
