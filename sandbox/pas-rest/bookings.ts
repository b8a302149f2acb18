/**
 * The booking store: bookings by id and by session, the places they take, and the idempotency records that make a
 * repeated POST /bookings safe (API.md 6.1). In memory, like the rest of the sandbox. Node runs one handler at a time,
 * so "check the place, then take it" is atomic without locks; that is exactly the guarantee the API documents.
 */
import { randomBytes } from 'node:crypto';
import type { SessionMode } from './clinics.js';
import { timeKey, type Session } from './sessions.js';
import type { BookingRequest, Patient, Referral } from './validate.js';
import type { AppointmentTime } from './wall-clock.js';

export type BookingStatus = 'BOOKED' | 'CANCELLED' | 'ATTENDED' | 'DID_NOT_ATTEND';

export const CANCELLATION_REASONS = ['PATIENT_CANCELLED', 'REFERRER_CANCELLED', 'CLINIC_CANCELLED', 'DUPLICATE', 'OTHER'] as const;
export type CancellationReason = (typeof CANCELLATION_REASONS)[number];

/** A booking exactly as the API shows it. */
export interface Booking {
  id: string;
  status: BookingStatus;
  clinicId: string;
  sessionId: string;
  date: string;
  time: string;
  fold?: 1;
  durationMinutes: number;
  mode: SessionMode;
  patient: Patient;
  referral: Referral;
  notes?: string;
  bookedBy: string;
  createdAt: string;
  cancelledAt: string | null;
  cancellationReason: CancellationReason | null;
  version: number;
}

/** Idempotency keys are kept this long from their first successful use. */
export const KEY_RETENTION_MS = 24 * 60 * 60 * 1000;

interface KeyRecord {
  fingerprint: string;
  bookingId: string;
  atMs: number;
  /** The key as the client sent it, for the control route. */
  key: string;
}

export type Replay = { kind: 'none' } | { kind: 'replay'; booking: Booking } | { kind: 'mismatch' };

export class BookingStore {
  private readonly byId = new Map<string, Booking>();
  private readonly bySession = new Map<string, Booking[]>();
  private readonly keys = new Map<string, KeyRecord>();

  /** What an earlier request with this key (in this scope) did, if it booked within the retention period. */
  replayFor(scope: string, fingerprint: string, nowMs: number): Replay {
    const record = this.keys.get(scope);
    if (!record) return { kind: 'none' };
    if (record.atMs + KEY_RETENTION_MS <= nowMs) {
      this.keys.delete(scope);
      return { kind: 'none' };
    }
    if (record.fingerprint !== fingerprint) return { kind: 'mismatch' };
    return { kind: 'replay', booking: this.byId.get(record.bookingId)! };
  }

  /** Places taken through the API at each time of a session (cancelled bookings free theirs). */
  takenIn(sessionId: string): Map<string, number> {
    const out = new Map<string, number>();
    for (const b of this.bySession.get(sessionId) ?? []) {
      if (b.status === 'CANCELLED') continue;
      const k = timeKey(b.time, b.fold ?? 0);
      out.set(k, (out.get(k) ?? 0) + 1);
    }
    return out;
  }

  create(args: {
    scope: string;
    key: string;
    fingerprint: string;
    organisation: string;
    session: Session;
    at: AppointmentTime;
    request: BookingRequest;
    nowMs: number;
  }): Booking {
    const { session, at, request } = args;
    const booking: Booking = {
      // Unguessable: a 403 for another organisation's booking then reveals nothing an id could be guessed from.
      id: `bk_${randomBytes(15).toString('base64url')}`,
      status: 'BOOKED',
      clinicId: session.clinicId,
      sessionId: session.id,
      date: session.date,
      time: at.time,
      ...(at.fold ? { fold: 1 as const } : {}),
      durationMinutes: session.slotMinutes,
      mode: session.mode,
      patient: request.patient,
      referral: request.referral,
      ...(request.notes !== undefined ? { notes: request.notes } : {}),
      bookedBy: args.organisation,
      createdAt: instant(args.nowMs),
      cancelledAt: null,
      cancellationReason: null,
      version: 1,
    };
    this.byId.set(booking.id, booking);
    this.bySession.set(session.id, [...(this.bySession.get(session.id) ?? []), booking]);
    this.keys.set(args.scope, { fingerprint: args.fingerprint, bookingId: booking.id, atMs: args.nowMs, key: args.key });
    return booking;
  }

  get(id: string): Booking | undefined {
    return this.byId.get(id);
  }

  /** Cancels a booking that stands; one already cancelled is left exactly as it is. */
  cancel(id: string, reason: CancellationReason, nowMs: number): Booking {
    const b = this.byId.get(id)!;
    if (b.status === 'CANCELLED') return b;
    b.status = 'CANCELLED';
    b.cancelledAt = instant(nowMs);
    b.cancellationReason = reason;
    b.version += 1;
    return b;
  }

  /** The bookings an organisation made for a patient, in the order made. */
  forPatient(organisation: string, nhsNumber: string): Booking[] {
    return [...this.byId.values()].filter((b) => b.bookedBy === organisation && b.patient.nhsNumber === nhsNumber);
  }

  /** Every booking of every organisation, with the idempotency key that made it (control route only). */
  all(): (Booking & { idempotencyKey: string | null })[] {
    const keyOf = new Map([...this.keys.values()].map((r) => [r.bookingId, r.key]));
    return [...this.byId.values()].map((b) => ({ ...b, idempotencyKey: keyOf.get(b.id) ?? null }));
  }
}

/** UTC instant to the second, as the API writes createdAt and cancelledAt. */
function instant(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
