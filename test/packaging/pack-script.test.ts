import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ESM script without type declarations (scripts/ is not a TypeScript project)
import { publishableWorkspaces, staleOutputs } from '../../scripts/pack.mjs';
import { REPO_ROOT } from '../support/processes.js';

describe('scripts/pack.mjs', () => {
  it('packs exactly the workspaces that are not private', () => {
    expect((publishableWorkspaces(REPO_ROOT) as { dir: string }[]).map((p) => p.dir).sort()).toEqual(
      ['apps/cli', 'apps/hub', 'apps/web', 'apps/worker', 'libs/backplane-redis', 'libs/client', 'libs/contracts', 'libs/hub-context', 'libs/hub-server', 'libs/jobs', 'libs/logging', 'libs/protocol'],
    );
  });

  it('finds compiled files whose source is gone (tsc never deletes them), and ignores bundles', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-stale-'));
    try {
      mkdirSync(join(dir, 'src/sub'), { recursive: true });
      mkdirSync(join(dir, 'dist/sub'), { recursive: true });
      for (const f of ['src/a.ts', 'src/sub/c.ts', 'dist/a.js', 'dist/a.d.ts', 'dist/sub/c.js', 'dist/sub/c.d.ts', 'dist/moved.js', 'dist/moved.d.ts', 'dist/app.js']) writeFileSync(join(dir, f), '');
      expect(staleOutputs(dir)).toEqual(['dist/moved.js']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
