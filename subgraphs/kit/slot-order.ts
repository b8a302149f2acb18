import { compareCodeUnits } from '../../common/code-units.js';

/**
 * The order an adapter hands its slots on in: earliest start first, then id in code-unit order. It is the order
 * common/top-slots.ts compares in (compareSlots), so ranking finds every list already sorted and never sorts it
 * again; a locale's order (localeCompare) would differ on ids that tie on start, and cost each request a sort.
 * Keys are computed once per slot: Date.parse inside a comparator parses each start about log n times.
 */
export function sortByStart<S extends { start: string; id: string }>(slots: S[]): S[] {
  const keyed = slots.map((slot) => ({ ms: Date.parse(slot.start), slot }));
  keyed.sort((a, b) => a.ms - b.ms || compareCodeUnits(a.slot.id, b.slot.id));
  for (let i = 0; i < keyed.length; i++) slots[i] = keyed[i]!.slot;
  return slots;
}
