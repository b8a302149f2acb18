/**
 * The supplier registry: which supplier systems exist, how to reach them, and their budgets. One JSON file
 * (config/suppliers.sandbox.json by default, SUPPLIER_REGISTRY to point elsewhere); `${VAR:-default}` in string
 * values is filled from the environment, so production changes URLs and secrets by configuration only.
 * Anything wrong stops start-up with a message naming the system and the field.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ADAPTERS, type Adapter } from '../adapters.js';
import { asid as asidField, httpUrl } from './registry-fields.js';
import { repoRoot } from './schema.js';

export type { BookingStandardSystem } from '../booking-standard/adapter.js';
export type { PasRestSystem } from '../pas-rest/adapter.js';
export type { SmartLinksSystem } from '../smart-links/adapter.js';
export type { SupplierKind } from '../adapters.js';

/** A system of any kind an adapter in subgraphs/adapters.ts serves: the union of their registry schemas. */
export type SupplierSystem = z.output<Adapter['registry']>;

/** One entry of the registry's `systems`: a union over the adapters' kinds, discriminated by `kind`. */
const systemSchema = z.discriminatedUnion(
  'kind',
  ADAPTERS.map((a) => a.registry) as unknown as [Adapter['registry'], ...Adapter['registry'][]],
);

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
export function credential(system: { id: string; apiKeyEnv: string }, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[system.apiKeyEnv];
  if (!value) throw new RegistryError(`system ${system.id}: environment variable ${system.apiKeyEnv} (its API key) is not set`);
  return value;
}

export function parseRegistry(raw: unknown, source = 'registry'): Registry {
  const root = obj(raw, source);
  const consumer = obj(root.consumerSystem, `${source}: consumerSystem`);
  const consumerSystem = {
    asid: field(asidField, consumer.asid, `${source}: consumerSystem.asid`),
    endpoint: field(httpUrl, consumer.endpoint, `${source}: consumerSystem.endpoint`),
  };
  const sspUrl = root.sspUrl === undefined || root.sspUrl === '' ? undefined : field(httpUrl, root.sspUrl, `${source}: sspUrl`);
  if (!Array.isArray(root.systems) || root.systems.length === 0) throw new RegistryError(`${source}: systems must be a non-empty list`);

  const systems: SupplierSystem[] = root.systems.map((s, i) => {
    const o = obj(s, `${source}: systems[${i}]`);
    if (typeof o.id !== 'string' || o.id.trim() === '') throw new RegistryError(`${source}: systems[${i}].id must be a non-empty string`);
    const id = o.id;
    if (!/^[a-z0-9][a-z0-9-]{1,40}$/.test(id)) throw new RegistryError(`${source}: system id "${id}" must be lower-case letters, digits and dashes`);
    return field(systemSchema, o, `${source}: system ${id}`);
  });

  const seen = new Set<string>();
  for (const s of systems) {
    if (seen.has(s.id)) throw new RegistryError(`${source}: system id "${s.id}" is listed twice`);
    seen.add(s.id);
  }
  const byId = new Map(systems.map((s) => [s.id, s]));
  return { consumerSystem, ...(sspUrl ? { sspUrl } : {}), systems, system: (id) => byId.get(id) };
}

/** `value` parsed by `schema`; the first problem as a RegistryError naming `at` and the field. */
function field<T extends z.ZodType>(schema: T, value: unknown, at: string): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  if (issue.code === 'invalid_union' && 'discriminator' in issue && issue.path.join('.') === 'kind') {
    const kind = (value as Record<string, unknown>).kind;
    throw new RegistryError(`${at}: unknown kind ${JSON.stringify(kind)} (known: ${ADAPTERS.map((a) => a.kind).join(', ')})`);
  }
  const path = issue.path.map(String).join('.');
  throw new RegistryError(path ? `${at}: ${path} ${issue.message}` : `${at} ${issue.message}`);
}

function obj(v: unknown, at: string): Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new RegistryError(`${at} must be an object`);
  return v as Record<string, unknown>;
}
