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
    const sources = ['libs/protocol/src', 'libs/hub-server/src'];
    let text = '';
    for (const dir of sources) {
      const abs = new URL(`../../${dir}/`, import.meta.url);
      for (const f of readdirSync(abs)) if (f.endsWith('.ts') && !f.endsWith('.test.ts') && f !== 'errors.ts') text += readFileSync(new URL(f, abs), 'utf8');
    }
    const unused = Object.keys(ERROR_CODES).filter((code) => !text.includes(`'${code}'`));
    expect(unused).toEqual([]);
  });
});
