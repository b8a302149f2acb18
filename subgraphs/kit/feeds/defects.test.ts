/**
 * One test per defect production SMART feeds are known to contain (spec §1.8), each on a small feed built here and
 * served over HTTP by the sandbox publisher. Each checks what ingest did with the bad record (normalised, flagged
 * or skipped, with its issue) and that the good records around it are untouched.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeedReader, type FeedIssue, type FeedSnapshot } from './index.js';
import {
  PUBLISHER_BASE,
  capacity,
  deepLink,
  location,
  schedule,
  serveFixtures,
  simpleFeed,
  slot,
  testClock,
  type FixtureFeed,
  type ServedFixtures,
} from '../../../test/support/feeds.js';

const FEEDS: Record<string, FixtureFeed> = {
  dst: simpleFeed([
    slot('summer-winter-offset', '10', '2026-07-15T09:00:00-05:00', '2026-07-15T09:15:00-05:00'),
    slot('summer-right', '10', '2026-07-15T09:15:00-04:00', '2026-07-15T09:30:00-04:00'),
    slot('summer-utc', '10', '2026-07-15T13:30:00Z', '2026-07-15T13:45:00Z'),
    slot('winter-right', '10', '2026-01-15T09:00:00-05:00', '2026-01-15T09:15:00-05:00'),
    slot('nowhere-offset', '10', '2026-01-15T09:00:00+03:00', '2026-01-15T09:15:00+03:00'),
  ]),
  'shared-ids': simpleFeed(
    [
      slot('7', '7', '2026-12-01T09:00:00Z', '2026-12-01T09:15:00Z'),
      slot('7', '7', '2026-12-01T09:15:00Z', '2026-12-01T09:30:00Z'),
      slot('7', '7', '2026-12-01T09:30:00Z', '2026-12-01T09:45:00Z'),
      slot('7', '7', '2026-12-01T09:30:00Z', '2026-12-01T09:45:00Z'),
    ],
    {
      locations: [location('7'), location('7', { name: 'Another site with the same id' })],
      schedules: [schedule('7', '7')],
    },
  ),
  'loose-values': simpleFeed([
    slot('cap-string', '10', '2026-12-01T09:00:00Z', '2026-12-01T10:00:00Z', { extension: [capacity('12')] }),
    slot('cap-zero', '10', '2026-12-01T10:00:00Z', '2026-12-01T11:00:00Z', { extension: [capacity('0')] }),
    slot('cap-negative', '10', '2026-12-01T11:00:00Z', '2026-12-01T12:00:00Z', { extension: [capacity(-5)] }),
    slot('status-null', '10', '2026-12-01T12:00:00Z', '2026-12-01T13:00:00Z', { status: null }),
    slot('end-before-start', '10', '2026-12-01T13:00:00Z', '2026-12-01T12:00:00Z'),
    slot('no-offset', '10', '2026-12-01T13:00:00', '2026-12-01T13:15:00'),
    slot('status-caps', '10', '2026-12-01T14:00:00Z', '2026-12-01T14:15:00Z', { status: 'FREE' }),
    { ...slot('', '10', '2026-12-01T15:00:00Z', '2026-12-01T15:15:00Z'), id: 42 },
    '{"resourceType":"Slot","id":"truncated","sched',
    JSON.stringify(location('stray')),
    slot('after-the-damage', '10', '2026-12-01T16:00:00Z', '2026-12-01T16:15:00Z'),
  ], {
    schedules: [
      schedule('10', '1'),
      schedule('11', '1', '57', { serviceType: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/service-type', code: null, display: 'Flu jabs' }] }] }),
    ],
  }),
  codings: {
    files: {
      'locations.ndjson': {
        type: 'Location',
        lines: [
          location('1', {
            identifier: [
              { system: 'https://cdc.gov/vaccines/programs/vtrcks', value: 'unknown VTrckS pin' },
              { system: 'https://pharmacy.example/stores', value: 'null' },
              { system: 'https://pharmacy.example/stores', value: 'STORE-0042' },
            ],
          }),
        ],
      },
      'schedules.ndjson': {
        type: 'Schedule',
        lines: [
          schedule('10', '1', '57', { serviceType: [{ coding: [{ system: 'https://www.pharmacy.example/', code: '57', display: 'Immunization' }] }] }),
          schedule('11', '1', '57', { serviceType: [{ coding: [{ system: 'https://www.pharmacy.example/', code: 'flu-2026', display: 'Flu clinic' }] }] }),
        ],
      },
      'slots.ndjson': { type: 'Slot', lines: [] },
    },
  },
  coarse: simpleFeed([
    slot('whole-day', '10', '2026-12-01T00:00:00-05:00', '2026-12-01T23:59:00-05:00', { extension: [capacity(80)] }),
    slot('three-days', '10', '2026-12-01T09:00:00-05:00', '2026-12-04T17:00:00-05:00', { extension: [capacity(300), deepLink('https://portal.example/book?week=49')] }),
    slot('fine', '10', '2026-12-05T09:00:00-05:00', '2026-12-05T09:10:00-05:00'),
  ]),
  zips: {
    files: {
      'locations.ndjson': {
        type: 'Location',
        lines: [
          location('boston', { address: { line: ['123 Summer St'], city: 'Boston', state: 'MA', postalCode: '2114' } }),
          location('worcester', { address: { line: ['123 West St'], city: 'Worcester', state: 'MA', postalCode: 1602 } }),
          location('leeds', { address: { line: ['1 Park Row'], city: 'Leeds', country: 'GB', postalCode: 'LS1 5AB' } }),
        ],
      },
      'schedules.ndjson': { type: 'Schedule', lines: [schedule('1', 'boston'), schedule('2', 'worcester'), schedule('3', 'leeds')] },
    },
  },
  brand: {
    files: {
      'locations.ndjson': {
        type: 'Location',
        lines: [
          location('1', { name: 'SMART Pharmacy', address: { line: ['1 Main St'], city: 'Boston', state: 'MA', postalCode: '02114' } }),
          location('2', { name: 'SMART Pharmacy', address: { line: ['2 Main St'], city: 'Lowell', state: 'MA', postalCode: '01851' } }),
          location('3', { name: 'SMART Pharmacy', address: { line: ['3 Elm St'], city: 'Quincy', state: 'MA', postalCode: '02169' } }),
          location('4', { name: 'Harbour Walk-in Centre' }),
        ],
      },
      'schedules.ndjson': { type: 'Schedule', lines: ['1', '2', '3', '4'].map((l) => schedule(`s${l}`, l)) },
    },
  },
  'landing-page': simpleFeed([
    slot('a', '10', '2026-12-01T09:00:00Z', '2026-12-01T09:15:00Z', { extension: [deepLink('https://pharmacy.example/covid-vaccine')] }),
    slot('b', '10', '2026-12-01T09:15:00Z', '2026-12-01T09:30:00Z', { extension: [deepLink('https://pharmacy.example/covid-vaccine')] }),
    slot('c', '10', '2026-12-01T09:30:00Z', '2026-12-01T09:45:00Z', { extension: [deepLink('https://pharmacy.example/')] }),
    slot('d', '10', '2026-12-01T09:45:00Z', '2026-12-01T10:00:00Z'),
  ]),
  'sloppy-manifest': {
    files: {
      'locations.ndjson': { type: 'Location', lines: [location('1')] },
      'schedules.ndjson': { type: 'Schedule', lines: [schedule('10', '1')] },
      'slots-ma.ndjson': { type: 'Slot', lines: [slot('s1', '10', '2026-12-01T09:00:00Z', '2026-12-01T09:15:00Z')] },
    },
    manifest: {
      transactionTime: '2026-11-20T09:00:00Z',
      request: `${PUBLISHER_BASE}/$bulk-publish/`,
      requiresAccessToken: null,
      outputFormat: null,
      output: [
        { type: 'Location', url: `${PUBLISHER_BASE}/locations.ndjson/`, extension: null },
        null,
        { type: 'Schedule', url: `${PUBLISHER_BASE}/schedules.ndjson`, extension: { state: null } },
        { type: 'Slot', url: `${PUBLISHER_BASE}/slots-ma.ndjson/`, extension: { state: 'MA' } },
        { type: 'Slot', url: null },
        { type: 'HealthcareService', url: `${PUBLISHER_BASE}/services.ndjson` },
      ],
      error: null,
    },
  },
  'no-store': { ...simpleFeed([slot('s1', '10', '2026-12-01T09:00:00Z', '2026-12-01T09:15:00Z')]), cache: { cacheControl: 'no-store', etag: 'weak', lastModified: false } },
  // Same start and service: the ids alone order them, in code units (upper case before lower), as ranking compares.
  'tie-order': simpleFeed([
    slot('b', '10', '2026-12-01T09:00:00Z', '2026-12-01T09:15:00Z'),
    slot('a', '10', '2026-12-01T09:00:00Z', '2026-12-01T09:15:00Z'),
    slot('B', '10', '2026-12-01T09:00:00Z', '2026-12-01T09:15:00Z'),
    slot('early', '10', '2026-12-01T08:45:00Z', '2026-12-01T09:00:00Z'),
  ]),
  'no-headers': { ...simpleFeed([slot('s1', '10', '2026-12-01T09:00:00Z', '2026-12-01T09:15:00Z')]), cache: { cacheControl: 'none', etag: 'none', lastModified: false } },
};

let served: ServedFixtures;
beforeAll(async () => {
  served = await serveFixtures(FEEDS);
});
afterAll(() => served.close());

async function read(name: string): Promise<FeedSnapshot> {
  return new FeedReader(served.system(name)).snapshot();
}
const issuesOf = (feed: FeedSnapshot, kind: FeedIssue['kind']) => feed.issues.filter((i) => i.kind === kind);
const slotById = (feed: FeedSnapshot, id: string) => feed.slots.find((s) => s.id === id);

describe('§1.8 defects, each tolerated without touching the rest of the feed', () => {
  it('wrong daylight-saving offset: flagged, kept at the published instant, correct offsets and UTC untouched', async () => {
    const feed = await read('dst');
    expect(feed.slots).toHaveLength(5);
    const wrong = slotById(feed, 'summer-winter-offset')!;
    expect(wrong).toMatchObject({ offsetSuspect: true, start: '2026-07-15T14:00:00.000Z' });
    expect(slotById(feed, 'nowhere-offset')!.offsetSuspect).toBe(true);
    for (const id of ['summer-right', 'summer-utc', 'winter-right']) expect(slotById(feed, id)!.offsetSuspect).toBe(false);
    const issues = issuesOf(feed, 'wrong-offset');
    expect(issues.map((i) => [i.id, i.action, i.line])).toEqual([
      ['summer-winter-offset', 'flagged', 1],
      ['nowhere-offset', 'flagged', 5],
    ]);
    expect(issues[0]!.reason).toContain('America/New_York is at -04:00');
    expect(issues[0]!.reason).toContain('daylight saving');
    expect(issues[1]!.reason).not.toContain('daylight saving');
  });

  it('ids not unique: location id reused as schedule id and as every slot id; slots kept distinct, a second Location skipped', async () => {
    const feed = await read('shared-ids');
    expect(feed.services.map((s) => [s.id, s.name, s.scheduleIds])).toEqual([['smart:fixture-shared-ids:7:57', 'Clinic 7', ['7']]]);
    const slots = feed.slotsByService.get('smart:fixture-shared-ids:7:57')!;
    expect(slots).toHaveLength(4);
    expect(new Set(slots.map((s) => s.id)).size).toBe(4);
    expect(slots.map((s) => s.publishedId)).toEqual(['7', '7', '7', '7']);
    expect(slots.map((s) => s.start)).toEqual(['2026-12-01T09:00:00.000Z', '2026-12-01T09:15:00.000Z', '2026-12-01T09:30:00.000Z', '2026-12-01T09:30:00.000Z']);
    expect(issuesOf(feed, 'duplicate-id').map((i) => [i.resourceType, i.action, i.line])).toEqual([
      ['Location', 'skipped', 2],
      ['Slot', 'normalised', null],
    ]);
    // The keys are a function of the records: the same feed read again gives the same ids.
    expect((await read('shared-ids')).slots.map((s) => s.id)).toEqual(feed.slots.map((s) => s.id));
  });

  it('numbers as strings, nulls and impossible values: repaired or the one record skipped, the lines after it read', async () => {
    const feed = await read('loose-values');
    const ids = feed.slots.map((s) => s.id);
    expect(ids).toEqual(['cap-string', 'cap-zero', 'cap-negative', 'status-caps', '42', 'after-the-damage']);
    expect(slotById(feed, 'cap-string')!.capacity).toBe(12);
    expect(slotById(feed, 'cap-zero')!.capacity).toBe(0);
    expect(slotById(feed, 'cap-negative')!.capacity).toBeNull();
    expect(slotById(feed, 'status-caps')!.status).toBe('free');
    const at = (line: number) => feed.issues.filter((i) => i.file === 'slots.ndjson' && i.line === line).map((i) => [i.kind, i.action]);
    expect(at(1)).toEqual([['coerced', 'normalised']]);
    expect(at(3)).toEqual([['invalid-value', 'normalised']]);
    expect(at(4)).toEqual([['missing-field', 'skipped']]);
    expect(at(5)).toEqual([['invalid-value', 'skipped']]);
    expect(at(6)).toEqual([['invalid-value', 'skipped']]);
    expect(at(8)).toEqual([['coerced', 'normalised']]);
    expect(at(9)).toEqual([['invalid-json', 'skipped']]);
    expect(at(10)).toEqual([['wrong-type', 'skipped']]);
    // A coding with a null code: the service exists, named by its display, typed OTHER, id suffix `other`.
    expect(feed.servicesById.get('smart:fixture-loose-values:1:other')).toMatchObject({ serviceType: 'OTHER', serviceTypeName: 'Flu jabs' });
    expect(feed.issues.find((i) => i.file === 'schedules.ndjson')).toMatchObject({ kind: 'missing-field', action: 'flagged', id: '11' });
  });

  it('coding systems with unrelated URLs, placeholder identifiers: a recognisable code read, an unknown one OTHER, placeholders dropped', async () => {
    const feed = await read('codings');
    expect(feed.servicesById.get('smart:fixture-codings:1:57')).toMatchObject({ serviceType: 'VACCINATION', serviceTypeName: 'Immunization' });
    expect(feed.servicesById.get('smart:fixture-codings:1:flu-2026')).toMatchObject({ serviceType: 'OTHER', serviceTypeName: 'Flu clinic' });
    expect(issuesOf(feed, 'unknown-coding-system').map((i) => [i.id, i.action])).toEqual([
      ['10', 'normalised'],
      ['11', 'flagged'],
    ]);
    expect(feed.services[0]!.identifiers).toEqual([{ system: 'https://pharmacy.example/stores', value: 'STORE-0042' }]);
    expect(issuesOf(feed, 'placeholder').map((i) => i.reason)).toEqual([
      'identifier value "unknown VTrckS pin" is a placeholder; dropped',
      'identifier value "null" is a placeholder; dropped',
    ]);
  });

  it('coarse slots: a whole-day window is a session with its capacity; a multi-day "slot" is kept and flagged', async () => {
    const feed = await read('coarse');
    expect(slotById(feed, 'whole-day')).toMatchObject({ coarse: 'day', capacity: 80, offsetSuspect: false });
    expect(slotById(feed, 'three-days')).toMatchObject({ coarse: 'multi-day', capacity: 300, start: '2026-12-01T14:00:00.000Z', end: '2026-12-04T22:00:00.000Z' });
    expect(slotById(feed, 'fine')!.coarse).toBeNull();
    expect(issuesOf(feed, 'coarse-slot').map((i) => [i.id, i.action, i.reason])).toEqual([['three-days', 'flagged', 'one slot spans 3.3 days with capacity 300']]);
  });

  it('postal codes that lost a leading zero: US ZIPs padded back (string or number), a UK postcode untouched', async () => {
    const feed = await read('zips');
    const zip = (loc: string) => feed.services.find((s) => s.locationId === loc)!.address.postalCode;
    expect([zip('boston'), zip('worcester'), zip('leeds')]).toEqual(['02114', '01602', 'LS1 5AB']);
    expect(issuesOf(feed, 'postal-code').map((i) => i.id)).toEqual(['boston', 'worcester']);
    expect(feed.services.find((s) => s.locationId === 'leeds')!.timeZone).toBe('Europe/London');
  });

  it('every location under the same brand name: each given its town, other names untouched', async () => {
    const feed = await read('brand');
    expect(feed.services.map((s) => s.name)).toEqual(['SMART Pharmacy (Boston)', 'SMART Pharmacy (Lowell)', 'SMART Pharmacy (Quincy)', 'Harbour Walk-in Centre']);
    expect(issuesOf(feed, 'shared-name')).toEqual([
      expect.objectContaining({ action: 'normalised', reason: '3 locations are all named "SMART Pharmacy"; each given its town in brackets' }),
    ]);
  });

  it('deep links to a generic landing page: flagged on each slot, a per-slot link untouched', async () => {
    const feed = await read('landing-page');
    expect(feed.slots.map((s) => [s.id, s.bookingLinkGeneric])).toEqual([
      ['a', true],
      ['b', true],
      ['c', true],
      ['d', false],
    ]);
    expect(issuesOf(feed, 'generic-deep-link').map((i) => i.action)).toEqual(['flagged', 'flagged']);
  });

  it('manifest with a bare-string state, extra null keys, null entries and trailing slashes: read, normalised, noted', async () => {
    const feed = await read('sloppy-manifest');
    expect(feed.services).toHaveLength(1);
    expect(feed.slots.map((s) => s.id)).toEqual(['s1']);
    expect(feed.files.map((f) => [f.type, f.url.slice(f.url.lastIndexOf('/') + 1)])).toEqual([
      ['Location', 'locations.ndjson'],
      ['Schedule', 'schedules.ndjson'],
      ['Slot', 'slots-ma.ndjson'],
    ]);
    const manifest = feed.issues.filter((i) => i.resourceType === 'Manifest');
    expect(manifest.map((i) => [i.action, i.reason])).toEqual([
      ['normalised', 'request has a trailing slash'],
      ['normalised', 'output[0] url had a trailing slash after its file name; removed'],
      ['skipped', 'output[1] is null, not an object'],
      ['normalised', 'output[3] url had a trailing slash after its file name; removed'],
      ['normalised', 'output[3] extension.state is the bare string "MA", not an array'],
      ['skipped', 'output[4] has no url'],
    ]);
    // The HealthcareService output is a type we do not read: ignored, not requested.
    expect((await served.requests()).some((r) => r.path.endsWith('services.ndjson'))).toBe(false);
  });

  it('Cache-Control: no-cache, no-store with a weak ETag: polled at the floor, revalidated with If-None-Match (304)', async () => {
    const clock = testClock();
    const reader = new FeedReader(served.system('no-store', { pollFloorSeconds: 60 }), { now: clock.now });
    const first = await reader.snapshot();
    await served.clearRequests();
    clock.advance(59);
    await reader.snapshot();
    expect(await served.requests()).toEqual([]);
    clock.advance(1);
    const again = await reader.snapshot();
    const reqs = await served.requests();
    expect(reqs.map((r) => [r.path, r.status])).toEqual([['/no-store/$bulk-publish', 304]]);
    expect(reqs[0]!.headers['if-none-match']).toMatch(/^W\/"/);
    expect(again.slots).toEqual(first.slots.map((s) => ({ ...s, fetchedAt: again.checkedAt })));
  });

  it('no cache headers and no validators at all: polled at the floor, downloaded whole each time, same feed', async () => {
    const clock = testClock();
    const reader = new FeedReader(served.system('no-headers', { pollFloorSeconds: 60 }), { now: clock.now });
    const first = await reader.snapshot();
    await served.clearRequests();
    clock.advance(30);
    await reader.snapshot();
    expect(await served.requests()).toEqual([]);
    clock.advance(30);
    const again = await reader.snapshot();
    const reqs = await served.requests();
    expect(reqs.map((r) => [r.path, r.status])).toEqual([
      ['/no-headers/$bulk-publish', 200],
      ['/no-headers/locations.ndjson', 200],
      ['/no-headers/schedules.ndjson', 200],
      ['/no-headers/slots.ndjson', 200],
    ]);
    expect(reqs.every((r) => !r.headers['if-none-match'] && !r.headers['if-modified-since'])).toBe(true);
    expect(again.slots.map((s) => s.id)).toEqual(first.slots.map((s) => s.id));
  });
});

describe('slot order', () => {
  it('earliest start first, then service and id in code-unit order, the same on every machine whatever its locale', async () => {
    const feed = await read('tie-order');
    expect(feed.slots.map((x) => x.id)).toEqual(['early', 'B', 'a', 'b']);
  });
});
