/**
 * The supplier registry: which supplier systems exist, how to reach them, and their budgets. One JSON file
 * (config/suppliers.sandbox.json by default, SUPPLIER_REGISTRY to point elsewhere); `${VAR:-default}` in string
 * values is filled from the environment, so production changes URLs and secrets by configuration only.
 * Anything wrong stops start-up with a message naming the system and the field.
 */
import { readFileSync } from 'node:fs';
import { repoRoot } from './schema.js';

export type SupplierKind = 'BOOKING_STANDARD' | 'PAS_REST' | 'SMART_LINKS';
const KINDS: readonly SupplierKind[] = ['BOOKING_STANDARD', 'PAS_REST', 'SMART_LINKS'];

interface SystemBase {
  id: string;
  kind: SupplierKind;
  name: string;
  /** Deadline for one upstream call, all retries included. */
  deadlineMs: number;
  /** How long slot answers from this system may be served from the slot cache. */
  cacheTtlSeconds: number;
  /** Calls per second we allow ourselves against this system (shared by all replicas where a limiter exists). */
  rateLimitPerSecond: number;
}

export interface BookingStandardSystem extends SystemBase {
  kind: 'BOOKING_STANDARD';
  /** The provider's FHIR service root (the nhsMHSEndPoint SDS would give). */
  baseUrl: string;
  /** The provider's ASID: Ssp-To. */
  asid: string;
  /** Interaction ids this provider registered; sources disagree on slot search (search:slot vs read:slot). */
  interactions: { searchSlot: string };
}

export interface PasRestSystem extends SystemBase {
  kind: 'PAS_REST';
  baseUrl: string;
  /** Name of the environment variable holding the API key (see credential()). */
  apiKeyEnv: string;
}

export interface SmartLinksSystem extends SystemBase {
  kind: 'SMART_LINKS';
  /** The publisher's $bulk-publish manifest. */
  manifestUrl: string;
  /** Never poll the manifest or a file more often than this, whatever Cache-Control says (spec: once a minute). */
  pollFloorSeconds: number;
}

export type SupplierSystem = BookingStandardSystem | PasRestSystem | SmartLinksSystem;

export interface Registry {
  /** Our own Spine identity as a Booking Consumer system. */
  consumerSystem: { asid: string; endpoint: string };
  /** Optional Spine Secure Proxy base: when set, provider URLs are prefixed with it (spec 1). */
  sspUrl?: string;
  systems: SupplierSystem[];
  system(id: string): SupplierSystem | undefined;
}

export class RegistryError extends Error {
  override name = 'RegistryError';
}

export function registryPath(): string {
  return process.env.SUPPLIER_REGISTRY || `${repoRoot}config/suppliers.sandbox.json`;
}

export function loadRegistry(path = registryPath(), env: NodeJS.ProcessEnv = process.env): Registry {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new RegistryError(`supplier registry ${path} cannot be read: ${(err as Error).message}`);
  }
  return parseRegistry(substitute(raw, env), path);
}

/** Replaces ${VAR} and ${VAR:-default} in every string; a variable with no value and no default is an error. */
export function substitute(value: unknown, env: NodeJS.ProcessEnv): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Z0-9_]+)(?::-([^}]*))?\}/g, (_m, name: string, def: string | undefined) => {
      const v = env[name];
      if (v !== undefined && v !== '') return v;
      if (def !== undefined) return def;
      throw new RegistryError(`supplier registry needs environment variable ${name}`);
    });
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, env));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, env)]));
  }
  return value;
}

/**
 * The secret a system's adapter needs, from the environment variable the registry names. Adapters call this for
 * every system they serve at start-up, so a missing credential stops that adapter with a clear message, while
 * processes that only read the registry (the directory, the gateway) never need it.
 */
export function credential(system: PasRestSystem, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[system.apiKeyEnv];
  if (!value) throw new RegistryError(`system ${system.id}: environment variable ${system.apiKeyEnv} (its API key) is not set`);
  return value;
}

export function parseRegistry(raw: unknown, source = 'registry'): Registry {
  const root = obj(raw, source);
  const consumer = obj(root.consumerSystem, `${source}: consumerSystem`);
  const consumerSystem = {
    asid: asid(consumer.asid, `${source}: consumerSystem.asid`),
    endpoint: url(consumer.endpoint, `${source}: consumerSystem.endpoint`),
  };
  const sspUrl = root.sspUrl === undefined || root.sspUrl === '' ? undefined : url(root.sspUrl, `${source}: sspUrl`);
  if (!Array.isArray(root.systems) || root.systems.length === 0) throw new RegistryError(`${source}: systems must be a non-empty list`);

  const systems: SupplierSystem[] = root.systems.map((s, i) => {
    const o = obj(s, `${source}: systems[${i}]`);
    const id = str(o.id, `${source}: systems[${i}].id`);
    if (!/^[a-z0-9][a-z0-9-]{1,40}$/.test(id)) throw new RegistryError(`${source}: system id "${id}" must be lower-case letters, digits and dashes`);
    const at = `${source}: system ${id}`;
    const kind = str(o.kind, `${at}: kind`);
    if (!KINDS.includes(kind as SupplierKind)) throw new RegistryError(`${at}: unknown kind "${kind}" (known: ${KINDS.join(', ')})`);
    const base = {
      id,
      name: str(o.name, `${at}: name`),
      deadlineMs: positiveInt(o.deadlineMs ?? 2000, `${at}: deadlineMs`),
      cacheTtlSeconds: positiveInt(o.cacheTtlSeconds ?? 30, `${at}: cacheTtlSeconds`),
      rateLimitPerSecond: positiveInt(o.rateLimitPerSecond ?? 20, `${at}: rateLimitPerSecond`),
    };
    if (kind === 'BOOKING_STANDARD') {
      const interactions = obj(o.interactions, `${at}: interactions`);
      return {
        ...base,
        kind,
        baseUrl: url(o.baseUrl, `${at}: baseUrl`),
        asid: asid(o.asid, `${at}: asid`),
        interactions: { searchSlot: str(interactions.searchSlot, `${at}: interactions.searchSlot`) },
      };
    }
    if (kind === 'PAS_REST') {
      const credentials = obj(o.credentials, `${at}: credentials`);
      const apiKeyEnv = str(credentials.apiKeyEnv, `${at}: credentials.apiKeyEnv`);
      if (!/^[A-Z][A-Z0-9_]*$/.test(apiKeyEnv)) throw new RegistryError(`${at}: credentials.apiKeyEnv must name an environment variable`);
      return { ...base, kind, baseUrl: url(o.baseUrl, `${at}: baseUrl`), apiKeyEnv };
    }
    const manifestUrl = url(o.manifestUrl, `${at}: manifestUrl`);
    if (!manifestUrl.endsWith('$bulk-publish')) throw new RegistryError(`${at}: manifestUrl must end in $bulk-publish`);
    return { ...base, kind: 'SMART_LINKS' as const, manifestUrl, pollFloorSeconds: positiveInt(o.pollFloorSeconds ?? 60, `${at}: pollFloorSeconds`) };
  });

  const seen = new Set<string>();
  for (const s of systems) {
    if (seen.has(s.id)) throw new RegistryError(`${source}: system id "${s.id}" is listed twice`);
    seen.add(s.id);
  }
  const byId = new Map(systems.map((s) => [s.id, s]));
  return { consumerSystem, ...(sspUrl ? { sspUrl } : {}), systems, system: (id) => byId.get(id) };
}

function obj(v: unknown, at: string): Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new RegistryError(`${at} must be an object`);
  return v as Record<string, unknown>;
}
function str(v: unknown, at: string): string {
  if (typeof v !== 'string' || v.trim() === '') throw new RegistryError(`${at} must be a non-empty string`);
  return v;
}
function url(v: unknown, at: string): string {
  const s = str(v, at);
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    throw new RegistryError(`${at} is not a valid URL: "${s}"`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new RegistryError(`${at} must be http(s): "${s}"`);
  return s.replace(/\/+$/, '');
}
function asid(v: unknown, at: string): string {
  const s = str(v, at);
  if (!/^\d{12}$/.test(s)) throw new RegistryError(`${at} must be a 12-digit ASID`);
  return s;
}
function positiveInt(v: unknown, at: string): number {
  // Numbers may come from ${VAR:-default} substitution, so a string of digits counts.
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n <= 0) throw new RegistryError(`${at} must be a positive whole number`);
  return n;
}
