/**
 * What of a supplier's own error text may reach a client as `diagnostics`. Pure, and the one place every adapter
 * decides it (issue 10, M1): a supplier's error body is developer text, and a body that is not the supplier's
 * structured error (an HTML error page from a proxy or an application server, a stack trace) carries internal URLs,
 * host names, stack frames and connection strings. So:
 *
 *   - only structured error text is forwarded: an OperationOutcome's issue diagnostics (FHIR suppliers), or the
 *     vendor's documented error envelope (`{ error: { message, details } }`, proprietary REST suppliers);
 *     anything else gives no diagnostics at all;
 *   - that text is stripped of URLs, e-mail-like and `user@host` credentials, host names and IP addresses (with or
 *     without a port), stack frames and connection strings (jdbc:, mongodb:, Server=...;Password=...), markup and
 *     control characters;
 *   - and capped at DIAGNOSTICS_MAX characters.
 *
 * What remains is the supplier's explanation ("Slot no longer available", "patient.dateOfBirth: must be a past
 * date"), which is what a booking organisation needs to fix its request.
 */

/** The longest diagnostics text forwarded. */
export const DIAGNOSTICS_MAX = 200;

const REDACTED = '[redacted]';

// Connection strings: a scheme-prefixed URL-like (jdbc:postgresql://..., jdbc:oracle:thin:@host:1521:SID,
// mongodb+srv://...), or key=value;key=value lists naming a server, data source or password.
const JDBC = /\bjdbc:[^\s"'<>;,]*(?:;[^\s"'<>]*)?/gi;
const SCHEME_URL = /\b[a-z][a-z0-9+.-]{1,20}:\/\/[^\s"'<>)]*/gi;
const KEY_VALUE_CONNECTION = /\b(?:server|data source|host|user id|uid|password|pwd|initial catalog|database)\s*=\s*[^;\s]*(?:;\s*[a-z ]+\s*=\s*[^;\s]*)*;?/gi;
// Java/.NET/JS/Python stack frames and exception class names with packages.
const JAVA_FRAME = /\bat\s+[\w$.<>]+\([^)]*\)/g;
const JS_FRAME = /\bat\s+(?:[\w$.<>[\] ]+\s+)?\(?(?:file:|node:|\/)[^\s)]*\)?/g;
const PY_FRAME = /\bFile\s+"[^"]*",\s+line\s+\d+(?:,\s+in\s+\S+)?/g;
const QUALIFIED_CLASS = /\b(?:[a-z_][\w$]*\.){2,}[A-Z][\w$]*(?:Exception|Error|Throwable)?\b/g;
const CAUSED_BY = /\bCaused by:?/gi;
const MORE_FRAMES = /\.\.\.\s*\d+\s+more\b/g;
// Addresses: IPv4 (with port), IPv6 (bracketed or with several groups), user@host, host names with a known-looking
// domain or an internal suffix, localhost, and filesystem paths.
const IPV4 = /\b(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?\b/g;
const IPV6 = /\[?(?<![\w:])(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{1,4}(?![\w:])\]?(?::\d{1,5})?/gi;
const USER_AT_HOST = /\b[\w.+-]+@[\w-]+(?:\.[\w-]+)*(?::\d{1,5})?\b/g;
const HOST_NAME = /\b(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:com|net|org|uk|io|local|internal|intra|lan|corp|cloud|nhs|svc|cluster|invalid|test|example|dev)(?::\d{1,5})?\b/gi;
const LOCALHOST = /\blocalhost(?::\d{1,5})?\b/gi;
const PATH = /(?:^|[\s(=])(?:\/[\w.$-]+){2,}\/?|\b[A-Z]:\\[^\s]*/g;
const MARKUP = /<[^>]*>/g;
const CONTROL = /[\u0000-\u001f\u007f]+/g;

/**
 * Supplier text made safe to show: addresses, frames and connection strings replaced, whitespace folded, capped.
 * Undefined when nothing useful is left.
 */
export function sanitiseDiagnostics(text: string | null | undefined): string | undefined {
  if (!text) return undefined;
  let s = text.slice(0, 4000);
  s = s
    .replace(MARKUP, ' ')
    .replace(CONTROL, ' ')
    .replace(JDBC, REDACTED)
    .replace(SCHEME_URL, REDACTED)
    .replace(KEY_VALUE_CONNECTION, REDACTED)
    .replace(JAVA_FRAME, REDACTED)
    .replace(JS_FRAME, REDACTED)
    .replace(PY_FRAME, REDACTED)
    .replace(CAUSED_BY, REDACTED)
    .replace(MORE_FRAMES, REDACTED)
    .replace(QUALIFIED_CLASS, REDACTED)
    .replace(USER_AT_HOST, REDACTED)
    .replace(IPV4, REDACTED)
    .replace(IPV6, (m) => (/[a-f]/i.test(m) || m.split(':').length > 3 ? REDACTED : m))
    .replace(HOST_NAME, REDACTED)
    .replace(LOCALHOST, REDACTED)
    .replace(PATH, (m) => `${/^[\s(=]/.test(m) ? m[0] : ''}${REDACTED}`)
    .replace(/\s+/g, ' ')
    // Runs of redactions (a stack trace) read as one.
    .replace(/\[redacted\](?:[\s:;,.]*\[redacted\])+/g, REDACTED)
    .trim();
  if (!s || s === REDACTED) return undefined;
  return s.length > DIAGNOSTICS_MAX ? `${s.slice(0, DIAGNOSTICS_MAX - 1)}…` : s;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * An OperationOutcome body's issue diagnostics, joined and sanitised; undefined for any body that is not an
 * OperationOutcome (HTML, plain text, other JSON).
 */
export function operationOutcomeDiagnostics(body: string | unknown): string | undefined {
  const parsed = typeof body === 'string' ? parse(body) : body;
  if (!isObject(parsed) || parsed.resourceType !== 'OperationOutcome' || !Array.isArray(parsed.issue)) return undefined;
  const texts = parsed.issue
    .filter(isObject)
    .map((i) => i.diagnostics)
    .filter((d): d is string => typeof d === 'string' && d.trim() !== '');
  return sanitiseDiagnostics(texts.join('; '));
}

/**
 * A proprietary REST supplier's documented error envelope (`{ error: { code, message, details: [{ field, message }] } }`),
 * its message and details joined and sanitised; undefined for any other body.
 */
export function errorEnvelopeDiagnostics(body: string | unknown): string | undefined {
  const parsed = typeof body === 'string' ? parse(body) : body;
  if (!isObject(parsed) || !isObject(parsed.error)) return undefined;
  const e = parsed.error;
  const details = Array.isArray(e.details)
    ? e.details
        .filter(isObject)
        .map((d) => [d.field, d.message].filter((x): x is string => typeof x === 'string' && x !== '').join(': '))
        .filter(Boolean)
    : [];
  const message = typeof e.message === 'string' ? e.message : '';
  return sanitiseDiagnostics([message, ...details].filter(Boolean).join('; '));
}
