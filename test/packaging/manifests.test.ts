import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/processes.js';

// The package.json and tsconfig rules that make the packages installable, checked in
// milliseconds (install.test.ts proves the same by installing, in half a minute or more).
interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  license?: string;
  files?: string[];
  engines?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

const read = (dir: string): Manifest => JSON.parse(readFileSync(join(REPO_ROOT, dir, 'package.json'), 'utf8')) as Manifest;

const PUBLISHABLE = ['libs/protocol', 'libs/logging', 'libs/hub-server', 'libs/contracts', 'libs/client', 'libs/backplane-redis', 'libs/hub-context', 'libs/jobs', 'apps/hub', 'apps/worker', 'apps/cli', 'apps/web'];
const PRIVATE = ['apps/launcher', 'apps/clock-worker', 'test', 'bench'];
/** Where users pass their own clients: the library must share the application's copy. */
const PEERS: Record<string, string[]> = { 'libs/backplane-redis': ['ioredis'], 'libs/hub-context': ['ioredis'], 'libs/jobs': ['bullmq', 'ioredis'] };

describe('package manifests', () => {
  const license = readFileSync(join(REPO_ROOT, 'LICENSE'), 'utf8');

  it('the root LICENSE is MIT, for the Switchboard authors', () => {
    expect(license).toMatch(/^MIT License\n\nCopyright \(c\) 2026 the Switchboard authors\n/);
  });

  it.each(PUBLISHABLE)('%s is publishable: license, files, engines, its own copy of LICENSE', (dir) => {
    const pkg = read(dir);
    expect(pkg.private).toBeUndefined();
    expect(pkg.version).toBe('0.1.0');
    expect(pkg.license).toBe('MIT');
    expect(pkg.engines).toEqual({ node: '>=20.19' });
    expect(pkg.files).toEqual(expect.arrayContaining(['dist', 'README.md', 'LICENSE', '!dist/**/*.test.*', '!dist/**/*.test-d.*', '!dist/**/*.test-support.*']));
    // npm packs the LICENSE of the package folder only; a copy that drifts from the root is caught here.
    expect(readFileSync(join(REPO_ROOT, dir, 'LICENSE'), 'utf8')).toBe(license);
  });

  it.each(PUBLISHABLE)('%s names other @switchboard packages with a real version range', (dir) => {
    const pkg = read(dir);
    for (const deps of [pkg.dependencies, pkg.devDependencies, pkg.peerDependencies]) {
      for (const [name, range] of Object.entries(deps ?? {})) if (name.startsWith('@switchboard/')) expect(range, `${dir}: ${name}`).toBe('^0.1.0');
    }
  });

  it.each(Object.entries(PEERS))('%s takes %j as peer dependencies (and as dev dependencies for the workspace)', (dir, peers) => {
    const pkg = read(dir);
    for (const peer of peers) {
      expect(pkg.peerDependencies?.[peer], `${dir} peer ${peer}`).toMatch(/^\^\d/);
      expect(pkg.devDependencies?.[peer], `${dir} dev ${peer}`).toBe(pkg.peerDependencies?.[peer]);
      expect(pkg.dependencies?.[peer], `${dir}: ${peer} is a peer, not a dependency`).toBeUndefined();
    }
  });

  it('the hub app depends on the dashboard package and on the peers of the libraries it uses', () => {
    const hub = read('apps/hub');
    expect(hub.dependencies?.['@switchboard/web']).toBe('^0.1.0');
    for (const dir of ['apps/hub', 'apps/worker']) expect(Object.keys(read(dir).dependencies ?? {})).toEqual(expect.arrayContaining(['bullmq', 'ioredis']));
    // The dashboard ships its bundle only: nothing of it is needed at run time.
    expect(read('apps/web').dependencies).toBeUndefined();
  });

  it.each(PRIVATE)('%s stays private', (dir) => {
    expect(read(dir).private).toBe(true);
  });

  it.each([...PUBLISHABLE, 'apps/launcher', 'apps/clock-worker'])('%s leaves tests, type tests and test helpers out of its build', (dir) => {
    const tsconfig = readFileSync(join(REPO_ROOT, dir, 'tsconfig.json'), 'utf8');
    for (const pattern of ['src/**/*.test.ts', 'src/**/*.test-d.ts', 'src/**/*.test-support.ts']) expect(tsconfig, `${dir}/tsconfig.json`).toContain(`"${pattern}"`);
  });
});
