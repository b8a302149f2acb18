import { readFileSync } from 'node:fs';
import { parse, type DocumentNode } from 'graphql';
import { repoRoot } from '../../common/repo-root.js';

/**
 * The subgraph's own SDL (its schema.graphql, then its `parts`) followed by the shared contract and any shared
 * fragments it includes: what every subgraph serves and what composition reads. `schemaDir` and `parts` are
 * relative to the repository root; `includes` to schema/.
 */
export function subgraphSdl(schemaDir: string, includes: readonly string[] = [], parts: readonly string[] = []): string {
  const own = [`${schemaDir}/schema.graphql`, ...parts].map((f) => readFileSync(`${repoRoot}${f}`, 'utf8'));
  const shared = ['shared.graphql', ...includes].map((f) => readFileSync(`${repoRoot}schema/${f}`, 'utf8'));
  return [...own, ...shared].join('\n');
}

export function subgraphTypeDefs(schemaDir: string, includes: readonly string[] = [], parts: readonly string[] = []): DocumentNode {
  return parse(subgraphSdl(schemaDir, includes, parts));
}

/** Kept here too: subgraph code and tests import it from beside the schema loader. */
export { repoRoot };
