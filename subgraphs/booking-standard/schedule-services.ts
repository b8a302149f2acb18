/**
 * Which DoS service a provider schedule belongs to. A Booking Standard Appointment does not name its
 * HealthcareService; only its contained Slot names a Schedule. Slot searches (always made per service) and bookings
 * teach this map, so appointments found by the patient search can be given their service. It holds provider
 * configuration only, never patient data, which is what spec 11 allows to be cached.
 *
 * A schedule seen under two services (providers may share one, spec 5.3) is ambiguous and answers null rather than
 * a guess. Bounded: the oldest entries go first when full.
 */
export class ScheduleServices {
  private readonly byKey = new Map<string, string | typeof AMBIGUOUS>();

  constructor(private readonly limit = 20_000) {}

  learn(system: string, scheduleId: string, serviceId: string): void {
    const key = `${system}|${scheduleId}`;
    const known = this.byKey.get(key);
    if (known === serviceId || known === AMBIGUOUS) return;
    this.byKey.delete(key);
    this.byKey.set(key, known === undefined ? serviceId : AMBIGUOUS);
    if (this.byKey.size > this.limit) this.byKey.delete(this.byKey.keys().next().value!);
  }

  serviceOf(system: string, scheduleId: string | null): string | null {
    if (!scheduleId) return null;
    const v = this.byKey.get(`${system}|${scheduleId}`);
    return typeof v === 'string' ? v : null;
  }
}

const AMBIGUOUS = Symbol('ambiguous');
