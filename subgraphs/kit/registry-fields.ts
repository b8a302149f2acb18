/**
 * The zod pieces supplier registry entries are built from: the fields every system has, and the checked values
 * (URL, ASID, positive number, environment variable name) each kind's schema uses. Messages are predicates, so the
 * registry's error reads "<source>: system <id>: <field> <message>".
 */
import { z } from 'zod';

const NON_EMPTY = 'must be a non-empty string';

export const text = z.string({ error: NON_EMPTY }).refine((s) => s.trim() !== '', { error: NON_EMPTY });

/** An http(s) URL, without trailing slashes. */
export const httpUrl = text.transform((s, ctx) => {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    ctx.addIssue({ code: 'custom', message: `is not a valid URL: "${s}"` });
    return z.NEVER;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    ctx.addIssue({ code: 'custom', message: `must be http(s): "${s}"` });
    return z.NEVER;
  }
  return s.replace(/\/+$/, '');
});

export const asid = text.refine((s) => /^\d{12}$/.test(s), { error: 'must be a 12-digit ASID' });

/** The name of an environment variable (which holds a secret: the registry names it, never holds it). */
export const envName = text.refine((s) => /^[A-Z][A-Z0-9_]*$/.test(s), { error: 'must name an environment variable' });

/** A positive whole number, `def` when absent; a string of digits counts (numbers may come from ${VAR:-default}). */
export function positiveInt(def: number) {
  return z.unknown().default(def).transform((raw, ctx) => {
    const n = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw;
    if (typeof n !== 'number' || !Number.isInteger(n) || n <= 0) {
      ctx.addIssue({ code: 'custom', message: 'must be a positive whole number' });
      return z.NEVER;
    }
    return n;
  });
}

/** An object field; absent or not an object is "must be an object". */
export function object<T extends z.ZodRawShape>(shape: T) {
  return z.object(shape, { error: 'must be an object' });
}

/** The fields every registry system has, whatever its kind. */
export const systemFields = {
  id: text,
  name: text,
  /** Deadline for one upstream call, all retries included. */
  deadlineMs: positiveInt(2000),
  /** How long slot answers from this system may be served from the slot cache. */
  cacheTtlSeconds: positiveInt(30),
  /** Calls per second we allow ourselves against this system (shared by all replicas where a limiter exists). */
  rateLimitPerSecond: positiveInt(20),
};

/** A registry entry of one kind: the common fields, the `kind` literal, and the kind's own fields. */
export function supplierSystem<K extends string, T extends z.ZodRawShape>(kind: K, shape: T) {
  return object({ ...systemFields, kind: z.literal(kind), ...shape });
}
