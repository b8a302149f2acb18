/**
 * NDJSON read line by line from a byte stream as it arrives, so a 50 MB slot file never sits in memory as one
 * string. Tolerates what real files do: a UTF-8 BOM, CRLF line ends, blank lines, no newline after the last line,
 * and multi-byte characters split across chunks. A "line" longer than `maxLineChars` (a file with no line breaks,
 * or not NDJSON at all) is dropped as it streams, reported, and reading resumes at the next line.
 */

/**
 * `unterminated`: the file's last line, with no newline after it. Real files often end so; the reader only needs to
 * know when that line is also not JSON (the file was cut short).
 */
export type NdjsonItem = { line: number; text: string; unterminated?: true } | { line: number; tooLong: true };

/** Far above any real resource (a Slot is ~500 bytes, a Location ~1 KB). */
export const MAX_LINE_CHARS = 1_000_000;

export async function* ndjsonLines(body: AsyncIterable<Uint8Array>, maxLineChars = MAX_LINE_CHARS): AsyncGenerator<NdjsonItem> {
  const decoder = new TextDecoder('utf-8');
  let buffer = '';
  let line = 0;
  let dropping = false;
  let first = true;

  function* split(final: boolean): Generator<NdjsonItem> {
    let from = 0;
    let nl: number;
    while ((nl = buffer.indexOf('\n', from)) >= 0) {
      line++;
      const raw = buffer.slice(from, nl);
      from = nl + 1;
      if (dropping) {
        dropping = false;
        yield { line, tooLong: true };
        continue;
      }
      const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (text.trim() !== '') yield { line, text };
    }
    buffer = buffer.slice(from);
    if (dropping || buffer.length > maxLineChars) {
      // Stop holding this line: remember it was too long and discard the rest of it as it arrives.
      dropping = true;
      buffer = '';
    }
    if (final) {
      if (dropping) {
        yield { line: line + 1, tooLong: true };
      } else {
        const text = buffer.endsWith('\r') ? buffer.slice(0, -1) : buffer;
        if (text.trim() !== '') yield { line: line + 1, text, unterminated: true };
      }
      buffer = '';
    }
  }

  for await (const chunk of body) {
    let s = decoder.decode(chunk, { stream: true });
    if (first && s.length > 0) {
      if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
      first = false;
    }
    buffer += s;
    yield* split(false);
  }
  buffer += decoder.decode();
  yield* split(true);
}
