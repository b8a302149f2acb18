/**
 * Both reference data sets, through the sandbox publisher over HTTP and the real FeedReader: every location,
 * schedule and slot in the files is accounted for. The expected numbers are counted here, from the files as they
 * are on disk, independently of the ingest code.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFeedPublisher } from '../../../sandbox/feeds/server.js';
import type { SandboxServer } from '../../../sandbox/lib/http.js';
import { loadRegistry, type SmartLinksSystem } from '../registry.js';
import { FeedReader, parseServiceId, type FeedSnapshot } from './index.js';

const DATA = fileURLToPath(new URL('../../../sandbox/feeds/data/', import.meta.url));

interface Counted {
  locations: { id: string }[];
  schedules: { id: string; actor: { reference: string }[]; serviceType: { coding: { code: string }[] }[] }[];
  roles: { id: string }[];
  slots: { id: string; schedule: { reference: string } }[];
  listedSlotFiles: number;
  presentSlotFiles: number;
}

/** Reads a data set's files with nothing but JSON.parse, by file name and the manifest's types. */
function count(dataSet: string): Counted {
  const dir = `${DATA}${dataSet}/`;
  const manifest = JSON.parse(readFileSync(`${dir}$bulk-publish`, 'utf8')) as { output: { type: string; url: string }[] };
  const present = new Set(readdirSync(dir));
  const read = (type: string) =>
    manifest.output
      .filter((o) => o.type === type && present.has(o.url.slice(o.url.lastIndexOf('/') + 1)))
      .flatMap((o) => readFileSync(dir + o.url.slice(o.url.lastIndexOf('/') + 1), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l)));
  const slotOutputs = manifest.output.filter((o) => o.type === 'Slot');
  return {
    locations: read('Location'),
    schedules: read('Schedule'),
    roles: read('PractitionerRole'),
    slots: read('Slot'),
    listedSlotFiles: slotOutputs.length,
    presentSlotFiles: slotOutputs.filter((o) => present.has(o.url.slice(o.url.lastIndexOf('/') + 1))).length,
  };
}

let publisher: SandboxServer;
const snapshots = new Map<string, FeedSnapshot>();
const now = new Date();

beforeAll(async () => {
  publisher = await startFeedPublisher({ port: 0, now: () => now });
  const registry = loadRegistry(undefined, { SANDBOX_FEEDS_URL: publisher.url });
  for (const id of ['smart-urgent-care', 'smart-vaccines']) {
    snapshots.set(id, await new FeedReader(registry.system(id) as SmartLinksSystem).snapshot());
  }
});
afterAll(() => publisher.close());

describe.each([
  { system: 'smart-urgent-care', dataSet: 'general-appointments' },
  { system: 'smart-vaccines', dataSet: 'vaccine-clinic' },
])('$dataSet through the publisher', ({ system, dataSet }) => {
  it('accounts for every location, schedule and slot in the files', () => {
    const files = count(dataSet);
    const feed = snapshots.get(system)!;

    // Every schedule is in exactly one service, at the location its Location actor names, under its code.
    const expectedServices = new Set(
      files.schedules.map((s) => {
        const loc = s.actor.map((a) => a.reference).find((r) => r.startsWith('Location/'))!.slice('Location/'.length);
        return `smart:${system}:${loc}:${s.serviceType[0]!.coding[0]!.code}`;
      }),
    );
    expect(new Set(feed.services.map((s) => s.id))).toEqual(expectedServices);
    const scheduleIds = feed.services.flatMap((s) => s.scheduleIds);
    expect(scheduleIds.sort()).toEqual(files.schedules.map((s) => s.id).sort());

    // Every location that has a schedule is a service site; the feed's locations are all read.
    const sites = new Set(feed.services.map((s) => parseServiceId(s.id)!.locationId));
    const scheduled = new Set(files.schedules.flatMap((s) => s.actor.map((a) => a.reference)).filter((r) => r.startsWith('Location/')).map((r) => r.slice(9)));
    expect(sites).toEqual(scheduled);
    expect(files.locations.length).toBe(dataSet === 'general-appointments' ? 20 : 10);
    expect(feed.files.filter((f) => f.type === 'Location').reduce((n, f) => n + (f.records ?? 0), 0)).toBe(files.locations.length);
    expect(feed.files.filter((f) => f.type === 'PractitionerRole').reduce((n, f) => n + (f.records ?? 0), 0)).toBe(files.roles.length);

    // Every slot once, under its published id, in the service of its schedule.
    expect(feed.slots.length).toBe(files.slots.length);
    expect(feed.slots.map((s) => s.id).sort()).toEqual(files.slots.map((s) => s.id).sort());
    const serviceOfSchedule = new Map(feed.services.flatMap((svc) => svc.scheduleIds.map((id) => [id, svc.id] as const)));
    for (const s of files.slots) {
      const got = feed.slots.find((x) => x.id === s.id)!;
      expect(got.serviceId).toBe(serviceOfSchedule.get(s.schedule.reference.slice('Schedule/'.length)));
    }
    expect([...feed.slotsByService.values()].reduce((n, l) => n + l.length, 0)).toBe(files.slots.length);

    // Nothing skipped but the slot files the manifest lists and the data set does not hold.
    const skipped = feed.issues.filter((i) => i.action === 'skipped');
    expect(skipped.map((i) => i.kind)).toEqual(Array(files.listedSlotFiles - files.presentSlotFiles).fill('missing-file'));
    expect(feed.stale).toBeNull();
  });

  it('serves the slots in the coming days, keeping each slot its weekday and clock time', () => {
    const files = count(dataSet);
    const feed = snapshots.get(system)!;
    const first = new Date(feed.slots[0]!.start);
    const last = new Date(feed.slots.at(-1)!.start);
    expect(first.getTime()).toBeLessThanOrEqual(now.getTime() + 86_400_000);
    expect(last.getTime()).toBeGreaterThan(now.getTime() + 86_400_000);
    expect(first.getTime()).toBeGreaterThan(now.getTime() - 7 * 86_400_000);
    const original = files.slots.map((s) => (s as unknown as { start: string }).start).sort()[0]!;
    expect(first.getUTCDay()).toBe(new Date(original).getUTCDay());
    expect(first.toISOString().slice(10)).toBe(new Date(original).toISOString().slice(10));
    expect((first.getTime() - Date.parse(original)) % (7 * 86_400_000)).toBe(0);
  });
});

describe('what the reference data says about itself', () => {
  it('general-appointments: services by type, practitioners from PractitionerRole, and 363 flagged as not an HL7 code', () => {
    const feed = snapshots.get('smart-urgent-care')!;
    const byType = (t: string) => feed.services.filter((s) => s.serviceType === t).length;
    expect([byType('URGENT_TREATMENT_CENTRE'), byType('GENERAL_PRACTICE'), byType('DIAGNOSTIC_IMAGING')]).toEqual([10, 10, 5]);
    expect(feed.servicesById.get('smart:smart-urgent-care:10:363')).toMatchObject({ name: 'SMART Primary Care Boston', serviceTypeName: 'CT Scan' });
    const gp = feed.slotsByService.get('smart:smart-urgent-care:10:124')![0]!;
    expect(gp.practitioner).toEqual({ name: 'Dr. Daniel Michael Peraza', role: 'Medical practitioner' });
    expect(feed.issues.filter((i) => i.kind === 'unknown-code').map((i) => i.id)).toEqual(['30', '31', '32', '33', '34']);
  });

  it('vaccine-clinic: whole-day sessions with capacity, addresses and enquiries from telecom, no position', () => {
    const feed = snapshots.get('smart-vaccines')!;
    const boston = feed.servicesById.get('smart:smart-vaccines:0:57')!;
    expect(boston).toMatchObject({
      name: 'SMART Vaccine Clinic Boston',
      serviceType: 'VACCINATION',
      serviceTypeName: 'Immunization',
      address: { lines: ['123 Summer St'], city: 'Boston', state: 'MA', postalCode: '02114' },
      position: null,
      phone: '000-000-0000',
      website: 'https://pharmacy.example.com/location/00',
      timeZone: 'America/New_York',
    });
    expect(feed.slots.every((s) => s.capacity === 100 && s.coarse === 'day' && !s.offsetSuspect)).toBe(true);
    expect(feed.issues).toEqual([]);
  });
});
