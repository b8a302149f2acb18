/**
 * The typed gateway→subgraph client is really checked (issue 9): `npm run check` runs `npm run codegen -- --check`,
 * and codegen validates every document in gateway/operations/documents against the schema of the subgraph it is
 * sent to. Here the real codegen.yml entry is run with one subgraph's schema replaced by a copy in which a field the
 * gateway's documents select is renamed: codegen must fail, naming the field; with the unchanged copy it succeeds.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate, loadCodegenConfig } from '@graphql-codegen/cli';
import type { Types } from '@graphql-codegen/plugin-helpers';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../subgraphs/kit/schema.js';

const dir = mkdtempSync(join(tmpdir(), 'codegen-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** codegen.yml's entry for `output`, with `schemaFile` read from `replacement` instead, generating into memory. */
async function runEntry(output: string, schemaFile: string, replacement: string): Promise<void> {
  const { config } = await loadCodegenConfig({ configFilePath: join(repoRoot, 'codegen.yml') });
  const entry = (config.generates as Record<string, Types.ConfiguredOutput>)[output];
  if (!entry) throw new Error(`codegen.yml has no entry ${output}`);
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
  // The top-K root field a supplier subgraph declares.
  ['gateway/operations/generated/pas-rest.ts', 'subgraphs/pas-rest/schema.graphql', /\bpasRestTopSlots\(/, 'pasRestTopSlotz(', 'pasRestTopSlots'],
  // A field of the directory's answer the look-up selects.
  ['gateway/operations/generated/directory.ts', 'subgraphs/directory/schema.graphql', /\bdistanceKm: Float/, 'distanceInKm: Float', 'distanceKm'],
  // A field of the shared slot contract a supplier answer selects.
  ['gateway/operations/generated/booking-standard.ts', 'schema/supplier-slots.graphql', /\bstartMs: Float!/, 'startEpochMs: Float!', 'startMs'],
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
