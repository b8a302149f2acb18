import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The directory holding schema/, config/, ide/, sandbox data and each subgraph's schema.graphql: one level up from
 * this module when it runs from source (common/repo-root.ts), two when it runs compiled (dist/common/repo-root.js
 * from `npm run build`, or dist-test/ in the end-to-end tests), so the files read at run time are the same ones
 * either way.
 */
function findRoot(): string {
  const candidates = ['../', '../../'].map((up) => fileURLToPath(new URL(up, import.meta.url)));
  return candidates.find((dir) => existsSync(`${dir}schema/shared.graphql`)) ?? candidates[0]!;
}

export const repoRoot = findRoot();
