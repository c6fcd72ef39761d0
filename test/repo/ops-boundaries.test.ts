import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);

function sources(dir: string): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  const walk = (rel: string): void => {
    for (const e of readdirSync(new URL(rel, root), { withFileTypes: true })) {
      if (e.isDirectory()) walk(`${rel}${e.name}/`);
      else if (e.name.endsWith('.ts') && !e.name.includes('.test')) out.push({ file: `${rel}${e.name}`, text: readFileSync(new URL(`${rel}${e.name}`, root), 'utf8') });
    }
  };
  walk(dir);
  return out;
}

// Operations live in the apps: the libraries expose hooks (HubServerMetrics, BusMetrics, the
// pino-compatible Logger) and never depend on a metrics or logging library. The one exception is
// libs/logging, which exists to hold the apps' shared pino setup and is imported by apps only.
describe('operations boundaries', () => {
  it('no lib but libs/logging depends on prom-client or pino', () => {
    for (const lib of readdirSync(new URL('libs/', root)).filter((l) => l !== 'logging')) {
      const pkg = JSON.parse(readFileSync(new URL(`libs/${lib}/package.json`, root), 'utf8')) as { dependencies?: object; devDependencies?: object };
      const deps = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies });
      expect(deps.filter((d) => d === 'prom-client' || d === 'pino'), `libs/${lib}`).toEqual([]);
      for (const { file, text } of sources(`libs/${lib}/src/`)) expect(text, file).not.toMatch(/from ['"](prom-client|pino)['"]/);
    }
  });

  it('only apps import libs/logging', () => {
    for (const lib of readdirSync(new URL('libs/', root))) {
      const pkg = JSON.parse(readFileSync(new URL(`libs/${lib}/package.json`, root), 'utf8')) as { dependencies?: object };
      expect(Object.keys({ ...pkg.dependencies }), `libs/${lib}`).not.toContain('@switchboard/logging');
    }
  });

  it('apps/hub and apps/worker read the environment only in config.ts', () => {
    for (const app of ['apps/hub/src/', 'apps/worker/src/']) {
      for (const { file, text } of sources(app)) {
        if (file.endsWith('/config.ts')) continue;
        expect(text, file).not.toMatch(/process\.env/);
      }
    }
  });
});
