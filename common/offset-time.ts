/**
 * Instants written with the UTC offset a supplier published them with. Slots keep that offset for the client
 * ("09:00 local" stays readable), while everything that compares or sorts them (windows, caches, merges) uses epoch
 * milliseconds from Date.parse, which reads any offset.
 */

const OFFSET = /(Z|[+-](\d{2}):(\d{2}))$/;

/** Minutes east of UTC a date-time is written with (Z is 0); null when it has none. */
export function writtenOffsetMinutes(written: string): number | null {
  const m = OFFSET.exec(written.trim());
  if (!m) return null;
  if (m[1] === 'Z') return 0;
  return (m[1]!.startsWith('-') ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/**
 * RFC 3339 for the instant `ms` at `offsetMinutes` east of UTC, seconds always written (the DateTime scalar wants
 * them). UTC is written as toISOString() does (`.000Z`), so a slot published in UTC reads exactly as before.
 */
export function rfc3339AtOffset(ms: number, offsetMinutes: number): string {
  if (offsetMinutes === 0) return new Date(ms).toISOString();
  const local = new Date(ms + offsetMinutes * 60_000);
  const millis = local.getUTCMilliseconds();
  const a = Math.abs(offsetMinutes);
  return (
    `${pad(local.getUTCFullYear(), 4)}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}` +
    `T${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}` +
    (millis ? `.${pad(millis, 3)}` : '') +
    `${offsetMinutes < 0 ? '-' : '+'}${pad(Math.floor(a / 60))}:${pad(a % 60)}`
  );
}
