/**
 * JSON with object keys sorted at every level (by code unit, the same on every machine) and undefined fields left
 * out (undefined in a list, or alone, is written null, as JSON.stringify writes it in a list): equal values always
 * give the same text whatever order their fields came in. What fingerprints are taken of
 * (a search, a booking's input, a hold's request). By hand: JSON.stringify has no sorted mode, and the libraries
 * that add one (RFC 8785 canonicalisation) also rewrite numbers, which nothing here needs.
 */
import { compareCodeUnits } from './code-units.js';

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => compareCodeUnits(a, b));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}
