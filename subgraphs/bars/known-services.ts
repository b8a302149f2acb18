/**
 * The BaRS services (DoS ids) this adapter has searched or booked, per system. A BaRS read is addressed to one
 * receiver (NHSD-Target-Identifier), and the contract's "a patient's appointments" names only the system: those are
 * asked of every receiver met here. Service ids only, never anything of a patient; bounded.
 */
const MAX_PER_SYSTEM = 500;

export class KnownServices {
  private readonly bySystem = new Map<string, Set<string>>();

  learn(system: string, serviceId: string): void {
    let s = this.bySystem.get(system);
    if (!s) this.bySystem.set(system, (s = new Set()));
    if (s.has(serviceId)) return;
    if (s.size >= MAX_PER_SYSTEM) s.delete(s.values().next().value as string);
    s.add(serviceId);
  }

  of(system: string): string[] {
    return [...(this.bySystem.get(system) ?? [])].sort();
  }
}
