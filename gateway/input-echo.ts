/**
 * GraphQL's own input errors repeat the value they refused: a variable missing one required field is answered with
 * the whole variable (`Variable "$input" got invalid value { patient: { nhsNumber: "…", birthDate: "…" } }; Field
 * "clinicalHandover" … was not provided`), and a scalar or enum refusal quotes the value. Booking input is patient
 * data, so the gateway answers with the field path and the reason only. Pure; used by errors.ts on every message a
 * client may see.
 */

const VARIABLE = /^Variable "\$([_A-Za-z][_0-9A-Za-z]*)" got invalid value /;

/** Where the echoed value ends: the first `; ` or ` at "` outside a quoted string (graphql-js quotes strings as JSON). */
function endOfValue(s: string, from: number): number {
  let inString = false;
  for (let i = from; i < s.length; i++) {
    const c = s[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
    } else if (c === ';' && s[i + 1] === ' ') {
      return i;
    } else if (s.startsWith(' at "', i)) {
      return i;
    }
  }
  return s.length;
}

/** The reason part of a refusal, without the value it quotes. */
function reasonOnly(reason: string): string {
  return reason
    .replace(/(cannot represent[^:]*?value):[\s\S]*$/i, '$1.')
    .replace(/Value "(?:[^"\\]|\\.)*" does not exist in "([^"]+)" enum\.?/g, 'The value does not exist in "$1" enum.')
    .replace(/(Expected value of type "[^"]+"), found[\s\S]*$/, '$1.');
}

/** A client-facing error message with any echoed input value removed; other messages unchanged. */
export function withoutInputValues(message: string): string {
  const m = VARIABLE.exec(message);
  if (!m) return reasonOnly(message);
  const end = endOfValue(message, m[0].length);
  let rest = message.slice(end);
  let at = '';
  const path = /^ at "([^"]*)"/.exec(rest);
  if (path) {
    at = /^[_0-9A-Za-z.[\]]+$/.test(path[1]!) ? ` at "${path[1]}"` : '';
    rest = rest.slice(path[0].length);
  }
  const reason = rest.startsWith('; ') ? `; ${reasonOnly(rest.slice(2))}` : '';
  return `Variable "$${m[1]}" got invalid value${at}${reason}`;
}
