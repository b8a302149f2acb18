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

  constructor(private readonly limit = 20_000) {}

  learn(system: string, scheduleId: string, serviceId: string): void {
    const key = `${system}|${scheduleId}`;
    const known = this.byKey.get(key) ?? [];
    if (known.includes(serviceId) || known.length >= MAX_SERVICES_PER_SCHEDULE) return;
    this.byKey.delete(key);
    this.byKey.set(key, [...known, serviceId]);
    if (this.byKey.size > this.limit) this.byKey.delete(this.byKey.keys().next().value!);
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
}
