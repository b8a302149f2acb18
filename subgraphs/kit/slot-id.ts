/**
 * Global ids for slots and appointments. Clients treat them as opaque; the gateway decodes them to route a booking,
 * a read or a cancellation to the supplier system that holds the thing. Tagged and versioned so the encoding can
 * change without breaking ids already handed out, and so a slot id is never mistaken for an appointment id.
 */
export interface GlobalRef {
  /** Supplier system id from the registry. */
  system: string;
  /** DoS service id. */
  serviceId: string;
  /** The supplier's (or adapter's) own reference. */
  ref: string;
}

/** A slot's global reference. */
export type SlotRef = GlobalRef;

const SLOT = 's1';
const APPOINTMENT = 'a1';

function encode(tag: string, s: GlobalRef): string {
  return Buffer.from(JSON.stringify([tag, s.system, s.serviceId, s.ref]), 'utf8').toString('base64url');
}

function decode(tag: string, id: string): GlobalRef | null {
  if (!/^[A-Za-z0-9_-]{8,600}$/.test(id)) return null;
  try {
    const v: unknown = JSON.parse(Buffer.from(id, 'base64url').toString('utf8'));
    if (!Array.isArray(v) || v.length !== 4 || v[0] !== tag) return null;
    const [, system, serviceId, ref] = v as unknown[];
    if (typeof system !== 'string' || typeof serviceId !== 'string' || typeof ref !== 'string') return null;
    if (!system || !serviceId || !ref) return null;
    return { system, serviceId, ref };
  } catch {
    return null;
  }
}

export const encodeSlotId = (s: GlobalRef): string => encode(SLOT, s);
/** Null for anything that is not a slot id we issued. */
export const decodeSlotId = (id: string): GlobalRef | null => decode(SLOT, id);
export const encodeAppointmentId = (s: GlobalRef): string => encode(APPOINTMENT, s);
/** Null for anything that is not an appointment id we issued. */
export const decodeAppointmentId = (id: string): GlobalRef | null => decode(APPOINTMENT, id);
