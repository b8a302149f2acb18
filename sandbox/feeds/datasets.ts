/**
 * The data sets a publisher serves, and how each is rendered for a given moment: the manifest with its `request`
 * and output URLs rewritten to the publisher's own base, and the slot files with their dates moved into the coming
 * days (shift.ts). Renditions are cached per (data set, week shift, file version on disk), so a file is transformed
 * once per week, its ETag is a hash of exactly the bytes served, and a test that rewrites a fixture file sees the
 * change on the next request.
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { repoRoot } from '../../common/repo-root.js';
import { cacheHeaders, served, type CachePolicy, type Served } from './http-cache.js';
import { lineStart, shiftLine, weeksToShift } from './shift.js';

export const MANIFEST_FILE = '$bulk-publish';

export interface FeedDataSet {
  /** URL segment: served at /<name>/$bulk-publish and /<name>/<file>. */
  name: string;
  /** Folder holding `$bulk-publish` and the files it lists. */
  dir: string;
  /** Default: max-age=300, strong ETag, Last-Modified. */
  cache?: Partial<CachePolicy>;
  /** Move slot dates into the coming days (default true); defect fixtures that pin exact times turn it off. */
  shiftDates?: boolean;
}

/** From the repository root, so the same files are read whether the simulator runs from source or compiled. */
const DATA = `${repoRoot}sandbox/feeds/data/`;

/**
 * The bundled reference data: general-appointments behaves like a well-run publisher (max-age, strong ETag,
 * Last-Modified); vaccine-clinic like PrepMod (`no-cache, no-store`, a weak ETag, no Last-Modified).
 */
export function bundledDataSets(maxAgeSeconds = 300): FeedDataSet[] {
  return [
    { name: 'general-appointments', dir: `${DATA}general-appointments`, cache: { cacheControl: { maxAgeSeconds }, etag: 'strong', lastModified: true } },
    { name: 'vaccine-clinic', dir: `${DATA}vaccine-clinic`, cache: { cacheControl: 'no-store', etag: 'weak', lastModified: false } },
  ];
}

export interface Document extends Served {
  headers: Record<string, string>;
}

export class PublishedDataSet {
  readonly policy: CachePolicy;
  private slotRange: { first: Date; last: Date } | null | undefined;
  private readonly cache = new Map<string, { key: string; doc: Document }>();

  constructor(
    readonly spec: FeedDataSet,
    private readonly now: () => Date,
  ) {
    this.policy = {
      cacheControl: spec.cache?.cacheControl ?? { maxAgeSeconds: 300 },
      etag: spec.cache?.etag ?? 'strong',
      lastModified: spec.cache?.lastModified ?? true,
    };
  }

  /** The week shift in force now (0 when shifting is off or there are no readable slot times). */
  async weeks(): Promise<number> {
    if (this.spec.shiftDates === false) return 0;
    if (this.slotRange === undefined) this.slotRange = await this.scanSlotRange();
    return this.slotRange ? weeksToShift(this.slotRange.first, this.slotRange.last, this.now()) : 0;
  }

  /** The manifest as this publisher serves it from `base` (its own URL for this data set, no trailing slash). */
  async manifest(base: string): Promise<Document> {
    const weeks = await this.weeks();
    return this.render(MANIFEST_FILE, `${weeks}|${base}`, weeks !== 0, async (raw, modifiedAt) =>
      served(rewriteManifest(raw, base, weeks !== 0 ? modifiedAt : null), 'application/json', this.policy, modifiedAt),
    );
  }

  /** A data file; null when the data set has no such file. */
  async file(name: string): Promise<Document | null> {
    if (name === MANIFEST_FILE || name.includes('/') || name.startsWith('.')) return null;
    const weeks = await this.weeks();
    const slotFiles = await this.slotFiles();
    const shift = slotFiles.has(name) ? weeks : 0;
    try {
      return await this.render(name, String(shift), shift !== 0, async (_raw, modifiedAt, path) =>
        served(await transformLines(path, shift), 'application/fhir+ndjson', this.policy, modifiedAt),
      );
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'EISDIR') return null;
      throw err;
    }
  }

  private async render(
    name: string,
    variant: string,
    shifted: boolean,
    make: (raw: string, modifiedAt: Date, path: string) => Promise<Served>,
  ): Promise<Document> {
    const path = `${this.spec.dir}/${name}`;
    const s = await stat(path);
    if (!s.isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
    const key = `${variant}|${s.mtimeMs}|${s.size}`;
    const hit = this.cache.get(name);
    if (hit?.key === key) return hit.doc;
    // A shifted rendition is new content now; an unshifted one is as old as the file.
    const modifiedAt = shifted ? this.now() : s.mtime;
    const raw = name === MANIFEST_FILE ? await readFile(path, 'utf8') : '';
    const doc = await make(raw, modifiedAt, path);
    const full = { ...doc, headers: cacheHeaders(doc, this.policy) };
    this.cache.set(name, { key, doc: full });
    return full;
  }

  /** Names of the files the manifest lists as Slot files (the only ones whose dates move). */
  private async slotFiles(): Promise<Set<string>> {
    const out = new Set<string>();
    try {
      const m = JSON.parse(await readFile(`${this.spec.dir}/${MANIFEST_FILE}`, 'utf8')) as { output?: unknown };
      for (const o of Array.isArray(m.output) ? m.output : []) {
        const entry = o as { type?: unknown; url?: unknown } | null;
        if (typeof entry?.type === 'string' && entry.type.toLowerCase() === 'slot' && typeof entry.url === 'string') {
          out.add(lastSegment(entry.url));
        }
      }
    } catch {
      // A manifest that is not JSON (a defect fixture) lists no files we could shift.
    }
    return out;
  }

  private async scanSlotRange(): Promise<{ first: Date; last: Date } | null> {
    let first: Date | null = null;
    let last: Date | null = null;
    for (const name of await this.slotFiles()) {
      try {
        const lines = createInterface({ input: createReadStream(`${this.spec.dir}/${name}`, 'utf8'), crlfDelay: Infinity });
        for await (const line of lines) {
          const t = lineStart(line);
          if (!t) continue;
          if (!first || t < first) first = t;
          if (!last || t > last) last = t;
        }
      } catch {
        // A listed file that is not here: nothing to scan.
      }
    }
    return first && last ? { first, last } : null;
  }
}

/** `https://host/dir/locations.ndjson/` → `locations.ndjson` (a trailing slash is not part of the name). */
export function lastSegment(url: string): string {
  const path = url.split(/[?#]/)[0]!.replace(/\/+$/, '');
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * The manifest with `request` and every absolute output URL moved to `base`, keeping each URL's last segment (and a
 * trailing slash, if the publisher wrote one). Relative URLs already resolve against us and stay as written. A
 * manifest that is not a JSON object is served as it is: that is the defect being served.
 */
export function rewriteManifest(raw: string, base: string, publishedAt: Date | null): string {
  let m: unknown;
  try {
    m = JSON.parse(raw);
  } catch {
    return raw;
  }
  if (!m || typeof m !== 'object' || Array.isArray(m)) return raw;
  const doc = m as Record<string, unknown>;
  const move = (url: unknown): unknown =>
    typeof url === 'string' && /^https?:\/\//i.test(url) ? `${base}/${lastSegment(url)}${url.endsWith('/') ? '/' : ''}` : url;
  if ('request' in doc) doc.request = move(doc.request);
  if (publishedAt && typeof doc.transactionTime === 'string') doc.transactionTime = new Date(Math.floor(publishedAt.getTime() / 1000) * 1000).toISOString();
  if (Array.isArray(doc.output)) {
    for (const o of doc.output) {
      if (o && typeof o === 'object' && 'url' in o) (o as Record<string, unknown>).url = move((o as Record<string, unknown>).url);
    }
  }
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** The file read line by line from disk, each Slot line's dates moved; line ends and bytes otherwise as on disk. */
async function transformLines(path: string, weeks: number): Promise<string> {
  if (weeks === 0) return readFile(path, 'utf8');
  const out: string[] = [];
  let pending = '';
  for await (const chunk of createReadStream(path, { encoding: 'utf8' })) {
    const text = pending + (chunk as string);
    const lines = text.split('\n');
    pending = lines.pop()!;
    for (const l of lines) out.push(shiftLine(l, weeks), '\n');
  }
  if (pending) out.push(shiftLine(pending, weeks));
  return out.join('');
}
