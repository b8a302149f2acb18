/**
 * The typed gateway→subgraph client is really checked (issue 9): `npm run check` runs `npm run codegen -- --check`,
 * and codegen validates the directory's documents against its schema and the supplier template against the shared
 * supplier contract. Here the real codegen.ts entry is run with one schema file replaced by a copy in which a field
 * the gateway's documents select is renamed: codegen must fail, naming the field; with the unchanged copy it
 * succeeds. Each supplier's own copy of the documents (its prefix) is checked against its own schema by
 * `npm run compose` (checkSupplierDocuments), tested the same way below.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate, loadCodegenConfig } from '@graphql-codegen/cli';
import type { Types } from '@graphql-codegen/plugin-helpers';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'graphql';
import { ADAPTERS } from '../../subgraphs/adapters.js';
import { repoRoot, subgraphSdl } from '../../subgraphs/kit/schema.js';
import { checkSupplierDocuments } from './supplier-documents.js';

const dir = mkdtempSync(join(tmpdir(), 'codegen-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** codegen.ts's entry for `output`, with `schemaFile` read from `replacement` instead, generating into memory. */
async function runEntry(output: string, schemaFile: string, replacement: string): Promise<void> {
  const { config } = await loadCodegenConfig({ configFilePath: join(repoRoot, 'codegen.ts') });
  const entry = (config.generates as Record<string, Types.ConfiguredOutput>)[output];
  if (!entry) throw new Error(`codegen.ts has no entry ${output}`);
  const schemas = (entry.schema as string[]).map((s) => (s === schemaFile ? replacement : join(repoRoot, s)));
  const documents = (entry.documents as string[]).map((d) => join(repoRoot, d));
  await generate(
    {
      ...config,
      cwd: repoRoot,
      silent: true,
      errorsOnly: true,
      generates: { [join(dir, 'out.ts')]: { ...entry, schema: schemas, documents } },
    },
    false,
  );
}

/** A copy of the schema file, with `from` replaced by `to` (null: unchanged). */
function copyWith(schemaFile: string, from: RegExp, to: string | null): string {
  const text = readFileSync(join(repoRoot, schemaFile), 'utf8');
  expect(text).toMatch(from);
  const path = join(dir, `${schemaFile.replaceAll('/', '_')}-${to ?? 'same'}.graphql`.replace(/[^\w.-]/g, '_'));
  writeFileSync(path, to === null ? text : text.replace(from, to));
  return path;
}

const CASES = [
  // A field of the directory's answer the look-up selects.
  ['gateway/operations/generated/directory.ts', 'subgraphs/directory/schema.graphql', /\bdistanceKm: Float/, 'distanceInKm: Float', 'distanceKm'],
  // A field of the shared slot contract a supplier answer selects.
  ['gateway/operations/generated/supplier.ts', 'schema/supplier-slots.graphql', /\bstartMs: Float!/, 'startEpochMs: Float!', 'startMs'],
] as const;

describe('a renamed field in a subgraph schema fails the codegen check', () => {
  it.each(CASES)('%s: %s', async (output, schemaFile, from, to, field) => {
    // The same entry with an unchanged copy generates: what fails below is the rename, not the harness.
    await expect(runEntry(output, schemaFile, copyWith(schemaFile, from, null))).resolves.toBeUndefined();
    const renamed = copyWith(schemaFile, from, to);
    const failure = await runEntry(output, schemaFile, renamed).then(
      () => null,
      (err: unknown) => err as Error,
    );
    expect(failure).toBeInstanceOf(Error);
    expect(String(failure?.message) + String((failure as { errors?: unknown[] })?.errors?.map(String))).toContain(field);
  }, 20_000);
});

describe("a supplier subgraph's own schema missing an operation the gateway sends fails the compose check", () => {
  it.each(ADAPTERS.map((a) => [a.subgraph.name, a] as const))('%s', (_name, { subgraph: s }) => {
    const sdl = subgraphSdl(s.dir, s.includes);
    expect(checkSupplierDocuments(s, parse(sdl))).toEqual([]);
    const field = `${s.prefix}TopSlots`;
    const renamed = sdl.replace(new RegExp(`\\b${field}\\(`), `${field}Renamed(`);
    expect(renamed).not.toBe(sdl);
    const errors = checkSupplierDocuments(s, parse(renamed));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(new RegExp(`^topSlots: .*"${field}"`));
  });
});
