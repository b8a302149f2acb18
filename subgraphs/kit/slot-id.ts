/**
 * Global slot ids. Clients treat them as opaque; the gateway decodes them to route a booking to the supplier
 * system that holds the slot. Version-tagged so the encoding can change without breaking ids already handed out.
 */
export interface SlotRef {
  /** Supplier system id from the registry. */
  system: string;
  /** DoS service id. */
  serviceId: string;
  /** The supplier's own reference for the slot. */
  ref: string;
}

const VERSION = 's1';

export function encodeSlotId(s: SlotRef): string {
  return Buffer.from(JSON.stringify([VERSION, s.system, s.serviceId, s.ref]), 'utf8').toString('base64url');
}

/** Null for anything that is not a slot id we issued. */
export function decodeSlotId(id: string): SlotRef | null {
  if (!/^[A-Za-z0-9_-]{8,400}$/.test(id)) return null;
  try {
    const v: unknown = JSON.parse(Buffer.from(id, 'base64url').toString('utf8'));
    if (!Array.isArray(v) || v.length !== 4 || v[0] !== VERSION) return null;
    const [, system, serviceId, ref] = v as unknown[];
    if (typeof system !== 'string' || typeof serviceId !== 'string' || typeof ref !== 'string') return null;
    if (!system || !serviceId || !ref) return null;
    return { system, serviceId, ref };
  } catch {
    return null;
  }
}
