/**
 * Feed-published services beside the DoS's: matching (pure) and the merged search against the DoS simulator.
 * The feed records are plain data here; the feed ingest that produces them is tested in subgraphs/kit/feeds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { startDirectorySimulator } from '../../sandbox/directory/server.js';
import type { SandboxServer } from '../../sandbox/lib/http.js';
import { DosClient } from './client.js';
import { feedMapper, recordMapper, type DirectoryDeps } from './deps.js';
import { feedCandidates, isFeedServiceId, mergeOrder, withinRadius, type FeedServiceRecord } from './feeds.js';
import { validateServicesArgs } from './input.js';
import { searchServices } from './search.js';

const feed = (over: Partial<FeedServiceRecord> & { id: string }): FeedServiceRecord => ({
  systemId: 'smart-urgent-care',
  name: 'Feed clinic',
  serviceType: 'GENERAL_PRACTICE',
  serviceTypeName: 'General Practice',
  siteId: 'smart:smart-urgent-care:1',
  addressLines: ['1 Street'],
  town: 'Leeds',
  postcode: 'LS1 1AA',
  lat: null,
  lon: null,
  phone: null,
  website: null,
  ...over,
});

// Two feed clinics in Leeds with coordinates, one without, one vaccination clinic.
const RECORDS: FeedServiceRecord[] = [
  feed({ id: 'smart:smart-urgent-care:7:124', lat: 53.7990, lon: -1.5450, name: 'Leeds City GP (feed)' }),
  feed({ id: 'smart:smart-urgent-care:8:556', lat: 53.8300, lon: -1.5800, serviceType: 'URGENT_TREATMENT_CENTRE', serviceTypeName: 'Walk-in' }),
  feed({ id: 'smart:smart-urgent-care:9:124' }),
  feed({ id: 'smart:smart-vaccines:0:57', systemId: 'smart-vaccines', serviceType: 'VACCINATION', serviceTypeName: 'Immunization', lat: 53.80, lon: -1.55 }),
];

describe('feed service ids', () => {
  it('are told apart from DoS ids and validated', () => {
    expect(isFeedServiceId('smart:smart-urgent-care:7:124')).toBe(true);
    expect(isFeedServiceId('smart:smart-urgent-care:loc.1-a:other')).toBe(true);
    expect(isFeedServiceId('1402000101')).toBe(false);
    expect(isFeedServiceId('smart:Bad System:7:124')).toBe(false);
    expect(isFeedServiceId('smart:x:7')).toBe(false);
  });
});

describe('matching feed services', () => {
  it('filters by type and id, and needs coordinates only when searching near a point', () => {
    const byType = feedCandidates(RECORDS, validateServicesArgs({ filter: { types: ['GENERAL_PRACTICE'] } }).search);
    expect(byType.map((r) => r.id)).toEqual(['smart:smart-urgent-care:7:124', 'smart:smart-urgent-care:9:124']);
    const byId = feedCandidates(RECORDS, validateServicesArgs({ filter: { ids: ['smart:smart-vaccines:0:57', '1402000101'] } }).search);
    expect(byId.map((r) => r.id)).toEqual(['smart:smart-vaccines:0:57']);
    const near = feedCandidates(RECORDS, validateServicesArgs({ near: { lat: 53.8, lon: -1.55 } }).search);
    expect(near.map((r) => r.id)).not.toContain('smart:smart-urgent-care:9:124');
    expect(feedCandidates(RECORDS, validateServicesArgs({ filter: { bookableOnly: true } }).search)).toEqual([]);
  });

  it('keeps those within the radius, with their distance', () => {
    const search = validateServicesArgs({ near: { lat: 53.7990, lon: -1.5450 }, radiusKm: 2 }).search;
    const found = withinRadius(feedCandidates(RECORDS, search), search, { lat: 53.7990, lon: -1.5450 });
    expect(found.map((f) => [f.node.id, f.distanceKm])).toEqual([
      ['smart:smart-urgent-care:7:124', 0],
      ['smart:smart-vaccines:0:57', expect.closeTo(0.36, 1)],
    ]);
  });

  it('orders by distance then id, DoS before feeds on a tie, numeric DoS ids by value', () => {
    const at = (id: string, distanceKm: number | null) => ({ node: { id }, distanceKm });
    const sorted = [at('smart:a:1:1', 1), at('1402000101', 1), at('99', null), at('100', null), at('smart:a:0:1', null)]
      .filter((x) => x.distanceKm !== null)
      .sort(mergeOrder);
    expect(sorted.map((x) => x.node.id)).toEqual(['1402000101', 'smart:a:1:1']);
    expect([at('smart:a:0:1', null), at('100', null), at('99', null)].sort(mergeOrder).map((x) => x.node.id)).toEqual(['99', '100', 'smart:a:0:1']);
  });
});

describe('the merged search', () => {
  let sim: SandboxServer;
  let deps: DirectoryDeps;
  let dosCalls = 0;

  beforeAll(async () => {
    sim = await startDirectorySimulator({ port: 0 });
    const dos = new DosClient({ baseUrl: sim.url, user: 'dos-sandbox', password: 'sandbox-password', deadlineMs: 2000, retries: 0 });
    deps = {
      dos: { getService: (id) => dos.getService(id), search: (p) => (dosCalls++, dos.search(p)) },
      suppliers: (id) => ({ id, kind: id.startsWith('smart') ? 'SMART_LINKS' : 'BOOKING_STANDARD', name: id }),
      now: () => new Date(),
      logger: pino({ level: 'silent' }),
      feeds: { list: async () => RECORDS },
    };
  });
  afterAll(() => sim.close());

  const search = (args: Parameters<typeof validateServicesArgs>[0]) =>
    searchServices(validateServicesArgs(args), { client: deps.dos, toModel: recordMapper(deps), feeds: deps.feeds!, toFeedModel: feedMapper(deps) });

  it('places feed services among DoS services by distance from a postcode, paging without loss or repeat', async () => {
    const ids: string[] = [];
    const distances: number[] = [];
    let after: string | null = null;
    let total = 0;
    do {
      const page = await search({ near: { postcode: 'LS1 4AP' }, radiusKm: 10, first: 4, ...(after ? { after } : {}) });
      total = page.totalCount;
      ids.push(...page.nodes.map((n) => n.id));
      distances.push(...page.edges.map((e) => e.distanceKm!));
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    } while (after);
    expect(ids).toHaveLength(total);
    expect(new Set(ids).size).toBe(total);
    expect(distances).toEqual([...distances].sort((a, b) => a - b));
    expect(ids).toContain('smart:smart-urgent-care:7:124');
    expect(ids).toContain('smart:smart-vaccines:0:57');
    expect(ids).not.toContain('smart:smart-urgent-care:9:124'); // no coordinates: not findable by distance
    expect(ids.filter((id) => /^\d+$/.test(id)).length).toBeGreaterThan(5);
  });

  it('finds a feed-only type with no DoS call for services', async () => {
    dosCalls = 0;
    const page = await search({ filter: { types: ['VACCINATION'] } });
    expect(page.nodes.map((n) => [n.__typename, n.id])).toEqual([['SmartLinksService', 'smart:smart-vaccines:0:57']]);
    expect(dosCalls).toBe(0);
  });

  it('keeps the fast DoS path when no feed service can match', async () => {
    dosCalls = 0;
    const page = await search({ filter: { types: ['EMERGENCY_DEPARTMENT'] }, first: 2 });
    expect(page.nodes.every((n) => /^\d+$/.test(n.id))).toBe(true);
    expect(dosCalls).toBe(1);
  });
});
