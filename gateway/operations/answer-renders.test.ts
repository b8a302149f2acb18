/**
 * Executed results of reused answers (answer-renders.ts), against a small schema of the same shape as the
 * gateway's `availability` and real graphql-js execution. `find` stands in for availability.ts reusableAnswer
 * (exercised end to end in test/availability.e2e.test.ts): it is the one thing the keeper asks, and each case here
 * is what it would answer.
 */
import { buildSchema, execute, parse, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it, vi } from 'vitest';
import { AnswerRenders, keptBytes, keptBytesHeld, noteReused, stringifyResult, type Reused, type RenderRequest } from './answer-renders.js';

const schema = buildSchema(/* GraphQL */ `
  input AvailabilitySearch { serviceIds: [String!], from: String }
  type Availability { totalCount: Int! }
  type Query { availability(search: AvailabilitySearch!): Availability, other: Int }
  type Mutation { availability(search: AvailabilitySearch!): Availability }
`);

const SEARCH = 'query($s: AvailabilitySearch!) { availability(search: $s) { totalCount } }';

/** What `find` answers per search: the answer key is the search's ids, the entry whatever the case sets. */
function keeper(entries: Map<string, object>) {
  const asked: unknown[] = [];
  const renders = new AnswerRenders(
    schema,
    async (search, ctx) => {
      asked.push(search);
      if (search.from === 'invalid') throw new Error('search.from is in the past');
      const key = `${JSON.stringify(search.serviceIds)}|${ctx.consumer.odsCode}`;
      const entry = entries.get(key);
      return entry && { key, entry };
    },
    60_000,
  );
  return { renders, asked };
}

let traces = 0;
function request(query: string, variables: Record<string, unknown>, odsCode = 'RX8'): RenderRequest {
  const document = parse(query);
  return {
    queryHash: query,
    document,
    operation: document.definitions[0] as OperationDefinitionNode,
    operationName: undefined,
    variables,
    context: { consumer: { odsCode, name: odsCode }, authenticated: true, traceId: `t${traces++}` },
  };
}

/** Executes as the gateway does, the resolver noting the answer it reused (when `reused` is given). */
async function run(renders: AnswerRenders, rq: RenderRequest, reused?: Reused, count = 7) {
  const kept = await renders.lookup(rq);
  if (kept) return { result: kept, kept: true };
  const result = await execute({
    schema,
    document: rq.document,
    variableValues: rq.variables ?? {},
    contextValue: rq.context,
    rootValue: {
      availability: (_: unknown, ctx: object) => {
        if (reused) noteReused(ctx, reused);
        return { totalCount: count };
      },
      other: () => 1,
    },
  });
  renders.keep(rq, result);
  return { result, kept: false };
}

describe('AnswerRenders', () => {
  it('hands back the executed result for the same document, variables and consumer while the answer holds', async () => {
    const entry = {};
    const entries = new Map([['["a"]|RX8', entry]]);
    const { renders } = keeper(entries);
    const vars = { s: { serviceIds: ['a'] } };
    const first = await run(renders, request(SEARCH, vars), { key: '["a"]|RX8', entry });
    expect(first.kept).toBe(false);
    const second = await run(renders, request(SEARCH, vars), { key: '["a"]|RX8', entry }, 99);
    expect(second).toEqual({ result: first.result, kept: true });
    expect(second.result).toBe(first.result);

    // Another consumer, other variables, or another document: executed.
    expect((await run(renders, request(SEARCH, vars, 'RY1'))).kept).toBe(false);
    expect((await run(renders, request(SEARCH, { s: { serviceIds: ['b'] } }))).kept).toBe(false);
    expect((await run(renders, request(`${SEARCH} `, vars))).kept).toBe(false);

    // The answer replaced (a refresh) or gone (generations moved): executed again, and the new result kept.
    entries.set('["a"]|RX8', {});
    const afterRefresh = await run(renders, request(SEARCH, vars), { key: '["a"]|RX8', entry: entries.get('["a"]|RX8')! }, 12);
    expect(afterRefresh.kept).toBe(false);
    expect(afterRefresh.result.data).toEqual({ availability: { totalCount: 12 } });
    expect((await run(renders, request(SEARCH, vars))).result.data).toEqual({ availability: { totalCount: 12 } });
    entries.delete('["a"]|RX8');
    const fetched = await run(renders, request(SEARCH, vars), undefined, 13);
    expect(fetched).toMatchObject({ kept: false, result: { data: { availability: { totalCount: 13 } } } });
  });

  it('serialises a kept result\'s data once, to the very text of a plain serialisation', async () => {
    const entry = {};
    const { renders } = keeper(new Map([['["a"]|RX8', entry]]));
    const vars = { s: { serviceIds: ['a'] } };
    const plain = (await run(renders, request(SEARCH, { s: { serviceIds: ['z'] } }))).result;
    const kept = (await run(renders, request(SEARCH, vars), { key: '["a"]|RX8', entry })).result;
    const spy = vi.spyOn(JSON, 'stringify');
    try {
      for (const value of [
        { data: kept.data },
        // As Apollo passes it (runHttpQuery: errors, data, extensions, absent ones undefined).
        { errors: undefined, data: kept.data, extensions: undefined },
        { data: kept.data, extensions: { traceId: 't1' } },
        { data: kept.data, extensions: { traceId: 't2' } },
        { data: plain.data },
        { errors: [{ message: 'x' }], data: kept.data },
      ]) {
        expect(stringifyResult(value)).toBe(`${JSON.stringify(value)}\n`);
      }
      // The kept data serialised once across its four plain uses (the errors case serialises it whole).
      expect(spy.mock.calls.filter(([v]) => v === kept.data)).toHaveLength(1);
    } finally {
      spy.mockRestore();
    }
  });

  it('hands the HTTP layer the bytes of a kept result\'s whole text, and of nothing else', async () => {
    const entry = {};
    const { renders } = keeper(new Map([['["b"]|RX8', entry]]));
    const kept = (await run(renders, request(SEARCH, { s: { serviceIds: ['b'] } }), { key: '["b"]|RX8', entry }, 21)).result;
    const plain = (await run(renders, request(SEARCH, { s: { serviceIds: ['y'] } }), undefined, 23)).result;

    const first = stringifyResult({ errors: undefined, data: kept.data, extensions: undefined });
    // The same text every time, made once, with the very bytes of its UTF-8 encoding.
    expect(stringifyResult({ data: kept.data })).toBe(first);
    expect(keptBytes(first)?.equals(Buffer.from(first, 'utf8'))).toBe(true);
    expect(JSON.parse(keptBytes(first)!.toString('utf8'))).toEqual({ data: { availability: { totalCount: 21 } } });
    // An equal text made elsewhere finds the same bytes; a plain result's text, or one with extensions, finds none.
    expect(keptBytes(`${JSON.stringify({ data: kept.data })}\n`)?.equals(Buffer.from(first))).toBe(true);
    expect(keptBytes(stringifyResult({ data: plain.data }))).toBeUndefined();
    expect(keptBytes(stringifyResult({ data: kept.data, extensions: { traceId: 't9' } }))).toBeUndefined();
    expect(keptBytes(stringifyResult({ data: { availability: { totalCount: 22 } } }))).toBeUndefined();
  });

  it('keeps the bytes of at most 64 texts, the oldest going first', async () => {
    const texts: string[] = [];
    for (let i = 0; i < 70; i++) {
      const entry = {};
      const ids = [`many-${i}`];
      const { renders } = keeper(new Map([[`${JSON.stringify(ids)}|RX8`, entry]]));
      const kept = (await run(renders, request(SEARCH, { s: { serviceIds: ids } }), { key: `${JSON.stringify(ids)}|RX8`, entry }, 1000 + i)).result;
      texts.push(stringifyResult({ data: kept.data }));
    }
    expect(texts.slice(0, 6).map((t) => keptBytes(t))).toEqual(Array(6).fill(undefined));
    expect(texts.slice(6).every((t) => keptBytes(t)?.toString('utf8') === t)).toBe(true);
    // The lengths it counts for its look-ups are exactly what it holds, after evictions too.
    expect(keptBytesHeld()).toEqual({ texts: 64, counted: 64 });
  });

  it('keeps a kept result\'s bytes again when it is served after they were pushed out', async () => {
    const entry = {};
    const { renders } = keeper(new Map([['["again"]|RX8', entry]]));
    const kept = (await run(renders, request(SEARCH, { s: { serviceIds: ['again'] } }), { key: '["again"]|RX8', entry }, 4242)).result;
    const text = stringifyResult({ data: kept.data });
    for (let i = 0; i < 64; i++) {
      const other = {};
      const ids = [`push-${i}`];
      const { renders: r } = keeper(new Map([[`${JSON.stringify(ids)}|RX8`, other]]));
      const pushed = (await run(r, request(SEARCH, { s: { serviceIds: ids } }), { key: `${JSON.stringify(ids)}|RX8`, entry: other }, 5000 + i)).result;
      stringifyResult({ data: pushed.data });
    }
    expect(keptBytes(text)).toBeUndefined();
    expect(stringifyResult({ data: kept.data })).toBe(text);
    expect(keptBytes(text)?.toString('utf8')).toBe(text);
    expect(keptBytesHeld()).toEqual({ texts: 64, counted: 64 });
  });

  it('keeps nothing a search did not wholly answer from one reused answer, and never skips validation', async () => {
    const entry = {};
    const { renders, asked } = keeper(new Map([['["a"]|RX8', entry]]));
    const reused = { key: '["a"]|RX8', entry };
    const vars = { s: { serviceIds: ['a'] } };
    const kinds = [
      // A fetched answer (nothing noted), a second root field, the field twice, a mutation.
      { query: SEARCH, reused: undefined },
      { query: 'query($s: AvailabilitySearch!) { availability(search: $s) { totalCount } other }', reused },
      { query: 'query($s: AvailabilitySearch!) { a: availability(search: $s) { totalCount } b: availability(search: $s) { totalCount } }', reused },
      { query: 'mutation($s: AvailabilitySearch!) { availability(search: $s) { totalCount } }', reused },
    ];
    for (const k of kinds) {
      await run(renders, request(k.query, vars), k.reused);
      expect((await run(renders, request(k.query, vars), k.reused)).kept).toBe(false);
    }
    expect(asked).toEqual([]);

    // Kept, then the same search is no longer valid (its window has passed): executed, so its error is the client's.
    const late = { s: { serviceIds: ['a'], from: 'invalid' } };
    await run(renders, request(SEARCH, late), reused);
    expect((await run(renders, request(SEARCH, late), reused)).kept).toBe(false);
    // A request without a query hash has no key that tells documents apart: never kept.
    const unhashed = () => ({ ...request(SEARCH, vars), queryHash: undefined });
    await run(renders, unhashed(), reused);
    expect((await run(renders, unhashed(), reused)).kept).toBe(false);
    // A result with errors is not kept.
    const other = { s: { serviceIds: ['a'], from: 'tomorrow' } };
    expect((await run(renders, request(SEARCH, other), reused, null as unknown as number)).result.errors).toHaveLength(1);
    expect((await run(renders, request(SEARCH, other), reused, null as unknown as number)).kept).toBe(false);
  });
});
