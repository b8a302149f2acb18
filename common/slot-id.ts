/**
 * Global ids for slots and appointments. Clients treat them as opaque; the gateway decodes them to route a booking,
 * a read or a cancellation to the supplier system that holds the thing. Tagged and versioned so the encoding can
 * change without breaking ids already handed out, and so a slot id is never mistaken for an appointment id.
 *
 * Tamper-evident: each id carries a MAC (HMAC-SHA256, truncated to 16 bytes) over its tag and contents, keyed by
 * ID_SIGNING_KEY or, without it, a key derived from INTERNAL_AUTH_KEY (every subgraph and the gateway hold it).
 * Editing anything inside an id (the supplier system, the service, the supplier's reference) makes it an id we did
 * not issue, refused before any supplier call. Ids of the unsigned first version (`s1`, `a1`) are no longer
 * accepted: nothing in them could be trusted.
 */
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { internalKeyFromEnv } from './internal-auth.js';

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

const SLOT = 's2';
const APPOINTMENT = 'a2';
const HOLD = 'h2';
/** Bytes of the HMAC kept: 128 bits, beyond guessing, and short enough for ids that travel in URLs. */
const MAC_BYTES = 16;

/**
 * The key for global ids: ID_SIGNING_KEY (at least 32 characters) or one derived from INTERNAL_AUTH_KEY, which
 * production must set (so production refuses to start without one); the sandbox's derived key otherwise.
 */
export function idKeyFromEnv(env: NodeJS.ProcessEnv = process.env): Buffer {
  const own = env.ID_SIGNING_KEY;
  if (own) {
    if (own.length < 32) throw new Error('ID_SIGNING_KEY must be at least 32 characters');
    return Buffer.from(own, 'utf8');
  }
  // A key of its own, never the request-signing key itself: a MAC of one kind is never valid as the other.
  return createHmac('sha256', internalKeyFromEnv(env)).update('nhs-booking-gateway/global-id/v2').digest();
}

let cached: { source: string; key: Buffer } | undefined;

/**
 * The environment's key, derived once per key configuration. Reading the environment costs a few µs: a loop that
 * signs many ids takes the key once and passes it.
 */
export function currentKey(): Buffer {
  const source = `${process.env.ID_SIGNING_KEY ?? ''}\n${process.env.INTERNAL_AUTH_KEY ?? ''}\n${process.env.NODE_ENV ?? ''}`;
  if (cached?.source !== source) cached = { source, key: idKeyFromEnv() };
  return cached.key;
}

function mac(key: Buffer | KeyObject, tag: string, s: GlobalRef): string {
  return macOf(key, JSON.stringify([tag, s.system, s.serviceId, s.ref]));
}

function macOf(key: Buffer | KeyObject, text: string): string {
  return createHmac('sha256', key).update(text).digest().subarray(0, MAC_BYTES).toString('base64url');
}

function encode(tag: string, s: GlobalRef, key: Buffer): string {
  return Buffer.from(JSON.stringify([tag, s.system, s.serviceId, s.ref, mac(key, tag, s)]), 'utf8').toString('base64url');
}

function decode(tag: string, id: string, key: Buffer): GlobalRef | null {
  if (typeof id !== 'string' || !/^[A-Za-z0-9_-]{8,800}$/.test(id)) return null;
  try {
    const v: unknown = JSON.parse(Buffer.from(id, 'base64url').toString('utf8'));
    if (!Array.isArray(v) || v.length !== 5 || v[0] !== tag) return null;
    const [, system, serviceId, ref, given] = v as unknown[];
    if (typeof system !== 'string' || typeof serviceId !== 'string' || typeof ref !== 'string' || typeof given !== 'string') return null;
    if (!system || !serviceId || !ref) return null;
    const s = { system, serviceId, ref };
    const expected = Buffer.from(mac(key, tag, s));
    const actual = Buffer.from(given);
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return null;
    return s;
  } catch {
    return null;
  }
}

export const encodeSlotId = (s: GlobalRef, key: Buffer = currentKey()): string => encode(SLOT, s, key);

/**
 * Signs the ids of many slots of one system and service, as encodeSlotId would, character for character: a supplier
 * page maps hundreds of slots, and writing the JSON head they share (tag, system, service) and importing the key once
 * halved the time an id took outside the HMAC itself.
 *
 * Ids already signed are remembered by what they sign (signedIds): every refresh of a day lists mostly the slots its
 * last fetch listed, and the HMAC was the largest share of mapping a slot (about 2.5 of 6.6 µs). A slot reference
 * names no patient; a remembered id is only ever handed to the slot it was signed for.
 */
export function slotIdSigner(system: string, serviceId: string, key: Buffer = currentKey()): (ref: string) => string {
  const keyObject = createSecretKey(key);
  const known = signedIdsFor(key);
  // `["s2","<system>","<service>",` exactly as JSON.stringify writes the first three elements of the array.
  const head = `${JSON.stringify([SLOT, system, serviceId]).slice(0, -1)},`;
  return (ref) => {
    const body = head + JSON.stringify(ref);
    let id = known.get(body);
    if (id === undefined) {
      // A MAC is base64url (no character JSON escapes), so quoting it is what JSON.stringify would write.
      id = Buffer.from(`${body},"${macOf(keyObject, `${body}]`)}"]`, 'utf8').toString('base64url');
      if (body.length <= MAX_REMEMBERED_BODY) {
        if (known.size >= MAX_SIGNED_IDS) known.clear();
        known.set(body, id);
      }
    }
    return id;
  };
}

/**
 * Ids remembered per process: about the slots a subgraph's services list over the days it is asked for (the sandbox's
 * two Booking Standard providers list about 14,000 over two weeks): about 6 MB at typical lengths, 14 MB at most;
 * cleared whole past it. A ref longer than a supplier's usual (ids of 64 characters, a UUID) is signed every time
 * rather than kept.
 */
const MAX_SIGNED_IDS = 16_384;
const MAX_REMEMBERED_BODY = 320;
/**
 * Per key, by the key Buffer itself: an id signed with one key is never handed out under another. currentKey() makes
 * a new Buffer whenever the key changes; a key Buffer is never changed in place.
 */
const signedIds = new WeakMap<Buffer, Map<string, string>>();

function signedIdsFor(key: Buffer): Map<string, string> {
  let known = signedIds.get(key);
  if (!known) signedIds.set(key, (known = new Map()));
  return known;
}
/** Null for anything that is not a slot id we issued (unsigned, signed with another key, or edited). */
export const decodeSlotId = (id: string, key: Buffer = currentKey()): GlobalRef | null => decode(SLOT, id, key);
export const encodeAppointmentId = (s: GlobalRef, key: Buffer = currentKey()): string => encode(APPOINTMENT, s, key);
/** Null for anything that is not an appointment id we issued (unsigned, signed with another key, or edited). */
export const decodeAppointmentId = (id: string, key: Buffer = currentKey()): GlobalRef | null => decode(APPOINTMENT, id, key);
/** A hold's global id: its supplier system and service (where its records live) and our own hold id (`ref`). */
export const encodeHoldId = (s: GlobalRef, key: Buffer = currentKey()): string => encode(HOLD, s, key);
/** Null for anything that is not a hold id we issued. */
export const decodeHoldId = (id: string, key: Buffer = currentKey()): GlobalRef | null => decode(HOLD, id, key);
