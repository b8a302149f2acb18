import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse, type DocumentNode } from 'graphql';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** The shared contract followed by the subgraph's own SDL: what every subgraph serves and what composition reads. */
export function subgraphSdl(dir: string): string {
  const shared = readFileSync(`${root}schema/shared.graphql`, 'utf8');
  const own = readFileSync(`${root}subgraphs/${dir}/schema.graphql`, 'utf8');
  return `${own}\n${shared}`;
}

export function subgraphTypeDefs(dir: string): DocumentNode {
  return parse(subgraphSdl(dir));
}

export const repoRoot = root;
