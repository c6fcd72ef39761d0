import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The import graph of every lib's source (tests and type tests included: they are code too), read
// from the files themselves: relative imports, `import type` included (a type-only arrow is still
// an arrow a reader follows, and it becomes a value import with one edit).
const root = fileURLToPath(new URL('../../', import.meta.url));
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|(?:^|\n)\s*import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (/\.tsx?$/.test(e) && !e.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Every import specifier of `file`: relative ones resolved to files, bare ones as written. */
function importsOf(file: string): { local: string[]; bare: string[] } {
  const text = readFileSync(file, 'utf8');
  const local: string[] = [];
  const bare: string[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? m[3]!;
    if (!spec.startsWith('.')) {
      bare.push(spec);
      continue;
    }
    const base = resolve(dirname(file), spec).replace(/\.js$/, '');
    const target = ['.ts', '.tsx', '/index.ts'].map((ext) => base + ext).find((f) => existsSync(f));
    if (!target) throw new Error(`${relative(root, file)}: cannot resolve '${spec}'`);
    local.push(target);
  }
  return { local, bare };
}

type Graph = Map<string, { local: string[]; bare: string[] }>;

function graphOf(srcDir: string): Graph {
  return new Map(sourceFiles(srcDir).map((f) => [f, importsOf(f)]));
}

/** Every cycle's files (Tarjan's strongly connected components of more than one file, or a self-import). */
function cycles(graph: Graph): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)?.local ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) !== idx.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || graph.get(v)!.local.includes(v)) out.push(component.map((f) => relative(root, f)).sort());
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

/** Files reachable from `start` (itself included) over relative imports. */
function closure(graph: Graph, start: string): Set<string> {
  const seen = new Set<string>();
  const todo = [start];
  while (todo.length) {
    const f = todo.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    todo.push(...(graph.get(f)?.local ?? []));
  }
  return seen;
}

const libs = readdirSync(join(root, 'libs')).filter((l) => existsSync(join(root, 'libs', l, 'src')));

/**
 * Cycles known and left for now, each with its reason. The list may only shrink: an entry that is
 * no longer a cycle fails the test, so it is removed when fixed.
 */
const KNOWN_CYCLES: Record<string, { files: string[]; reason: string }[]> = {
  'backplane-redis': [
    {
      files: ['libs/backplane-redis/src/client-shape.ts', 'libs/backplane-redis/src/redis-config.ts'],
      reason: 'type-only one way (RedisSentinelTarget); the package is being reworked for Redis Sentinel (issue 15 left it to that change)',
    },
  ],
};

describe('import cycles', () => {
  it.each(libs)('libs/%s/src has none (but the known ones)', (lib) => {
    const known = (KNOWN_CYCLES[lib] ?? []).map((k) => k.files);
    expect(cycles(graphOf(join(root, 'libs', lib, 'src')))).toEqual(known);
  });

  it('the check finds a cycle when there is one', () => {
    const a = join(root, 'a.ts');
    const b = join(root, 'b.ts');
    const graph: Graph = new Map([
      [a, { local: [b], bare: [] }],
      [b, { local: [a], bare: [] }],
    ]);
    expect(cycles(graph)).toEqual([['a.ts', 'b.ts']]);
  });
});

// libs/hub-server by concern (see its README's map). `scaleout/` and `hub/` are what the
// `./backplane` entry (workers: no HTTP server, no `ws`) loads, so nothing they reach may be a
// connection, a transport, HTTP plumbing or `ws`.
describe('libs/hub-server folder rules', () => {
  const src = join(root, 'libs/hub-server/src');
  const graph = graphOf(src);
  const FORBIDDEN_FOLDERS = ['connection/', 'transports/', 'http/'];
  const folderOf = (f: string) => relative(src, f);

  it.each(['scaleout', 'hub'])('%s/ reaches no connection/, transports/, http/ or ws (directly or through other files)', (folder) => {
    const offenders: string[] = [];
    for (const file of graph.keys()) {
      // Tests may use anything (hub-ref.test-d.ts checks mapHub's types on the server); what ships may not.
      if (!folderOf(file).startsWith(`${folder}/`) || /\.test(-d)?\.ts$/.test(file)) continue;
      for (const reached of closure(graph, file)) {
        const rel = folderOf(reached);
        if (FORBIDDEN_FOLDERS.some((f) => rel.startsWith(f))) offenders.push(`${folderOf(file)} -> ${rel}`);
        if (graph.get(reached)!.bare.some((b) => b === 'ws' || b.startsWith('ws/'))) offenders.push(`${folderOf(file)} -> ${rel} -> ws`);
      }
    }
    expect([...new Set(offenders)]).toEqual([]);
  });

  it('the ./backplane entry (backplane.ts) loads only scaleout/, hub/, telemetry/ and leaf modules', () => {
    const reached = [...closure(graph, join(src, 'backplane.ts'))].map(folderOf).sort();
    expect(reached.filter((f) => FORBIDDEN_FOLDERS.some((x) => f.startsWith(x)))).toEqual([]);
    expect(reached.filter((f) => graph.get(join(src, f))!.bare.some((b) => b === 'ws' || b.startsWith('ws/')))).toEqual([]);
    expect(reached).toContain('scaleout/bus/bus-scaleout.ts');
  });

  it('no file sits at the top of src except the entries, the server and its shared leaves', () => {
    const top = readdirSync(src).filter((f) => statSync(join(src, f)).isFile());
    expect(top.sort()).toEqual(['backplane.ts', 'index.ts', 'options.ts', 'refusals.ts', 'server.ts']);
  });
});
