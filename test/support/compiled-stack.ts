/**
 * Global setup of the end-to-end tier: compiles the stack's processes (the gateway and the subgraphs as
 * `npm run build` does, and the sandbox simulators) into dist-test/ and names it in STACK_COMPILED_DIR, so that every
 * stack the tier starts runs them compiled. The tier starts some thirty stacks and extra replicas; under tsx's
 * loader each process took about twice the CPU to start. tsc is incremental here (a few seconds when little
 * changed) and runs before every run and watch-mode rerun, so the tests never start stale code (and
 * scripts/stack.ts refuses an entry whose source is gone).
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

const root = fileURLToPath(new URL('../../', import.meta.url));
/** tsconfig.stack.json's outDir. */
const COMPILED_DIR = 'dist-test';

function compile(): void {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const started = Date.now();
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.stack.json'], { cwd: root, stdio: 'inherit' });
  console.log(`e2e: the stack compiled into ${COMPILED_DIR}/ in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

export default function compileStack(project: TestProject): void {
  compile();
  process.env.STACK_COMPILED_DIR = COMPILED_DIR;
  // Watch mode runs global setup once per session: a rerun after an edit must not start the old build.
  project.onTestsRerun(compile);
}
