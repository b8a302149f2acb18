/**
 * How long until the manifest is worth asking for again (spec §1.5): the publisher's `Cache-Control: max-age` is its
 * preferred polling interval, less any `Age` a shared cache has already used up; never sooner than the poll floor
 * (the spec's once-a-minute rule, `pollFloorSeconds` in the registry).
 *
 * `no-cache` / `no-store` (PrepMod sent both, with a weak ETag) and a missing header (Rite Aid) say nothing about an
 * interval, so we poll at the floor and rely on the validators to keep each poll cheap. `no-store` is about HTTP
 * caches storing the response; keeping the parsed slots between polls is what any client must do to function.
 */

export interface CacheDirectives {
  maxAgeSeconds: number | null;
  noCache: boolean;
  noStore: boolean;
}

export function readCacheControl(value: string | null): CacheDirectives {
  const out: CacheDirectives = { maxAgeSeconds: null, noCache: false, noStore: false };
  for (const part of (value ?? '').split(',')) {
    const [rawName, rawValue] = part.split('=', 2).map((s) => s.trim());
    const name = (rawName ?? '').toLowerCase();
    if (name === 'no-cache') out.noCache = true;
    else if (name === 'no-store') out.noStore = true;
    else if (name === 'max-age' && rawValue !== undefined) {
      const n = Number(rawValue.replace(/^"|"$/g, ''));
      // A repeated or malformed max-age makes the header untrustworthy: treat it as absent (RFC 9111 4.2.1).
      out.maxAgeSeconds = out.maxAgeSeconds === null && Number.isInteger(n) && n >= 0 ? n : null;
    }
  }
  return out;
}

/** Seconds until the next poll may go out. */
export function pollIntervalSeconds(cacheControl: string | null, age: string | null, floorSeconds: number): number {
  const d = readCacheControl(cacheControl);
  if (d.noCache || d.noStore || d.maxAgeSeconds === null) return floorSeconds;
  const used = age && /^\d+$/.test(age.trim()) ? Number(age.trim()) : 0;
  return Math.max(floorSeconds, d.maxAgeSeconds - used);
}
