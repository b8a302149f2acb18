/**
 * How FeedReader treats a publisher: conditional GETs, the poll floor and max-age, single flight, files fetched
 * only when changed, a failed refresh keeping the previous feed (stale), and leaving out Slot files when asked.
 * Real HTTP against the sandbox publisher; the reader's clock is a test clock, so "a minute later" is instant.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UpstreamError } from '../../../common/upstream.js';
import { FeedReader } from './index.js';
import { defaultManifest, location, schedule, serveFixtures, simpleFeed, slot, smartSystem, testClock, type FixtureFeed, type ServedFixtures } from '../../../test/support/feeds.js';

const feed = (extraSlots: object[] = []): FixtureFeed => ({
  ...simpleFeed([slot('s1', '10', '2026-12-01T09:00:00Z', '2026-12-01T09:15:00Z'), ...extraSlots], {
    locations: [location('1')],
    schedules: [schedule('10', '1')],
  }),
});

let served: ServedFixtures;
beforeAll(async () => {
  served = await serveFixtures({
    short: { ...feed(), cache: { cacheControl: { maxAgeSeconds: 30 } } },
    long: { ...feed(), cache: { cacheControl: { maxAgeSeconds: 300 } } },
    changing: { ...feed(), cache: { cacheControl: { maxAgeSeconds: 60 } } },
    flaky: { ...feed(), cache: { cacheControl: 'none' } },
    emptied: { ...feed(), cache: { cacheControl: 'none' } },
    cut: { ...feed(), cache: { cacheControl: 'none' } },
    defects: { ...feed(), cache: { cacheControl: 'none' } },
  });
});
afterAll(() => served.close());
beforeEach(async () => {
  await fetch(`${served.publisher.url}/_sandbox/faults`, { method: 'DELETE' });
  await served.clearRequests();
});

const paths = async () => (await served.requests()).map((r) => `${r.status} ${r.path.slice(r.path.lastIndexOf('/') + 1)}`);

describe('polling politely', () => {
  it('a second snapshot within the floor makes no request; after it, a 304 on the manifest re-uses every file', async () => {
    const clock = testClock();
    // max-age 30 is below the floor of 60: the floor wins.
    const reader = new FeedReader(served.system('short', { pollFloorSeconds: 60 }), { now: clock.now });
    const first = await reader.snapshot();
    expect(await paths()).toEqual(['200 $bulk-publish', '200 locations.ndjson', '200 schedules.ndjson', '200 slots.ndjson']);
    await served.clearRequests();

    clock.advance(59);
    expect(await reader.snapshot()).toBe(first);
    expect(await paths()).toEqual([]);

    clock.advance(1);
    const second = await reader.snapshot();
    const reqs = await served.requests();
    expect(reqs.map((r) => [r.path, r.status])).toEqual([['/short/$bulk-publish', 304]]);
    expect(reqs[0]!.headers['if-none-match']).toMatch(/^"/);
    expect(reqs[0]!.headers['if-modified-since']).toMatch(/GMT$/);
    expect(second.slots.map((s) => s.id)).toEqual(['s1']);
    // Re-confirmed by the publisher just now.
    expect(second.slots[0]!.fetchedAt).toBe(clock.now().toISOString());
    expect(second.checkedAt).toBe(clock.now().toISOString());
  });

  it('honours a max-age above the floor', async () => {
    const clock = testClock();
    const reader = new FeedReader(served.system('long', { pollFloorSeconds: 60 }), { now: clock.now });
    await reader.snapshot();
    await served.clearRequests();
    clock.advance(120);
    await reader.snapshot();
    clock.advance(179);
    await reader.snapshot();
    expect(await paths()).toEqual([]);
    clock.advance(1);
    await reader.snapshot();
    expect(await paths()).toEqual(['304 $bulk-publish']);
  });

  it('asked for fresher data (maxAge), polls sooner than max-age but never sooner than the floor', async () => {
    const clock = testClock();
    const reader = new FeedReader(served.system('long', { pollFloorSeconds: 60 }), { now: clock.now });
    await reader.snapshot();
    await served.clearRequests();
    clock.advance(30);
    await reader.snapshot({ maxAgeSeconds: 10 });
    expect(await paths()).toEqual([]);
    clock.advance(30);
    await reader.snapshot({ maxAgeSeconds: 10 });
    expect(await paths()).toEqual(['304 $bulk-publish']);
  });

  it('after a new publication, asks for each file conditionally and re-reads only the one that changed', async () => {
    const clock = testClock();
    const reader = new FeedReader(served.system('changing', { pollFloorSeconds: 60 }), { now: clock.now });
    const before = await reader.snapshot();
    await served.clearRequests();

    // The publisher adds a slot: the slot file and the manifest (its transactionTime) change.
    const next = feed([slot('s2', '10', '2026-12-01T09:15:00Z', '2026-12-01T09:30:00Z')]);
    // (The unchanged files are rewritten too, with the same bytes: their ETags, hashes of the bytes, stay the same.)
    await served.write('changing', { ...next, manifest: { ...defaultManifest(next.files), transactionTime: '2026-11-21T10:00:00Z' } });

    clock.advance(60);
    const after = await reader.snapshot();
    expect(await paths()).toEqual(['200 $bulk-publish', '304 locations.ndjson', '304 schedules.ndjson', '200 slots.ndjson']);
    const reqs = await served.requests();
    expect(reqs.slice(1).every((r) => r.headers['if-none-match'])).toBe(true);
    expect(after.slots.map((s) => s.id)).toEqual(['s1', 's2']);
    expect(after.transactionTime).toBe('2026-11-21T10:00:00.000Z');
    expect(after.services).toEqual(before.services);
    const slotFile = after.files.find((f) => f.type === 'Slot')!;
    expect(slotFile.downloadedAt).toBe(clock.now().toISOString());
    expect(after.files.find((f) => f.type === 'Location')!.downloadedAt).toBe(before.files.find((f) => f.type === 'Location')!.downloadedAt);
  });

  it('single flight: many concurrent snapshot() calls share one refresh (one manifest request)', async () => {
    const reader = new FeedReader(served.system('short'));
    const all = await Promise.all(Array.from({ length: 25 }, () => reader.snapshot()));
    expect(new Set(all).size).toBe(1);
    expect((await paths()).filter((p) => p.endsWith('$bulk-publish'))).toEqual(['200 $bulk-publish']);
  });

  it('leaves out Slot files when told to (the directory reads services only)', async () => {
    const reader = new FeedReader(served.system('short'), { types: ['Location', 'Schedule', 'PractitionerRole'] });
    const s = await reader.snapshot();
    expect(await paths()).toEqual(['200 $bulk-publish', '200 locations.ndjson', '200 schedules.ndjson']);
    expect(s.services.map((x) => x.id)).toEqual(['smart:fixture-short:1:57']);
    expect(s.slots).toEqual([]);
  });
});

describe('when the publisher fails', () => {
  it('a failing refresh keeps the previous snapshot, flagged stale with the reason; the next good one clears it', async () => {
    const clock = testClock();
    const reader = new FeedReader(served.system('flaky', { pollFloorSeconds: 60, deadlineMs: 1000 }), { now: clock.now });
    const good = await reader.snapshot();
    expect(good.stale).toBeNull();

    await fetch(`${served.publisher.url}/_sandbox/faults`, { method: 'POST', body: JSON.stringify({ pathPrefix: '/flaky/', status: 503 }) });
    clock.advance(60);
    const stale = await reader.snapshot();
    expect(stale.stale).toEqual({ since: clock.now().toISOString(), reason: 'UNAVAILABLE', detail: expect.stringContaining('503') });
    expect(stale.slots).toEqual(good.slots);
    expect(stale.checkedAt).toBe(good.checkedAt);

    // A slot file that resets mid-refresh also fails the whole refresh: no half-updated feed.
    await fetch(`${served.publisher.url}/_sandbox/faults`, { method: 'POST', body: JSON.stringify({ pathPrefix: '/flaky/slots', reset: true }) });
    const republished = feed([slot('s2', '10', '2026-12-01T09:15:00Z', '2026-12-01T09:30:00Z')]);
    await served.write('flaky', { ...republished, manifest: { ...defaultManifest(republished.files), transactionTime: '2026-11-21T11:00:00Z' } });
    clock.advance(60);
    const still = await reader.snapshot();
    expect(still.stale).toMatchObject({ since: stale.stale!.since, reason: 'UNAVAILABLE' });
    expect(still.transactionTime).toBe(good.transactionTime);

    await fetch(`${served.publisher.url}/_sandbox/faults`, { method: 'DELETE' });
    clock.advance(60);
    const recovered = await reader.snapshot();
    expect(recovered.stale).toBeNull();
    // The publication whose slot file failed is read in full now, not taken as already seen.
    expect(recovered.transactionTime).toBe('2026-11-21T11:00:00.000Z');
    expect(recovered.slots.map((s) => s.id)).toEqual(['s1', 's2']);
  });

  it('with no feed yet, the failure is thrown as an UpstreamError and not retried before the floor', async () => {
    const clock = testClock();
    await fetch(`${served.publisher.url}/_sandbox/faults`, { method: 'POST', body: JSON.stringify({ pathPrefix: '/flaky/', status: 500 }) });
    const reader = new FeedReader(served.system('flaky', { pollFloorSeconds: 60 }), { now: clock.now });
    await expect(reader.snapshot()).rejects.toMatchObject({ name: 'UpstreamError', reason: 'UNAVAILABLE', status: 500 });
    const tried = (await served.requests()).length;
    expect(tried).toBe(1); // not retried inside the poll: the floor counts requests, not successes
    clock.advance(30);
    await expect(reader.snapshot()).rejects.toBeInstanceOf(UpstreamError);
    expect((await served.requests()).length).toBe(tried);
  });

  it('a publisher that does not answer in time is a TIMEOUT, within the system deadline', async () => {
    const dead = smartSystem('dead', `${served.publisher.url}/flaky/$bulk-publish`, { deadlineMs: 300 });
    await fetch(`${served.publisher.url}/_sandbox/faults`, { method: 'POST', body: JSON.stringify({ pathPrefix: '/flaky/', stall: true }) });
    const started = Date.now();
    await expect(new FeedReader(dead).snapshot()).rejects.toMatchObject({ reason: 'TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

/** A new publication of data set `name`: the feed's files and a manifest with a new transactionTime. */
async function republish(name: string, next: FixtureFeed, transactionTime: string, manifestFiles = next.files): Promise<void> {
  await served.write(name, { ...next, manifest: { ...defaultManifest(manifestFiles), transactionTime } });
}

describe('an empty or broken publication is not "no availability"', () => {
  it('a manifest that suddenly lists no files keeps the last good feed, stale, until files are listed again', async () => {
    const clock = testClock();
    const reader = new FeedReader(served.system('emptied', { pollFloorSeconds: 60 }), { now: clock.now });
    const good = await reader.snapshot();
    expect(good.slots.map((s) => s.id)).toEqual(['s1']);

    await republish('emptied', feed(), '2026-11-21T11:00:00Z', {});
    clock.advance(60);
    const kept = await reader.snapshot();
    expect(kept.stale).toEqual({ since: clock.now().toISOString(), reason: 'INVALID_RESPONSE', detail: expect.stringContaining('lists no files') });
    expect(kept.slots).toEqual(good.slots);
    expect(kept.services).toEqual(good.services);

    await republish('emptied', feed([slot('s2', '10', '2026-12-01T09:15:00Z', '2026-12-01T09:30:00Z')]), '2026-11-21T12:00:00Z');
    clock.advance(60);
    const back = await reader.snapshot();
    expect(back.stale).toBeNull();
    expect(back.slots.map((s) => s.id)).toEqual(['s1', 's2']);
  });

  it('a first publication with no files is simply empty (nothing earlier to keep)', async () => {
    await republish('emptied', feed(), '2026-11-21T13:00:00Z', {});
    const reader = new FeedReader(served.system('emptied', { pollFloorSeconds: 60 }), { now: testClock().now });
    const first = await reader.snapshot();
    expect(first.stale).toBeNull();
    expect(first.slots).toEqual([]);
    await served.write('emptied', feed());
  });

  it('a slot file cut short mid-line fails the refresh (previous feed kept, stale); a last line without a newline is fine', async () => {
    const clock = testClock();
    const reader = new FeedReader(served.system('cut', { pollFloorSeconds: 60 }), { now: clock.now });
    const good = await reader.snapshot();

    const two = [slot('s1', '10', '2026-12-01T09:00:00Z', '2026-12-01T09:15:00Z'), slot('s2', '10', '2026-12-01T09:15:00Z', '2026-12-01T09:30:00Z')];
    await republish('cut', feed(two.slice(1)), '2026-11-21T11:00:00Z');
    const whole = two.map((l) => JSON.stringify(l)).join('\n');
    await writeFile(join(served.dir('cut'), 'slots.ndjson'), whole.slice(0, whole.length - 40));
    clock.advance(60);
    const kept = await reader.snapshot();
    expect(kept.stale).toMatchObject({ reason: 'INVALID_RESPONSE', detail: expect.stringContaining('cut short') });
    expect(kept.slots).toEqual(good.slots);

    // The same publication, whole, but without a final newline (as real files often end): read in full.
    await writeFile(join(served.dir('cut'), 'slots.ndjson'), whole);
    clock.advance(60);
    const read = await reader.snapshot();
    expect(read.stale).toBeNull();
    expect(read.slots.map((s) => s.id)).toEqual(['s1', 's2']);
  });

  it('logs each feed issue once, when it appears, not again at every republication', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString('utf8').split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    const logger = pino({ level: 'info' }, sink);
    const clock = testClock();
    const bad = slot('bad', '10', '2026-12-01T10:00:00Z', '2026-12-01T09:00:00Z');
    await republish('defects', feed([bad]), '2026-11-21T10:00:00Z');
    const reader = new FeedReader(served.system('defects', { pollFloorSeconds: 60 }), { now: clock.now, logger });
    const first = await reader.snapshot();
    expect(first.issues.length).toBeGreaterThan(0);
    const issueLines = () => lines.filter((l) => l.msg === 'feed issue');
    const logged = issueLines().length;
    expect(logged).toBe(first.issues.length);

    // Republished with the same defect, then again: no issue logged again; the summary still counts it.
    for (const t of ['2026-11-21T11:00:00Z', '2026-11-21T12:00:00Z']) {
      await republish('defects', feed([bad]), t);
      clock.advance(60);
      await reader.snapshot();
    }
    expect(issueLines()).toHaveLength(logged);
    const summaries = lines.filter((l) => l.msg === 'feed refreshed');
    expect(summaries.at(-1)).toMatchObject({ issues: first.issues.length, newIssues: 0 });

    // A new defect is logged once.
    const worse = slot('worse', 'no-such-schedule', '2026-12-01T11:00:00Z', '2026-12-01T11:15:00Z');
    await republish('defects', feed([bad, worse]), '2026-11-21T13:00:00Z');
    clock.advance(60);
    await reader.snapshot();
    const added = issueLines().slice(logged);
    expect(added.length).toBeGreaterThan(0);
    expect(added.every((l) => l.id === 'worse')).toBe(true);
  });
});
