import { describe, expect, it } from 'vitest';
import { ndjsonLines, type NdjsonItem } from './ndjson.js';

async function* chunks(...parts: (string | Uint8Array)[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield typeof p === 'string' ? new TextEncoder().encode(p) : p;
}

async function all(body: AsyncIterable<Uint8Array>, max?: number): Promise<NdjsonItem[]> {
  const out: NdjsonItem[] = [];
  for await (const item of ndjsonLines(body, max)) out.push(item);
  return out;
}

describe('ndjsonLines', () => {
  it('splits lines across chunk boundaries, with CRLF, blank lines, a BOM and no final newline', async () => {
    const got = await all(chunks('\uFEFF{"a":1}\r\n{"b"', ':2}\n\n', '  \n{"c":3}'));
    expect(got).toEqual([
      { line: 1, text: '{"a":1}' },
      { line: 2, text: '{"b":2}' },
      // The last line has no newline after it: said, so a reader can tell a file cut short (feeds/file.ts).
      { line: 5, text: '{"c":3}', unterminated: true },
    ]);
  });

  it('decodes a multi-byte character split between chunks', async () => {
    const bytes = new TextEncoder().encode('{"name":"Café"}\n');
    const cut = bytes.indexOf(0xc3) + 1; // inside "é"
    expect(await all(chunks(bytes.slice(0, cut), bytes.slice(cut)))).toEqual([{ line: 1, text: '{"name":"Café"}' }]);
  });

  it('drops an over-long line as it streams, reports it, and carries on with the next', async () => {
    const got = await all(chunks('{"ok":1}\n', 'x'.repeat(30), 'y'.repeat(30), 'z\n{"ok":2}\n'), 50);
    expect(got).toEqual([{ line: 1, text: '{"ok":1}' }, { line: 2, tooLong: true }, { line: 3, text: '{"ok":2}' }]);
  });

  it('reports an over-long last line with no newline', async () => {
    expect(await all(chunks('{"ok":1}\n', 'x'.repeat(80)), 50)).toEqual([{ line: 1, text: '{"ok":1}' }, { line: 2, tooLong: true }]);
  });
});
