/**
 * Slot.qualityFlags, Slot.timeZone and the published offset, end to end through ingest: feeds served over HTTP by
 * the sandbox publisher, read by the real FeedReader, mapped to the shared Slot. One synthetic slot per defect
 * beside a clean one, and both recorded production data sets (../shared/data, served by the publisher as recorded).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFeedPublisher } from '../../sandbox/feeds/server.js';
import { capacity, deepLink, serveFixtures, simpleFeed, slot, type ServedFixtures } from '../../test/support/feeds.js';
import { FeedReader, type FeedSnapshot } from '../kit/feeds/index.js';
import { isTruncatedPhone } from '../kit/feeds/records/slot.js';
import { loadRegistry, type SmartLinksSystem } from '../kit/registry.js';
import { slotFlagCounts, toSlot, type SlotModel } from './map.js';

const PHONE = 'http://fhir-registry.smarthealthit.org/StructureDefinition/booking-phone';
const phone = (n: string) => ({ url: PHONE, valueString: n });
const link = (id: string) => deepLink(`https://portal.example/book?slot=${id}`);

let served: ServedFixtures;
let feed: FeedSnapshot;

beforeAll(async () => {
  served = await serveFixtures({
    defects: simpleFeed([
      slot('clean', '10', '2026-12-01T09:00:00-05:00', '2026-12-01T09:15:00-05:00'),
      slot('service-number', '10', '2026-12-01T09:15:00-05:00', '2026-12-01T09:30:00-05:00', { extension: [link('sn'), phone('211')] }),
      slot('winter-in-summer', '10', '2026-07-15T09:00:00-05:00', '2026-07-15T09:15:00-05:00'),
      slot('day', '10', '2026-12-02T09:00:00-05:00', '2026-12-02T17:00:00-05:00'),
      slot('five-days', '10', '2026-12-07T09:00:00-05:00', '2026-12-11T17:00:00-05:00'),
      slot('shared-1', '10', '2026-12-01T10:00:00-05:00', '2026-12-01T10:15:00-05:00', { extension: [deepLink('https://portal.example/book?clinic=1'), phone('617-555-0199')] }),
      slot('shared-2', '10', '2026-12-01T10:15:00-05:00', '2026-12-01T10:30:00-05:00', { extension: [deepLink('https://portal.example/book?clinic=1'), phone('617-555-0199')] }),
      slot('home-page', '10', '2026-12-01T10:30:00-05:00', '2026-12-01T10:45:00-05:00', { extension: [deepLink('https://pharmacy.example/'), phone('617-555-0199')] }),
      slot('cap-string', '10', '2026-12-01T11:00:00-05:00', '2026-12-01T11:15:00-05:00', { extension: [link('cap'), phone('617-555-0199'), capacity('12')] }),
      slot('unknown', '10', '2026-12-01T11:15:00-05:00', '2026-12-01T11:30:00-05:00'),
      slot('zero-phone', '10', '2026-12-01T11:30:00-05:00', '2026-12-01T11:45:00-05:00', { extension: [link('zp'), phone('000-000-0000')] }),
      slot('short-phone', '10', '2026-12-01T11:45:00-05:00', '2026-12-01T12:00:00-05:00', { extension: [link('sp'), phone('617-555-01')] }),
    ]),
  });
  feed = await new FeedReader(served.system('defects')).snapshot();
});
afterAll(() => served.close());

function mapped(id: string): SlotModel {
  const s = feed.slots.find((x) => x.id === id);
  if (!s) throw new Error(`no slot ${id}`);
  return toSlot('fixture-defects', s);
}

describe('quality flags from a synthetic feed, one defect per slot', () => {
  it.each([
    ['winter-in-summer', 'OFFSET_MISMATCH'],
    ['day', 'DAY_SESSION'],
    ['five-days', 'MULTI_DAY_SESSION'],
    ['shared-1', 'SHARED_BOOKING_LINK'],
    ['shared-2', 'SHARED_BOOKING_LINK'],
    ['home-page', 'GENERIC_BOOKING_LINK'],
    ['cap-string', 'COERCED_CAPACITY'],
    ['unknown', 'PLACEHOLDER_IDENTIFIER'],
    ['zero-phone', 'PLACEHOLDER_IDENTIFIER'],
    ['short-phone', 'TRUNCATED_PHONE'],
  ])('%s is flagged %s, and nothing else', (id, flag) => {
    expect(mapped(id).qualityFlags).toEqual([flag]);
  });

  it('a clean slot, and one whose phone is a three-digit service number, carry no flag', () => {
    expect(mapped('clean').qualityFlags).toEqual([]);
    expect(mapped('service-number').qualityFlags).toEqual([]);
  });

  it('keeps the slot as published: the coerced capacity read, the placeholder phone and the short one not dropped', () => {
    expect(mapped('cap-string').capacity).toBe(12);
    expect(mapped('zero-phone').bookingPhone).toBe('000-000-0000');
    expect(mapped('short-phone').bookingPhone).toBe('617-555-01');
  });

  it('a slot published with -05:00 comes back with -05:00 and its location\'s zone, at the same instant', () => {
    const s = mapped('clean');
    expect([s.start, s.end, s.timeZone]).toEqual(['2026-12-01T09:00:00-05:00', '2026-12-01T09:15:00-05:00', 'America/New_York']);
    expect(Date.parse(s.start)).toBe(Date.parse('2026-12-01T14:00:00Z'));
    // The snapshot keeps the instant in UTC, which is what sorting and windows compare.
    expect(feed.slots.find((x) => x.id === 'clean')!.start).toBe('2026-12-01T14:00:00.000Z');
  });

  it('counts the snapshot\'s slots by flag for the operator\'s view', () => {
    expect(slotFlagCounts(feed.slots)).toEqual({
      OFFSET_MISMATCH: 1,
      DAY_SESSION: 1,
      MULTI_DAY_SESSION: 1,
      SHARED_BOOKING_LINK: 2,
      GENERIC_BOOKING_LINK: 1,
      COERCED_CAPACITY: 1,
      PLACEHOLDER_IDENTIFIER: 2,
      TRUNCATED_PHONE: 1,
    });
  });

  it('marks sessions (four hours or more) SESSION, appointments APPOINTMENT', () => {
    expect(['clean', 'day', 'five-days'].map((id) => mapped(id).kind)).toEqual(['APPOINTMENT', 'SESSION', 'SESSION']);
  });
});

describe('quality flags on the recorded production feeds', () => {
  let publisher: Awaited<ReturnType<typeof startFeedPublisher>>;
  const feeds = new Map<string, FeedSnapshot>();
  beforeAll(async () => {
    publisher = await startFeedPublisher({ port: 0 });
    const registry = loadRegistry(undefined, { SANDBOX_FEEDS_URL: publisher.url });
    for (const id of ['smart-urgent-care', 'smart-vaccines']) feeds.set(id, await new FeedReader(registry.system(id) as SmartLinksSystem).snapshot());
  });
  afterAll(() => publisher.close());

  it('vaccine-clinic: every slot a day-long session, and every booking phone the placeholder 000-000-0000', () => {
    const slots = feeds.get('smart-vaccines')!.slots.map((s) => toSlot('smart-vaccines', s));
    expect(slots.length).toBeGreaterThan(0);
    for (const s of slots) {
      expect(s.qualityFlags).toEqual(['DAY_SESSION', 'PLACEHOLDER_IDENTIFIER']);
      expect([s.kind, s.timeZone]).toEqual(['SESSION', expect.stringMatching(/^America\//)]);
    }
  });

  it('general-appointments: the nine-hour slots are sessions, the short ones appointments; none has a shared or generic link', () => {
    const slots = feeds.get('smart-urgent-care')!.slots.map((s) => toSlot('smart-urgent-care', s));
    const sessions = slots.filter((s) => s.kind === 'SESSION');
    expect(sessions.length).toBeGreaterThan(0);
    expect(sessions.length).toBeLessThan(slots.length);
    for (const s of sessions) expect(s.qualityFlags).toContain('DAY_SESSION');
    for (const s of slots.filter((x) => x.kind === 'APPOINTMENT')) expect(s.qualityFlags).not.toContain('DAY_SESSION');
    expect(slots.some((s) => s.qualityFlags.includes('SHARED_BOOKING_LINK') || s.qualityFlags.includes('GENERIC_BOOKING_LINK'))).toBe(false);
    expect(slots.every((s) => s.qualityFlags.includes('PLACEHOLDER_IDENTIFIER'))).toBe(true);
  });
});

describe('isTruncatedPhone', () => {
  it('accuses numbers with too few digits, not whole numbers, extensions or service numbers', () => {
    for (const whole of ['617-555-0199', '+1 (617) 555-0199', '0113 496 0000', '+44 113 496 0000', '111', '119', '911', '617-555-0199 x12', '617-555-0199 ext. 4']) {
      expect(isTruncatedPhone(whole), whole).toBe(false);
    }
    for (const cut of ['617-555-01', '555-0199', '0113 496', '+44 113', '1234']) expect(isTruncatedPhone(cut), cut).toBe(true);
  });
});
