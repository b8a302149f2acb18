import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, normalize } from 'node:path';
import { defineConfig } from 'vitest/config';

/**
 * Three tiers, each a vitest project (`npm run test:unit`, `test:integration`, `test:e2e`; `npm test` runs all):
 * - e2e: `*.e2e.test.ts`, the whole stack as separate processes (scripts/stack.ts);
 * - integration: `*.processes.test.ts`, and any other test that starts a real Redis (test/redis.ts,
 *   test/support/redis-cluster.ts) or a child process: decided by what the file imports, so a new such test cannot
 *   land in the fast tier by mistake;
 * - unit: the rest (in-process, in-memory; in-process HTTP servers such as the sandbox simulators count as unit).
 */
const E2E = '**/*.e2e.test.ts';
const SKIP = new Set(['node_modules', 'dist', 'dist-test', '.git']);

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    if (SKIP.has(d.name)) return [];
    const path = dir === '.' ? d.name : `${dir}/${d.name}`;
    if (d.isDirectory()) return testFiles(path);
    return d.name.endsWith('.test.ts') && !d.name.endsWith('.e2e.test.ts') ? [path] : [];
  });
}

/** Modules whose import means the test starts real processes: the test Redis helpers, or child processes. */
const STARTS_PROCESSES = new Set(['test/redis.ts', 'test/support/redis-cluster.ts', 'node:child_process']);
const root = import.meta.dirname;

function startsProcesses(file: string): boolean {
  const source = readFileSync(join(root, file), 'utf8');
  return [...source.matchAll(/\bfrom\s+['"]([^'"]+)['"]/g)].some(([, spec]) =>
    STARTS_PROCESSES.has(spec!.startsWith('.') ? normalize(join(dirname(file), spec!)).replace(/\.js$/, '.ts') : spec!),
  );
}

const integration = testFiles('.').filter((f) => f.endsWith('.processes.test.ts') || startsProcesses(f));

export default defineConfig({
  // Vite would resolve `graphql` to its ESM build, while the packages Node loads (Apollo Server, @apollo/subgraph,
  // graphql-jit) get its CommonJS build, as everything does under Node: two realms, whose schemas and types each
  // refuses. Tests get the CommonJS build too, as the processes they test do.
  resolve: { alias: [{ find: /^graphql$/, replacement: createRequire(import.meta.url).resolve('graphql') }] },
  test: {
    exclude: ['node_modules/**', 'dist/**', 'dist-test/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // End-to-end files start their own processes on free ports; two workers fit 2 cores.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'unit', include: ['**/*.test.ts'], exclude: ['node_modules/**', 'dist/**', E2E, ...integration] } },
      { extends: true, test: { name: 'integration', include: integration } },
      // A whole-stack test drives several processes (and for the IDE, a browser) on two cores shared with another
      // worker: 13-21 s is usual there, so 30 s left too little room. A stuck step still fails, on its own wait.
      {
        extends: true,
        test: {
          name: 'e2e',
          include: [E2E],
          exclude: ['node_modules/**', 'dist/**', 'dist-test/**'],
          testTimeout: 90_000,
          globalSetup: ['test/support/compiled-stack.ts'],
        },
      },
    ],
  },
});
