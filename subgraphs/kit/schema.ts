import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse, type DocumentNode } from 'graphql';

const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The subgraph's own SDL followed by the shared contract and any shared fragments it includes: what every
 * subgraph serves and what composition reads. `schemaDir` is relative to the repository root.
 */
export function subgraphSdl(schemaDir: string, includes: readonly string[] = []): string {
  const own = readFileSync(`${root}${schemaDir}/schema.graphql`, 'utf8');
  const shared = ['shared.graphql', ...includes].map((f) => readFileSync(`${root}schema/${f}`, 'utf8'));
  return [own, ...shared].join('\n');
}

export function subgraphTypeDefs(schemaDir: string, includes: readonly string[] = []): DocumentNode {
  return parse(subgraphSdl(schemaDir, includes));
}

export const repoRoot = root;
