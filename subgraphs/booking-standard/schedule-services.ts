/**
 * Which DoS services a provider schedule belongs to. A Booking Standard Appointment does not name its
 * HealthcareService; only its contained Slot names a Schedule. Slot searches (always made per service) and bookings
 * teach this map, so appointments found by the patient search can be given their service, and a booking through one
 * service can drop the cached slots of the others that list the same schedule. It holds provider configuration only,
 * never patient data, which is what spec 11 allows to be cached.
 *
 * A schedule seen under several services (providers may share one, spec 5.3) has no one service: `serviceOf`
 * answers null rather than a guess, and `servicesOf` names them all (at most MAX_SERVICES_PER_SCHEDULE).
 * Bounded: the oldest entries go first when full.
 */
export const MAX_SERVICES_PER_SCHEDULE = 8;

export class ScheduleServices {
  /** Services in the order learnt; a schedule's list never grows past MAX_SERVICES_PER_SCHEDULE. */
  private readonly byKey = new Map<string, readonly string[]>();
  /** Per `system|service`: the other services it shares a schedule with (few: shared diaries are the exception). */
  private readonly partners = new Map<string, readonly string[]>();

  constructor(private readonly limit = 20_000) {}

  learn(system: string, scheduleId: string, serviceId: string): void {
    const key = `${system}|${scheduleId}`;
    const known = this.byKey.get(key) ?? [];
    if (known.includes(serviceId) || known.length >= MAX_SERVICES_PER_SCHEDULE) return;
    this.byKey.delete(key);
    this.byKey.set(key, [...known, serviceId]);
    if (this.byKey.size > this.limit) this.byKey.delete(this.byKey.keys().next().value!);
    for (const other of known) {
      this.pair(system, serviceId, other);
      this.pair(system, other, serviceId);
    }
  }

  /** The one service the schedule is known under; null when unknown or shared by several. */
  serviceOf(system: string, scheduleId: string | null): string | null {
    if (!scheduleId) return null;
    const v = this.byKey.get(`${system}|${scheduleId}`);
    return v?.length === 1 ? v[0]! : null;
  }

  /** Every service the schedule has been seen under (empty when unknown). */
  servicesOf(system: string, scheduleId: string | null): readonly string[] {
    if (!scheduleId) return [];
    return this.byKey.get(`${system}|${scheduleId}`) ?? [];
  }

  /** Every other service that shares at least one schedule with this one (empty when none is known). */
  sharingWith(system: string, serviceId: string): readonly string[] {
    return this.partners.get(`${system}|${serviceId}`) ?? [];
  }

  private pair(system: string, serviceId: string, other: string): void {
    const key = `${system}|${serviceId}`;
    const known = this.partners.get(key) ?? [];
    if (known.includes(other) || known.length >= MAX_SERVICES_PER_SCHEDULE) return;
    this.partners.delete(key);
    this.partners.set(key, [...known, other]);
    if (this.partners.size > this.limit) this.partners.delete(this.partners.keys().next().value!);
  }
}
