import { describe, expect, it } from 'vitest';
import { ApolloServer } from '@apollo/server';
import { GraphQLError, GraphQLScalarType, Kind, buildSchema, execute, parse, type DocumentNode, type GraphQLObjectType, type GraphQLSchema } from 'graphql';
import { CompiledOperations, MAX_COMPILED_FIELDS, MAX_OPERATIONS_PER_DOCUMENT, compilable, compiledSchemaGateway, operationOf } from './compiled-execution.js';

const SDL = `
  scalar Stamp
  interface Named { name: String! }
  type Slot implements Named { name: String! start: Stamp! capacity: Int tags: [String!]! }
  type Clinic implements Named { name: String! slots(first: Int = 2): [Slot!]! }
  type Query {
    clinics(names: [String!]!): [Clinic!]!
    named(kind: String!): Named
    refused: Clinic
    strict: Clinic!
    delayed(ms: Int!, label: String!): String!
    broken: String
  }
  type Mutation { append(label: String!, ms: Int!): [String!]! }
`;

function testSchema(): { schema: GraphQLSchema; log: string[] } {
  const schema = buildSchema(SDL);
  const log: string[] = [];
  const fields = (type: string) => (schema.getType(type) as GraphQLObjectType).getFields();
  // The custom scalar serialises (as DateTime does): compiled execution must call it as graphql-js does.
  Object.assign(schema.getType('Stamp') as GraphQLScalarType, { serialize: (v: unknown) => new Date(v as number).toISOString() });
  const slot = (clinic: string, i: number) => ({ name: `${clinic}-${i}`, start: Date.UTC(2026, 11, 1, 9, i), capacity: i % 2 ? i : null, tags: i ? ['a', `t${i}`] : [] });
  fields('Query').clinics!.resolve = (_r, { names }: { names: string[] }) => names.map((name) => ({ name }));
  fields('Clinic').slots!.resolve = (c: { name: string }, { first }: { first: number }) => Array.from({ length: first }, (_, i) => slot(c.name, i));
  fields('Query').named!.resolve = (_r, { kind }: { kind: string }) => (kind === 'slot' ? { kind, ...slot('x', 1) } : kind === 'clinic' ? { kind, name: 'c' } : null);
  (schema.getType('Named') as unknown as { resolveType: (v: { kind: string }) => string }).resolveType = (v) => (v.kind === 'slot' ? 'Slot' : 'Clinic');
  fields('Query').refused!.resolve = () => {
    throw new GraphQLError('No consumer organisation', { extensions: { code: 'FORBIDDEN' } });
  };
  fields('Query').strict!.resolve = () => ({ name: null });
  fields('Query').broken!.resolve = () => {
    throw new TypeError('a bug, not for clients');
  };
  fields('Query').delayed!.resolve = async (_r, { ms, label }: { ms: number; label: string }) => {
    await new Promise((r) => setTimeout(r, ms));
    return label;
  };
  fields('Mutation').append!.resolve = async (_r, { label, ms }: { label: string; ms: number }) => {
    await new Promise((r) => setTimeout(r, ms));
    log.push(label);
    return [...log];
  };
  return { schema, log };
}

/** The answer as a client would see it (JSON), errors with their extensions. */
const asSent = (r: unknown) => JSON.parse(JSON.stringify(r));

const DOCUMENTS: [string, string, Record<string, unknown>][] = [
  ['lists, arguments, defaults, the scalar', 'query Q($n: [String!]!) { clinics(names: $n) { name slots(first: 3) { name start capacity tags } more: slots { name } } }', { n: ['a', 'b'] }],
  ['fragments, abstract types, __typename, skip and include', 'query Q($k: String!, $no: Boolean = true) { named(kind: $k) { __typename name ... on Slot { start tags @skip(if: $no) } ...C } } fragment C on Clinic { slots @include(if: $no) { name } }', { k: 'slot' }],
  ['the other member of the interface', 'query Q($k: String!) { named(kind: $k) { __typename ... on Clinic { slots(first: 1) { start } } } }', { k: 'clinic' }],
  ['a resolver error keeps its code and path', '{ refused { name } clinics(names: ["z"]) { name } }', {}],
  ['a null in a non-null field nulls its parent', '{ strict { name } clinics(names: []) { name } }', {}],
  ['a null from a nullable field', 'query Q($k: String!) { named(kind: $k) { name } }', { k: 'none' }],
];

describe('CompiledOperations', () => {
  it.each(DOCUMENTS)('answers as graphql-js does, compiled from the second use: %s', async (_name, text, variables) => {
    const { schema } = testSchema();
    const ops = new CompiledOperations(schema);
    const document = parse(text);
    const expected = asSent(await execute({ schema, document, variableValues: variables, contextValue: {} }));
    const first = asSent(await ops.execute({ document, variables, context: {} }));
    expect(ops.isCompiled(document)).toBe(false);
    const second = asSent(await ops.execute({ document, variables, context: {} }));
    expect(ops.isCompiled(document)).toBe(true);
    expect(first).toEqual(expected);
    expect(second).toEqual(expected);
  });

  it('refused variables are answered by graphql-js, with the nodes Apollo Server needs to call them bad input', async () => {
    const { schema } = testSchema();
    const ops = new CompiledOperations(schema);
    const document = parse('query Q($n: [String!]!) { clinics(names: $n) { name } }');
    await ops.execute({ document, variables: { n: ['a'] }, context: {} });
    await ops.execute({ document, variables: { n: ['a'] }, context: {} });
    expect(ops.isCompiled(document)).toBe(true);
    const bad = await ops.execute({ document, variables: { n: [1, null] }, context: {} });
    const expected = await execute({ schema, document, variableValues: { n: [1, null] } });
    expect(asSent(bad)).toEqual(asSent(expected));
    expect('data' in bad).toBe(false);
    expect(bad.errors?.[0]?.nodes?.[0]?.kind).toBe(Kind.VARIABLE_DEFINITION);
  });

  it('keeps nothing for an operation name the document does not define, nor for a document of several without one', async () => {
    const { schema } = testSchema();
    const ops = new CompiledOperations(schema);
    const document: DocumentNode = parse('query A { clinics(names: ["a"]) { name } } query B { strict { name } }');
    for (let i = 0; i < 3; i++) {
      const unknown = await ops.execute({ document, operationName: `X${i}`, context: {} });
      expect(unknown.errors?.[0]?.message).toBe(`Unknown operation named "X${i}".`);
      const unnamed = await ops.execute({ document, context: {} });
      expect(unnamed.errors?.[0]?.message).toBe('Must provide operation name if query contains multiple operations.');
    }
    expect(ops.keptFor(document)).toBe(0);
    await ops.execute({ document, operationName: 'A', context: {} });
    const a = await ops.execute({ document, operationName: 'A', context: {} });
    expect(a).toEqual({ data: { clinics: [{ name: 'a' }] } });
    expect(ops.keptFor(document)).toBe(1);
    expect(ops.isCompiled(document, 'A')).toBe(true);
  });

  it('runs a compiled mutation\'s fields one after the other, and a query\'s together', async () => {
    const { schema, log } = testSchema();
    const ops = new CompiledOperations(schema);
    const mutation = parse('mutation { first: append(label: "1", ms: 30) second: append(label: "2", ms: 0) }');
    await ops.execute({ document: mutation, context: {} });
    log.length = 0;
    const result = await ops.execute({ document: mutation, context: {} });
    expect(ops.isCompiled(mutation)).toBe(true);
    expect(result).toEqual({ data: { first: ['1'], second: ['1', '2'] } });
    const query = parse('{ a: delayed(ms: 150, label: "a") b: delayed(ms: 150, label: "b") c: delayed(ms: 150, label: "c") }');
    await ops.execute({ document: query, context: {} });
    const started = performance.now();
    expect(await ops.execute({ document: query, context: {} })).toEqual({ data: { a: 'a', b: 'b', c: 'c' } });
    // Together: about 150 ms, not 450 (generous for a loaded machine).
    expect(performance.now() - started).toBeLessThan(400);
  });
});

describe('compiledSchemaGateway in Apollo Server', () => {
  async function server() {
    const apollo = new ApolloServer({ gateway: compiledSchemaGateway(testSchema().schema), includeStacktraceInErrorResponses: false });
    await apollo.start();
    return apollo;
  }

  it('serves the schema: answers, typed errors and refused variables as Apollo Server does with graphql-js', async () => {
    const apollo = await server();
    try {
      const query = 'query Q($n: [String!]!) { clinics(names: $n) { name slots(first: 1) { start } } refused { name } }';
      for (let i = 0; i < 3; i++) {
        const r = await apollo.executeOperation({ query, variables: { n: ['a'] } });
        expect(r.body.kind).toBe('single');
        const single = r.body.kind === 'single' ? r.body.singleResult : null;
        expect(single?.data).toEqual({ clinics: [{ name: 'a', slots: [{ start: '2026-12-01T09:00:00.000Z' }] }], refused: null });
        expect(single?.errors?.map((e) => [e.extensions?.code, e.path])).toEqual([['FORBIDDEN', ['refused']]]);
      }
      const bad = await apollo.executeOperation({ query, variables: { n: [null] } });
      const single = bad.body.kind === 'single' ? bad.body.singleResult : null;
      expect(bad.http.status).toBe(400);
      expect(single?.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      const introspection = await apollo.executeOperation({ query: '{ __type(name: "Slot") { fields { name } } }' });
      expect(introspection.body.kind === 'single' && introspection.body.singleResult.data).toEqual({
        __type: { fields: [{ name: 'name' }, { name: 'start' }, { name: 'capacity' }, { name: 'tags' }] },
      });
    } finally {
      await apollo.stop();
    }
  });
});

describe('CompiledOperations bounds', () => {
  it('keeps the compiled operations of the most recently used documents, and first uses apart from them', async () => {
    const { schema } = testSchema();
    const ops = new CompiledOperations(schema, 3);
    const docs = Array.from({ length: 5 }, (_, i) => parse(`{ clinics(names: ["c${i}"]) { name } }`));
    const twice = async (d: DocumentNode) => {
      await ops.execute({ document: d, context: {} });
      await ops.execute({ document: d, context: {} });
    };
    for (const d of docs.slice(0, 3)) await twice(d);
    expect(docs.slice(0, 3).map((d) => ops.isCompiled(d))).toEqual([true, true, true]);
    // A stream of documents sent once each pushes out nothing compiled.
    for (let i = 0; i < 50; i++) await ops.execute({ document: parse(`{ clinics(names: ["once${i}"]) { name } }`), context: {} });
    expect(docs.slice(0, 3).map((d) => ops.isCompiled(d))).toEqual([true, true, true]);
    // docs[0] used again, so docs[1] and then docs[2] are the least recently used when docs[3] and docs[4] compile.
    await ops.execute({ document: docs[0]!, context: {} });
    await twice(docs[3]!);
    await twice(docs[4]!);
    expect(docs.map((d) => ops.isCompiled(d))).toEqual([true, false, false, true, true]);
    expect(await ops.execute({ document: docs[1]!, context: {} })).toEqual({ data: { clinics: [{ name: 'c1' }] } });
    expect(ops.isCompiled(docs[1]!)).toBe(false);
    await ops.execute({ document: docs[1]!, context: {} });
    expect(ops.isCompiled(docs[1]!)).toBe(true);
  });

  it('compiles no operation over MAX_COMPILED_FIELDS fields (fragments spread out), nor one aliasing a field __proto__', async () => {
    const { schema } = testSchema();
    const ops = new CompiledOperations(schema);
    // 10 spreads of a fragment of 10 spreads of a fragment of 30 fields: 3,000 fields from a short document.
    const wide = parse(`{ ...A } fragment A on Query { ${Array.from({ length: 10 }, (_, i) => `a${i}: clinics(names: ["x"]) { ...B }`).join(' ')} }
      fragment B on Clinic { ${Array.from({ length: 10 }, (_, i) => `b${i}: slots(first: 1) { ...C }`).join(' ')} }
      fragment C on Slot { ${Array.from({ length: 28 }, (_, i) => `c${i}: name`).join(' ')} }`);
    expect(compilable(wide, operationOf(wide, null)!)).toBe(false);
    const small = parse(`{ ...A } fragment A on Query { a: clinics(names: ["x"]) { ...B } } fragment B on Clinic { name }`);
    expect(compilable(small, operationOf(small, null)!)).toBe(true);
    expect(MAX_COMPILED_FIELDS).toBeLessThan(3000);
    const proto = parse('{ clinics(names: ["x"]) { __proto__: name name } }');
    const expected = asSent(await execute({ schema, document: proto }));
    expect(expected).toEqual(JSON.parse('{ "data": { "clinics": [{ "__proto__": "x", "name": "x" }] } }'));
    for (const document of [wide, proto, wide, proto]) {
      const got = asSent(await ops.execute({ document, context: {} }));
      if (document === proto) expect(got).toEqual(expected);
      expect(ops.isCompiled(document)).toBe(false);
    }
  });

  it('compiles at most MAX_OPERATIONS_PER_DOCUMENT operations of one document; the rest still answer', async () => {
    const { schema } = testSchema();
    const ops = new CompiledOperations(schema);
    const n = MAX_OPERATIONS_PER_DOCUMENT + 3;
    const document = parse(Array.from({ length: n }, (_, i) => `query Q${i} { clinics(names: ["q${i}"]) { name } }`).join('\n'));
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < 2; k++) expect(await ops.execute({ document, operationName: `Q${i}`, context: {} })).toEqual({ data: { clinics: [{ name: `q${i}` }] } });
    }
    const compiledCount = Array.from({ length: n }, (_, i) => ops.isCompiled(document, `Q${i}`)).filter(Boolean).length;
    expect(compiledCount).toBe(MAX_OPERATIONS_PER_DOCUMENT);
  });

  it('an operation name given must name an operation, "" included: it never runs the document\'s anonymous one', async () => {
    const { schema } = testSchema();
    const ops = new CompiledOperations(schema);
    const document = parse('{ clinics(names: ["a"]) { name } }');
    for (let i = 0; i < 3; i++) {
      const r = await ops.execute({ document, operationName: '', context: {} });
      expect(r.data).toBeUndefined();
      expect(r.errors?.[0]?.message).toBe('Unknown operation named "".');
      expect(await ops.execute({ document, context: {} })).toEqual({ data: { clinics: [{ name: 'a' }] } });
    }
    expect(ops.isCompiled(document)).toBe(true);
    expect((await ops.execute({ document, operationName: '', context: {} })).errors?.[0]?.message).toBe('Unknown operation named "".');
    expect(operationOf(document, '')).toBeUndefined();
  });
});

describe('errors through Apollo Server, compiled and not', () => {
  it('formats every kind of error as Apollo Server does with graphql-js: codes, paths, locations, messages', async () => {
    const { schema } = testSchema();
    const interpreted = new ApolloServer({ schema, includeStacktraceInErrorResponses: false });
    const compiled = new ApolloServer({ gateway: compiledSchemaGateway(schema), includeStacktraceInErrorResponses: false });
    await interpreted.start();
    await compiled.start();
    try {
      const documents = [
        '{ broken clinics(names: ["a"]) { name } }',
        '{ strict { name } }',
        '{ refused { name } named(kind: "none") { name } }',
        'query Q { strict { name } broken refused { name } }',
      ];
      type Body = { data?: unknown; errors?: { path?: unknown[] }[] };
      const body = (r: Awaited<ReturnType<typeof compiled.executeOperation>>): Body => (r.body.kind === 'single' ? asSent(r.body.singleResult) : {});
      for (const query of documents) {
        const want = body(await interpreted.executeOperation({ query }));
        for (let i = 0; i < 3; i++) {
          const res = await compiled.executeOperation({ query });
          expect(res.http.status ?? 200).toBe(200);
          const got = body(res);
          expect(got.data).toEqual(want.data);
          // Every error graphql-js reports, formatted alike. When a root field's null voids the whole answer,
          // graphql-js stops at that field and graphql-jit still reports the other fields' own errors (both as the
          // spec allows): then the compiled answer has more errors, never fewer.
          expect(got.errors).toEqual(expect.arrayContaining(want.errors ?? []));
          if (!query.startsWith('query Q')) expect(got.errors).toHaveLength(want.errors?.length ?? 0);
        }
      }
      const broken = await compiled.executeOperation({ query: '{ broken }' });
      const error = broken.body.kind === 'single' ? broken.body.singleResult.errors?.[0] : undefined;
      expect(error).toMatchObject({ path: ['broken'], locations: [{ line: 1, column: 3 }], extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    } finally {
      await interpreted.stop();
      await compiled.stop();
    }
  });
});
