/**
 * Pure mapping from Oakfield sessions to the shared Slot contract. Oakfield knows sessions, not slots: a session has
 * a local date, local start and end, an appointment length, places per appointment time, and the times already
 * booked. The slots are the session's appointment times with a place left, derived by the supplier's own rules
 * (sandbox/pas-rest/API.md section 3):
 *
 * - the session runs in elapsed time from its start to its end, both wall-clock readings on its date; a boundary in
 *   the spring gap is moved forward by the gap, one in the autumn overlap is its first occurrence;
 * - appointment times follow every `slotMinutes` of elapsed time while an appointment still ends by the end;
 * - a time in the second pass through the repeated autumn hour is named with `fold: 1`.
 *
 * So a slot is never computed by adding minutes to a wall-clock time: each is an instant, stepped from the session's
 * start instant, and labelled with the London offset in force at that instant. The spring night has an hour fewer of
 * slots and the autumn night an hour more, none lost, none repeated, each with its own offset.
 *
 * Every session is checked on its own: one the adapter cannot read, or whose booked times do not match the times it
 * derives (which would mean it has misread the session and might offer a full time), is skipped with a reason,
 * never the whole answer. No I/O, no clock.
 */
import { slotIdSigner } from '../../common/slot-id.js';
import type { PasSession } from './client.js';
import { encodeSlotRef } from './slot-ref.js';
import { boundaryInstant, foldOf, hhmm, isDate, londonRfc3339, parseHhmm, wallClockAt, type Fold } from './wall-clock.js';
import { slotKind, type DeliveryChannel, type SupplierSlotModel } from '../kit/slot-model.js';
import { LONDON } from '../../common/zoned-time.js';
import { sortByStart } from '../kit/slot-order.js';

/** An Oakfield session as slots: always free, and always counting its places left. */
export type SlotModel = SupplierSlotModel & { status: 'FREE'; capacity: number; bookingLink: null; bookingPhone: null };

export interface SkippedSession {
  sessionId: string;
  reason: string;
}

export interface MapInput {
  system: string;
  serviceId: string;
  sessions: readonly PasSession[];
  /** Only slots starting in [from, to] are kept (the search asks for whole local dates). */
  from: Date;
  to: Date;
  fetchedAt: Date;
  /**
   * Places at each slot (by slot id) that consumers of ours hold (common/holds.ts), from Oakfield's `held` counts:
   * those stay offered here, and the gateway's hold store hides them from everyone but their holder. Places anyone
   * else holds at Oakfield are not free. Absent: every held place counts as taken.
   */
  ours?: ReadonlyMap<string, number>;
}

export interface MapResult {
  slots: SlotModel[];
  skipped: SkippedSession[];
}

/** One appointment time of a session, as an instant with the supplier's name for it. */
export interface AppointmentTime {
  time: string;
  fold: Fold;
  startMs: number;
  endMs: number;
}

const MAX_SLOT_MINUTES = 24 * 60;

export function mapSessions(input: MapInput): MapResult {
  const slots: SlotModel[] = [];
  const skipped: SkippedSession[] = [];
  const signId = slotIdSigner(input.system, input.serviceId);
  for (const session of input.sessions) {
    const result = sessionSlots(session, input, signId);
    if ('reason' in result) skipped.push({ sessionId: typeof session.id === 'string' ? session.id : '(no id)', reason: result.reason });
    else slots.push(...result.slots);
  }
  return { slots: sortByStart(slots), skipped };
}

function sessionSlots(session: PasSession, input: MapInput, signId: (ref: string) => string): { slots: SlotModel[] } | { reason: string } {
  if (typeof session.id !== 'string' || session.id === '') return { reason: 'session has no id' };
  // Suspended: the clinic cancelled it. Not an error, just nothing to offer.
  if (session.status === 'SUSPENDED') return { slots: [] };
  if (session.status !== 'OPEN') return { reason: `unknown status ${String(session.status)}` };
  if (!Number.isInteger(session.capacity) || session.capacity! < 0) return { reason: 'capacity is not a whole number of places' };

  const times = appointmentTimes(session);
  if ('reason' in times) return times;
  const taken = bookedCounts(session, times.times);
  if ('reason' in taken) return taken;
  // `held` (API.md 6.5) came with holds; a session without it has none.
  const held = bookedCounts({ booked: session.held ?? [], capacity: session.capacity }, times.times, 'held');
  if ('reason' in held) return held;

  const slots: SlotModel[] = [];
  for (const t of times.times) {
    const unbooked = session.capacity! - (taken.counts.get(key(t.time, t.fold)) ?? 0);
    if (unbooked <= 0) continue;
    if (t.startMs < input.from.getTime() || t.startMs > input.to.getTime()) continue;
    const start = new Date(t.startMs);
    const end = new Date(t.endMs);
    const ref = encodeSlotRef({ sessionId: session.id, time: t.time, fold: t.fold, start, end });
    const id = signId(ref);
    const heldElsewhere = Math.max(0, (held.counts.get(key(t.time, t.fold)) ?? 0) - (input.ours?.get(id) ?? 0));
    const left = unbooked - heldElsewhere;
    if (left <= 0) continue;
    slots.push({
      id,
      serviceId: input.serviceId,
      start: londonRfc3339(t.startMs),
      end: londonRfc3339(t.endMs),
      // Oakfield holds English sessions in London wall-clock time; each appointment time is one appointment (the
      // session is split into them), so no flag applies that the adapter could honestly raise.
      kind: slotKind(t.startMs, t.endMs),
      timeZone: LONDON,
      qualityFlags: [],
      status: 'FREE',
      deliveryChannel: deliveryChannel(session.mode),
      practitioner: practitioner(session),
      capacity: left,
      bookingLink: null,
      bookingPhone: null,
      bookable: true,
      fetchedAt: input.fetchedAt.toISOString(),
      source: 'LIVE',
    });
  }
  return { slots };
}

/** A session's appointment times by the supplier's rules (module comment), or why they cannot be derived. */
export function appointmentTimes(session: PasSession): { times: AppointmentTime[] } | { reason: string } {
  if (!isDate(session.date)) return { reason: 'date is not YYYY-MM-DD' };
  const startMinutes = parseHhmm(session.start);
  const endMinutes = parseHhmm(session.end, true);
  if (startMinutes === null || endMinutes === null) return { reason: 'start or end is not HH:mm' };
  const step = session.slotMinutes;
  if (!Number.isInteger(step) || step! <= 0 || step! > MAX_SLOT_MINUTES) return { reason: 'slotMinutes is not a positive whole number' };
  const startMs = boundaryInstant(session.date, startMinutes);
  const endMs = boundaryInstant(session.date, endMinutes);
  // Sessions never cross midnight (API.md section 3): an end before the start is a session we would misread.
  if (startMs === null || endMs === null || endMs <= startMs) return { reason: 'end is not after start on the same date' };

  const stepMs = step! * 60_000;
  const times: AppointmentTime[] = [];
  for (let s = startMs; s + stepMs <= endMs; s += stepMs) {
    times.push({ time: hhmm(wallClockAt(s).minutes), fold: foldOf(s), startMs: s, endMs: s + stepMs });
  }
  return { times };
}

/** Places taken (or held) per appointment time; every entry must name one of the session's times. */
function bookedCounts(session: Pick<PasSession, 'booked' | 'capacity'>, times: AppointmentTime[], what = 'booked'): { counts: Map<string, number> } | { reason: string } {
  const known = new Set(times.map((t) => key(t.time, t.fold)));
  const counts = new Map<string, number>();
  const list: unknown = session.booked ?? [];
  if (!Array.isArray(list)) return { reason: `${what} is not a list` };
  for (const b of list as NonNullable<PasSession['booked']>) {
    if (!b || typeof b !== 'object') return { reason: `a ${what} entry is not { time, fold?, count }` };
    const fold = b.fold === undefined || b.fold === 0 ? 0 : b.fold === 1 ? 1 : null;
    if (typeof b.time !== 'string' || fold === null || !Number.isInteger(b.count) || b.count! < 0) {
      return { reason: `a ${what} entry is not { time, fold?, count }` };
    }
    const k = key(b.time, fold);
    if (!known.has(k)) return { reason: `${what} time ${b.time}${fold ? ' (fold 1)' : ''} is not one of the session's appointment times` };
    counts.set(k, (counts.get(k) ?? 0) + b.count!);
  }
  return { counts };
}

/** Oakfield's session modes; absent or unknown means in person, the default for a dental clinic. */
export function deliveryChannel(mode: string | undefined): DeliveryChannel {
  switch (mode) {
    case 'TELEPHONE':
      return 'TELEPHONE';
    case 'VIDEO':
      return 'VIDEO';
    default:
      return 'IN_PERSON';
  }
}

function practitioner(session: PasSession): SlotModel['practitioner'] {
  const name = typeof session.clinician?.name === 'string' ? session.clinician.name : null;
  const role = typeof session.clinician?.role === 'string' ? session.clinician.role : null;
  return name || role ? { name, role } : null;
}

function key(time: string, fold: Fold): string {
  return `${time}|${fold}`;
}
