import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse, type DocumentNode } from 'graphql';

/**
 * The directory holding schema/, config/, ide/ and each subgraph's schema.graphql: two levels up from this module
 * when it runs from source (subgraphs/kit/schema.ts), three when it runs compiled (dist/subgraphs/kit/schema.js,
 * `npm run build`), so the files read at run time are the same ones either way.
 */
function findRoot(): string {
  const candidates = ['../../', '../../../'].map((up) => fileURLToPath(new URL(up, import.meta.url)));
  return candidates.find((dir) => existsSync(`${dir}schema/shared.graphql`)) ?? candidates[0]!;
}

const root = findRoot();

/**
 * The subgraph's own SDL (its schema.graphql, then its `parts`) followed by the shared contract and any shared
 * fragments it includes: what every subgraph serves and what composition reads. `schemaDir` and `parts` are
 * relative to the repository root; `includes` to schema/.
 */
export function subgraphSdl(schemaDir: string, includes: readonly string[] = [], parts: readonly string[] = []): string {
  const own = [`${schemaDir}/schema.graphql`, ...parts].map((f) => readFileSync(`${root}${f}`, 'utf8'));
  const shared = ['shared.graphql', ...includes].map((f) => readFileSync(`${root}schema/${f}`, 'utf8'));
  return [...own, ...shared].join('\n');
}

export function subgraphTypeDefs(schemaDir: string, includes: readonly string[] = [], parts: readonly string[] = []): DocumentNode {
  return parse(subgraphSdl(schemaDir, includes, parts));
}

export const repoRoot = root;
