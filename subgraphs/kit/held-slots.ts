/**
 * Held slots as another consumer sees them (common/holds.ts): a slot under someone else's hold is not offered.
 * A slot with several places (a session time, `capacity`) loses one place per hold of others and goes only when none
 * is left; the holder's own holds hide nothing from it, so it still sees (and books) the slot it holds. Pure.
 */
import type { LiveHold } from '../../common/holds.js';

export interface HoldableSlot {
  id: string;
  capacity?: number | null;
}

/**
 * How many places others hold, per slot id. `idHere` gives the id a held slot has in the list being filtered: a hold
 * taken through another service's listing of the same physical slot (a shared diary) holds this listing too.
 */
export function heldByOthers(holds: readonly LiveHold[], consumer: string, idHere: (h: LiveHold) => string = (h) => h.slotId): Map<string, number> {
  const out = new Map<string, number>();
  for (const h of holds) {
    if (h.consumer === consumer) continue;
    const id = idHere(h);
    out.set(id, (out.get(id) ?? 0) + 1);
  }
  return out;
}

/** The slots `consumer` may be offered, in the same order; places reduced where others hold some. */
export function withoutHeld<S extends HoldableSlot>(slots: readonly S[], held: ReadonlyMap<string, number>): S[] {
  if (held.size === 0) return slots as S[];
  const out: S[] = [];
  for (const s of slots) {
    const n = held.get(s.id);
    if (!n) {
      out.push(s);
      continue;
    }
    const left = (typeof s.capacity === 'number' && s.capacity >= 0 ? s.capacity : 1) - n;
    if (left <= 0) continue;
    out.push(typeof s.capacity === 'number' ? { ...s, capacity: left } : s);
  }
  return out;
}
