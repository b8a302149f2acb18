/**
 * The import rules the architecture depends on, checked over the source: production code (common/, gateway/ and subgraphs/,
 * without *.test.ts, *.test-support.ts and recorded fixtures with their recorders) never imports the sandbox,
 * scripts/ or test code, and its runtime imports have no cycles (a cycle makes module initialisation order matter).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../subgraphs/kit/schema.js';

const PRODUCTION_ROOTS = ['common', 'gateway', 'subgraphs'];
/** Test code living beside what it tests: test files, their support modules, recorded fixtures and their recorders. */
const isTestCode = (path: string) => /\.test(-support)?\.ts$/.test(path) || path.split('/').includes('fixtures');

function walk(dir: string): string[] {
  return readdirSync(join(repoRoot, dir), { withFileTypes: true }).flatMap((d) => {
    const path = `${dir}/${d.name}`;
    if (d.isDirectory()) return d.name === 'node_modules' || d.name === 'generated' ? [] : walk(path);
    return d.name.endsWith('.ts') && !d.name.endsWith('.d.ts') ? [path] : [];
  });
}

interface Import {
  specifier: string;
  typeOnly: boolean;
}

/** Static imports, re-exports and dynamic imports with a literal specifier; comments removed first. */
function importsOf(source: string): Import[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const found: Import[] = [];
  for (const m of code.matchAll(/^\s*(import|export)(\s+type)?\s[^'";]*?\sfrom\s*['"]([^'"]+)['"]/gm)) {
    found.push({ specifier: m[3]!, typeOnly: Boolean(m[2]) });
  }
  for (const m of code.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)) found.push({ specifier: m[1]!, typeOnly: false });
  for (const m of code.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push({ specifier: m[1]!, typeOnly: false });
  return found;
}

/** The repository path a relative specifier names (.js written for .ts under NodeNext). */
function resolveRelative(from: string, specifier: string): string {
  return normalize(join(dirname(from), specifier)).replace(/\.js$/, '.ts');
}

const production = PRODUCTION_ROOTS.flatMap(walk).filter((p) => !isTestCode(p));
const imports = new Map(production.map((p) => [p, importsOf(readFileSync(join(repoRoot, p), 'utf8'))]));

describe('production code (common/, gateway/, subgraphs/)', () => {
  it('is found: the scan sees the entry points and the adapters', () => {
    expect(production).toEqual(expect.arrayContaining(['gateway/index.ts', 'subgraphs/adapters.ts', 'subgraphs/kit/registry.ts']));
    expect(imports.get('subgraphs/kit/registry.ts')!.map((i) => i.specifier)).toContain('../adapters.js');
  });

  it('never imports sandbox/, scripts/ or test code', () => {
    const offending = production.flatMap((file) =>
      imports
        .get(file)!
        .filter((i) => i.specifier.startsWith('.'))
        .map((i) => resolveRelative(file, i.specifier))
        .filter((target) => /^(sandbox|scripts|test)\//.test(target) || isTestCode(target) || target.startsWith('..'))
        .map((target) => `${file} imports ${target}`),
    );
    expect(offending).toEqual([]);
  });

  it('shares through common/: what the gateway and the subgraphs both use imports neither of them', () => {
    const offending = production
      .filter((file) => file.startsWith('common/'))
      .flatMap((file) =>
        imports
          .get(file)!
          .filter((i) => i.specifier.startsWith('.'))
          .map((i) => resolveRelative(file, i.specifier))
          .filter((target) => /^(gateway|subgraphs)\//.test(target))
          .map((target) => `${file} imports ${target}`),
      );
    expect(production.filter((f) => f.startsWith('common/')).length).toBeGreaterThan(10);
    expect(offending).toEqual([]);
  });

  it("keeps the adapters' descriptors light: the list reaches no adapter's runtime", () => {
    // The gateway and the directory import subgraphs/adapters.ts: data and zod schemas only.
    const reached = new Set<string>();
    const walkFrom = (file: string): void => {
      if (reached.has(file)) return;
      reached.add(file);
      for (const i of imports.get(file) ?? []) if (!i.typeOnly && i.specifier.startsWith('.')) walkFrom(resolveRelative(file, i.specifier));
    };
    walkFrom('subgraphs/adapters.ts');
    const heavy = [...reached].filter((f) => f !== 'subgraphs/adapters.ts' && !/^subgraphs\/[\w-]+\/adapter\.ts$/.test(f) && f !== 'subgraphs/kit/registry-fields.ts');
    expect(heavy).toEqual([]);
    expect(reached.size).toBeGreaterThan(2);
  });

  it('has no import cycles (type-only imports aside)', () => {
    const edges = new Map(
      production.map((file) => [
        file,
        imports
          .get(file)!
          .filter((i) => !i.typeOnly && i.specifier.startsWith('.'))
          .map((i) => resolveRelative(file, i.specifier))
          .filter((target) => imports.has(target)),
      ]),
    );
    expect(findCycles(edges)).toEqual([]);
  });
});

/** Every cycle a depth-first walk meets, each as "a → b → a". */
function findCycles(edges: ReadonlyMap<string, readonly string[]>): string[] {
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of edges.get(file) ?? []) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next].join(' → '));
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of edges.keys()) if (!state.has(file)) visit(file);
  return cycles;
}

describe('the import scan', () => {
  it('sees static, re-exported, side-effect and dynamic imports, and tells type-only ones', () => {
    const found = importsOf(
      [
        "import { a } from './a.js';",
        "import type { B } from '../b.js';",
        "export { c } from './c.js';",
        "export type { D } from './d.js';",
        "import './e.js';",
        "const f = await import('./f.js');",
        '// import { g } from "./g.js";',
      ].join('\n'),
    );
    expect(found).toEqual([
      { specifier: './a.js', typeOnly: false },
      { specifier: '../b.js', typeOnly: true },
      { specifier: './c.js', typeOnly: false },
      { specifier: './d.js', typeOnly: true },
      { specifier: './e.js', typeOnly: false },
      { specifier: './f.js', typeOnly: false },
    ]);
    expect(resolveRelative('gateway/operations/x.ts', '../../sandbox/seed/services.js')).toBe('sandbox/seed/services.ts');
  });

  it('finds a cycle, and none in a graph without one', () => {
    expect(findCycles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]))).toEqual(['a → b → c → a']);
    expect(findCycles(new Map([['a', ['b', 'c']], ['b', ['c']], ['c', []]]))).toEqual([]);
  });
});
