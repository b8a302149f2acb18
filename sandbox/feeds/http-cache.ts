/**
 * The HTTP a static publisher gets right (or famously wrong): validators, conditional GET, cache headers per data set,
 * and the content negotiation the spec asks for (§1.2).
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** How a data set answers about caching. */
export interface CachePolicy {
  /**
   * `{ maxAgeSeconds }`: `Cache-Control: max-age=N`, the spec's preferred polling interval. `no-store`: what PrepMod
   * sent, `Cache-Control: no-cache, no-store`. `none`: no Cache-Control at all (Rite Aid).
   */
  cacheControl: { maxAgeSeconds: number } | 'no-store' | 'none';
  /** Strong ETag (a hash of the bytes served), weak (PrepMod's `W/"…"`), or none. */
  etag: 'strong' | 'weak' | 'none';
  lastModified: boolean;
}

/** One document as served: its bytes and validators. */
export interface Served {
  body: string;
  contentType: string;
  etag: string | null;
  /** HTTP-date. */
  lastModified: string | null;
}

export function served(body: string, contentType: string, policy: CachePolicy, modifiedAt: Date): Served {
  const hash = createHash('sha256').update(body).digest('base64url').slice(0, 22);
  return {
    body,
    contentType,
    etag: policy.etag === 'none' ? null : policy.etag === 'weak' ? `W/"${hash}"` : `"${hash}"`,
    lastModified: policy.lastModified ? new Date(Math.floor(modifiedAt.getTime() / 1000) * 1000).toUTCString() : null,
  };
}

export function cacheHeaders(doc: Served, policy: CachePolicy): Record<string, string> {
  const h: Record<string, string> = {};
  if (doc.etag) h['etag'] = doc.etag;
  if (doc.lastModified) h['last-modified'] = doc.lastModified;
  if (policy.cacheControl === 'no-store') h['cache-control'] = 'no-cache, no-store';
  else if (policy.cacheControl !== 'none') h['cache-control'] = `max-age=${policy.cacheControl.maxAgeSeconds}`;
  return h;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/**
 * RFC 9110 13.1: If-None-Match (weak comparison, `*` matches) decides when present; otherwise If-Modified-Since,
 * compared at the one-second resolution of HTTP dates.
 */
export function notModified(headers: IncomingHttpHeaders, doc: Served): boolean {
  const inm = header(headers, 'if-none-match');
  if (inm !== undefined) {
    if (inm.trim() === '*') return true;
    if (!doc.etag) return false;
    const mine = opaque(doc.etag);
    return inm.split(',').some((t) => opaque(t) === mine);
  }
  const ims = header(headers, 'if-modified-since');
  if (ims && doc.lastModified) {
    const since = Date.parse(ims);
    return !Number.isNaN(since) && Date.parse(doc.lastModified) <= since;
  }
  return false;
}

function opaque(tag: string): string {
  return tag.trim().replace(/^W\//, '');
}

/** True when the Accept header (absent counts as anything) admits one of `offered`. */
export function acceptable(accept: string | undefined, offered: readonly string[]): boolean {
  if (!accept || accept.trim() === '') return true;
  return accept.split(',').some((part) => {
    const [range, ...params] = part.split(';').map((p) => p.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    if (q && !(Number(q.slice(2)) > 0)) return false;
    if (range === '*/*') return true;
    const [type, sub] = (range ?? '').split('/');
    return offered.some((o) => {
      const [ot, os] = o.split('/');
      return type === ot && (sub === '*' || sub === os);
    });
  });
}
