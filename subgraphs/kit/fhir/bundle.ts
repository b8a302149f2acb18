/**
 * Bundles and references, STU3 and R4 alike: a Bundle's resources, the resource a reference points at (by
 * `fullUrl`, `urn:uuid:`, `Type/id` or `#contained`), and the `next` link of a paged searchset. Pure; no I/O.
 */
import { supplierLink, type LinkScope } from '../supplier-link.js';

export interface ResourceLike {
  resourceType: string;
  id?: string;
  contained?: ResourceLike[];
  [key: string]: unknown;
}

export interface BundleEntryLike {
  fullUrl?: string;
  resource?: ResourceLike;
  search?: { mode?: string };
}

export interface BundleLike {
  resourceType: 'Bundle';
  type?: string;
  total?: number;
  link?: { relation: string; url: string }[];
  entry?: BundleEntryLike[];
}

export function isBundle(body: unknown): body is BundleLike {
  return !!body && typeof body === 'object' && (body as { resourceType?: unknown }).resourceType === 'Bundle';
}

/** The entries holding a resource, in order. */
export function entries(bundle: BundleLike): (BundleEntryLike & { resource: ResourceLike })[] {
  return (Array.isArray(bundle.entry) ? bundle.entry : []).filter(
    (e): e is BundleEntryLike & { resource: ResourceLike } => !!e?.resource && typeof e.resource.resourceType === 'string',
  );
}

/** A searchset's matches (not its includes or outcomes) of one type. */
export function matches<T extends ResourceLike>(bundle: BundleLike, type: string): T[] {
  return entries(bundle)
    .filter((e) => e.resource.resourceType === type && e.search?.mode !== 'include' && e.search?.mode !== 'outcome')
    .map((e) => e.resource as T);
}

/** Resolves references within one Bundle: by fullUrl (urn:uuid or absolute), then `Type/id`, then the id's tail. */
export class BundleIndex {
  private readonly byUrl = new Map<string, ResourceLike>();
  private readonly byTypeId = new Map<string, ResourceLike>();

  constructor(resources: readonly (BundleEntryLike | ResourceLike)[]) {
    for (const item of resources) {
      const entry = 'resourceType' in item ? { resource: item as ResourceLike } : (item as BundleEntryLike);
      const r = entry.resource;
      if (!r || typeof r.resourceType !== 'string') continue;
      if (entry.fullUrl) this.byUrl.set(entry.fullUrl, r);
      if (r.id) this.byTypeId.set(`${r.resourceType}/${r.id}`, r);
    }
  }

  static of(bundle: BundleLike): BundleIndex {
    return new BundleIndex(entries(bundle));
  }

  resolve<T extends ResourceLike>(reference: string | undefined, type: string): T | undefined {
    if (typeof reference !== 'string' || !reference) return undefined;
    const byUrl = this.byUrl.get(reference);
    if (byUrl) return byUrl.resourceType === type ? (byUrl as T) : undefined;
    const m = /(?:^|\/)([A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(reference);
    if (!m || m[1] !== type) return undefined;
    return this.byTypeId.get(`${type}/${m[2]}`) as T | undefined;
  }
}

/** A `#id` reference to a resource contained in `parent`. */
export function containedResource<T extends ResourceLike>(parent: ResourceLike, reference: string | undefined, type: string): T | undefined {
  if (typeof reference !== 'string' || !reference.startsWith('#')) return undefined;
  const id = reference.slice(1);
  return (parent.contained ?? []).find((r) => r.resourceType === type && r.id === id) as T | undefined;
}

/**
 * The searchset's `next` page URL, undefined at the end; a link that leaves the system's origin (or cannot be read) is
 * a typed INVALID_RESPONSE (kit/supplier-link.ts), never followed and never silently dropped.
 */
export function nextPage(bundle: BundleLike, scope: LinkScope): string | undefined {
  const next = Array.isArray(bundle.link) ? bundle.link.find((l) => l?.relation === 'next')?.url : undefined;
  if (typeof next !== 'string' || !next) return undefined;
  return supplierLink(scope, next);
}
