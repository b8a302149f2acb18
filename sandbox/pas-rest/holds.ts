/**
 * Holds (API.md section 6.5): a place at one appointment time kept for one organisation for a few minutes, while its
 * user confirms. In memory, like the rest of the sandbox; one handler runs at a time, so "count the free places, then
 * hold one" is atomic, as the API documents. Expiry is read from the clock, never from a timer: a hold whose
 * `expiresAt` has passed is expired for every request from that instant on.
 */
import { randomBytes } from 'node:crypto';
import { timeKey, type Session } from './sessions.js';
import type { AppointmentTime } from './wall-clock.js';

/** The longest hold Oakfield grants, in seconds. */
export const MAX_HOLD_SECONDS = 300;

/** How long an ended hold can still be read. */
export const KEPT_AFTER_EXPIRY_MS = 24 * 60 * 60 * 1000;

export type HoldStatus = 'HELD' | 'RELEASED' | 'EXPIRED' | 'CONVERTED';

/** A hold as the API shows it (status as of now). */
export interface Hold {
  id: string;
  status: HoldStatus;
  clinicId: string;
  sessionId: string;
  date: string;
  time: string;
  fold?: 1;
  heldBy: string;
  createdAt: string;
  expiresAt: string;
  /** The booking made with it, once CONVERTED. */
  bookingId: string | null;
}

interface Stored extends Omit<Hold, 'status'> {
  state: 'HELD' | 'RELEASED' | 'CONVERTED';
  expiresAtMs: number;
}

export class HoldStore {
  private readonly byId = new Map<string, Stored>();
  private readonly bySession = new Map<string, Stored[]>();

  /** Live holds at each time of a session, by `timeKey`; `except` leaves one organisation's own out. */
  heldIn(sessionId: string, nowMs: number, except?: string): Map<string, number> {
    const out = new Map<string, number>();
    for (const h of this.bySession.get(sessionId) ?? []) {
      if (h.state !== 'HELD' || h.expiresAtMs <= nowMs || h.heldBy === except) continue;
      const k = timeKey(h.time, h.fold ?? 0);
      out.set(k, (out.get(k) ?? 0) + 1);
    }
    return out;
  }

  create(args: { organisation: string; session: Session; at: AppointmentTime; seconds: number; nowMs: number }): Hold {
    const { session, at } = args;
    const expiresAtMs = args.nowMs + args.seconds * 1000;
    const stored: Stored = {
      id: `hd_${randomBytes(15).toString('base64url')}`,
      state: 'HELD',
      clinicId: session.clinicId,
      sessionId: session.id,
      date: session.date,
      time: at.time,
      ...(at.fold ? { fold: 1 as const } : {}),
      heldBy: args.organisation,
      createdAt: instant(args.nowMs),
      // To the millisecond: the instant it ends, exactly.
      expiresAt: new Date(expiresAtMs).toISOString(),
      expiresAtMs,
      bookingId: null,
    };
    this.forgetOld(args.nowMs);
    this.byId.set(stored.id, stored);
    this.bySession.set(session.id, [...(this.bySession.get(session.id) ?? []).filter((h) => h.state === 'HELD' && h.expiresAtMs > args.nowMs), stored]);
    return view(stored, args.nowMs);
  }

  /**
   * Holds are kept for a day after their expiry (API.md 6.5: then `GET` answers 404), so a sandbox that runs for weeks
   * does not keep every hold it ever granted. The map is in creation order and every hold lasts at most
   * MAX_HOLD_SECONDS, so the old ones are at its front.
   */
  private forgetOld(nowMs: number): void {
    for (const [id, h] of this.byId) {
      if (h.expiresAtMs + KEPT_AFTER_EXPIRY_MS > nowMs) break;
      this.byId.delete(id);
    }
  }

  get size(): number {
    return this.byId.size;
  }

  get(id: string, nowMs: number): Hold | undefined {
    const h = this.byId.get(id);
    return h && view(h, nowMs);
  }

  /** Ends a live hold (RELEASED); one that has already ended is left as it is. */
  release(id: string, nowMs: number): Hold {
    const h = this.byId.get(id)!;
    if (h.state === 'HELD' && h.expiresAtMs > nowMs) h.state = 'RELEASED';
    return view(h, nowMs);
  }

  /** A live hold used by a booking: its place becomes the booking's. */
  convert(id: string, bookingId: string, nowMs: number): void {
    const h = this.byId.get(id)!;
    if (h.state === 'HELD' && h.expiresAtMs > nowMs) {
      h.state = 'CONVERTED';
      h.bookingId = bookingId;
    }
  }
}

function view(h: Stored, nowMs: number): Hold {
  const { state, expiresAtMs, ...rest } = h;
  return { ...rest, status: state === 'HELD' && expiresAtMs <= nowMs ? 'EXPIRED' : state };
}

function instant(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
