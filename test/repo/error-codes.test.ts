import { readdirSync, readFileSync } from 'node:fs';
import { ERROR_CODES } from '@switchboard/protocol';
import { describe, expect, it } from 'vitest';

describe('error code registry', () => {
  it('docs/error-codes.md lists exactly the codes of the registry', () => {
    const doc = readFileSync(new URL('../../docs/error-codes.md', import.meta.url), 'utf8');
    const documented = [...doc.matchAll(/^\| `(SB_[A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });

  it('every code is used by some source file', () => {
    const root = new URL('../../', import.meta.url);
    let text = '';
    const walk = (dir: URL): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (entry.isDirectory()) walk(new URL(`${entry.name}/`, dir));
        else if (entry.name.endsWith('.ts') && !entry.name.includes('.test') && entry.name !== 'errors.ts') text += readFileSync(new URL(entry.name, dir), 'utf8');
      }
    };
    for (const group of ['libs', 'apps']) {
      for (const pkg of readdirSync(new URL(`${group}/`, root))) walk(new URL(`${group}/${pkg}/src/`, root));
    }
    const unused = Object.keys(ERROR_CODES).filter((code) => !text.includes(`'${code}'`));
    expect(unused).toEqual([]);
  });
});
