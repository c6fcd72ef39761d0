import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The exported names of every public entry of every lib (each `exports` subpath of its
// package.json), from its built declaration files, in one snapshot file: a change to a public API
// is a visible diff in review (ASP.NET's PublicAPI.Shipped.txt). After an intended change, update
// it with `npx vitest run test/repo/public-api.test.ts -u`. Runs on the built dist (npm test builds first).
const root = fileURLToPath(new URL('../../', import.meta.url));

/** Names exported by a declaration file, following `export *` and re-exports from local files. */
function exportedNames(dts: string, seen = new Set<string>()): Set<string> {
  const names = new Set<string>();
  if (seen.has(dts)) return names;
  seen.add(dts);
  const text = readFileSync(dts, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/.*$/gm, '');
  const local = (spec: string) => resolve(dirname(dts), spec.replace(/\.js$/, '.d.ts'));
  for (const m of text.matchAll(/export\s+\*\s+from\s+['"]([^'"]+)['"]/g)) for (const n of exportedNames(local(m[1]!), seen)) names.add(n);
  for (const m of text.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)) {
    for (const part of m[1]!.split(',')) {
      const name = part.trim().replace(/^type\s+/, '').split(/\s+as\s+/).pop()!.trim();
      if (name) names.add(name);
    }
  }
  for (const m of text.matchAll(/export\s+(?:declare\s+)?(?:abstract\s+)?(?:const|let|function|class|enum|interface|type|namespace)\s+([A-Za-z_$][\w$]*)/g)) names.add(m[1]!);
  return names;
}

interface Entry {
  readonly label: string;
  readonly dts: string;
  readonly js: string;
}

function publicEntries(): Entry[] {
  const out: Entry[] = [];
  for (const lib of readdirSync(join(root, 'libs')).sort()) {
    const pkgFile = join(root, 'libs', lib, 'package.json');
    if (!existsSync(pkgFile)) continue;
    const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { name: string; exports?: Record<string, string | { types?: string; default?: string }> };
    for (const [subpath, target] of Object.entries(pkg.exports ?? {})) {
      const js = typeof target === 'string' ? target : target.default!;
      const dts = typeof target === 'string' ? js.replace(/\.js$/, '.d.ts') : (target.types ?? js.replace(/\.js$/, '.d.ts'));
      out.push({ label: subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`, dts: join(root, 'libs', lib, dts), js: join(root, 'libs', lib, js) });
    }
  }
  return out;
}

describe('public API', () => {
  it('the exported names of every public entry match test/repo/__snapshots__/public-api.txt', async () => {
    const lines: string[] = [];
    for (const entry of publicEntries()) {
      const values = new Set(Object.keys((await import(entry.js)) as object));
      lines.push(`${entry.label}`);
      for (const name of [...exportedNames(entry.dts)].sort()) lines.push(`  ${values.has(name) ? 'value' : 'type '} ${name}`);
    }
    await expect(lines.join('\n') + '\n').toMatchFileSnapshot('./__snapshots__/public-api.txt');
  });
});
