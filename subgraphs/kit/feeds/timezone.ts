/**
 * A location's time zone, and whether a published offset is the one that zone had at that instant.
 *
 * SMART Locations carry no zone, so it comes from, in order: the FHIR `timezone` extension (an IANA code) when
 * present; the UK for GB addresses; or the US state when the whole state keeps one zone. States split between zones
 * (TX, FL, IN, KY, TN, MI, OR, ID, ...) give no zone: better no check than one that accuses a correct publisher.
 */

import { isTimeZone, offsetMinutesAt } from '../../../common/zoned-time.js';

export const TIMEZONE_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/timezone';

const EASTERN = ['CT', 'DE', 'DC', 'GA', 'ME', 'MD', 'MA', 'NH', 'NJ', 'NY', 'NC', 'OH', 'PA', 'RI', 'SC', 'VT', 'VA', 'WV'];
const CENTRAL = ['AL', 'AR', 'IL', 'IA', 'LA', 'MN', 'MS', 'MO', 'OK', 'WI'];
const MOUNTAIN = ['CO', 'MT', 'NM', 'UT', 'WY'];
const PACIFIC = ['CA', 'WA'];

const US_STATE_ZONE: ReadonlyMap<string, string> = new Map([
  ...EASTERN.map((s) => [s, 'America/New_York'] as const),
  ...CENTRAL.map((s) => [s, 'America/Chicago'] as const),
  ...MOUNTAIN.map((s) => [s, 'America/Denver'] as const),
  ...PACIFIC.map((s) => [s, 'America/Los_Angeles'] as const),
  ['AZ', 'America/Phoenix'],
  ['HI', 'Pacific/Honolulu'],
  ['PR', 'America/Puerto_Rico'],
]);

const UK = new Set(['GB', 'GBR', 'UK', 'UNITED KINGDOM', 'ENGLAND', 'SCOTLAND', 'WALES', 'NORTHERN IRELAND']);
const UK_NATIONS = new Set(['ENG', 'SCT', 'WLS', 'NIR']);
const US = new Set(['US', 'USA', 'UNITED STATES', 'UNITED STATES OF AMERICA']);

export function zoneFor(input: { extensionZone: string | null; state: string | null; country: string | null }): string | null {
  if (input.extensionZone && isTimeZone(input.extensionZone)) return input.extensionZone;
  const country = input.country?.toUpperCase() ?? null;
  const state = input.state?.toUpperCase() ?? null;
  if ((country && UK.has(country)) || (state && UK_NATIONS.has(state))) return 'Europe/London';
  if (state && (!country || US.has(country))) return US_STATE_ZONE.get(state) ?? null;
  return null;
}

export type OffsetVerdict = { ok: true } | { ok: false; dst: boolean; expected: number };

/**
 * Whether `offsetMinutes`, written on an instant, is right for the zone. UTC is always right (the spec allows it).
 * `dst` says the written offset is the zone's offset at the other time of year: the classic winter-offset-in-summer
 * defect (or the reverse).
 */
export function checkOffset(zone: string, ms: number, offsetMinutes: number): OffsetVerdict {
  if (offsetMinutes === 0) return { ok: true };
  const expected = offsetMinutesAt(zone, ms);
  if (expected === offsetMinutes) return { ok: true };
  const year = new Date(ms).getUTCFullYear();
  const seasonal = [Date.UTC(year, 0, 15), Date.UTC(year, 6, 15)].map((t) => offsetMinutesAt(zone, t));
  return { ok: false, dst: seasonal.includes(offsetMinutes), expected };
}

export function formatOffset(minutes: number): string {
  if (minutes === 0) return 'Z';
  const a = Math.abs(minutes);
  return `${minutes < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}
