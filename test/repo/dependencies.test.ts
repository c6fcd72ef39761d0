import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);

function packages(dir: 'libs' | 'apps'): { name: string; folder: string; deps: string[] }[] {
  return readdirSync(new URL(`${dir}/`, root)).map((folder) => {
    const pkg = JSON.parse(readFileSync(new URL(`${dir}/${folder}/package.json`, root), 'utf8')) as {
      name: string;
      dependencies?: Record<string, string>;
      devDependencies?: Record<string, string>;
    };
    return { name: pkg.name, folder: `${dir}/${folder}`, deps: Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }) };
  });
}

// Arrows point toward libs/protocol: it imports nothing of ours and does no I/O; no lib imports an app.
describe('package dependency direction', () => {
  const libs = packages('libs');
  const apps = packages('apps');
  const appNames = new Set(apps.map((a) => a.name));

  it('libs/protocol depends on no workspace package and no Node-only module', () => {
    const protocol = libs.find((l) => l.folder === 'libs/protocol')!;
    expect(protocol.deps.filter((d) => d.startsWith('@switchboard/'))).toEqual([]);
    const srcDir = new URL('libs/protocol/src/', root);
    for (const f of readdirSync(srcDir)) {
      if (!f.endsWith('.ts') || f.endsWith('.test.ts')) continue;
      const text = readFileSync(new URL(f, srcDir), 'utf8');
      expect(text, `${f} must not import node: modules`).not.toMatch(/from ['"]node:/);
      expect(text, `${f} must not use Buffer`).not.toMatch(/\bBuffer\.(from|alloc|concat|isBuffer)\b/);
    }
  });

  it('libs/client (browsers and Node) depends only on contracts among ours and imports no Node-only module', () => {
    const client = libs.find((l) => l.folder === 'libs/client')!;
    expect(client.deps.filter((d) => d.startsWith('@switchboard/'))).toEqual(['@switchboard/contracts']);
    const srcDir = new URL('libs/client/src/', root);
    for (const f of readdirSync(srcDir)) {
      if (!f.endsWith('.ts') || f.includes('.test')) continue;
      const text = readFileSync(new URL(f, srcDir), 'utf8');
      expect(text, `${f} must not import node: modules`).not.toMatch(/from ['"]node:/);
      expect(text, `${f} must not use Buffer or process`).not.toMatch(/\b(Buffer|process)\./);
    }
  });

  it('apps/web (the dashboard) uses only libs/client and libs/contracts among ours', () => {
    const web = apps.find((a) => a.folder === 'apps/web')!;
    expect(web.deps.filter((d) => d.startsWith('@switchboard/')).sort()).toEqual(['@switchboard/client', '@switchboard/contracts']);
  });

  it('no lib depends on an app', () => {
    for (const lib of libs) expect(lib.deps.filter((d) => appNames.has(d)), lib.folder).toEqual([]);
  });
});
