import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/processes.js';
import { uniquePrefix } from '../support/redis.js';
import { installedTestFiles, packAndInstall, type InstalledProject } from './support.js';

// The packages install and run outside the repository: every publishable workspace is packed
// (scripts/pack.mjs) from the build output `npm test` made, installed from the tarballs into an
// empty project in the OS temp folder, and used there the way a user would: a hub node on the
// Redis backplane, a hub context over the project's own ioredis, the official client receiving.
// npm install takes most of the time (about half a minute with a warm npm cache).
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const SIGNALR_RANGE = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies['@microsoft/signalr']!;

describe('installing the packed packages into an empty project', { timeout: 240_000 }, () => {
  let project: InstalledProject | undefined;

  beforeAll(async () => {
    project = await packAndInstall({ extraDeps: { '@microsoft/signalr': SIGNALR_RANGE } });
  }, 240_000);
  afterAll(() => project?.cleanup());

  it('installs every @switchboard package from its tarball, with no test files in any dist', () => {
    const dir = project!.dir;
    for (const name of ['protocol', 'logging', 'hub-server', 'contracts', 'client', 'backplane-redis', 'hub-context', 'jobs', 'hub-app', 'worker-app', 'cli', 'web']) {
      expect(existsSync(join(dir, 'node_modules/@switchboard', name, 'package.json')), name).toBe(true);
      expect(existsSync(join(dir, 'node_modules/@switchboard', name, 'LICENSE')), `${name} LICENSE`).toBe(true);
    }
    expect(installedTestFiles(dir)).toEqual([]);
    // The peers the libraries ask for were installed once, at the top, for the user's clients.
    expect(existsSync(join(dir, 'node_modules/ioredis/package.json'))).toBe(true);
    expect(existsSync(join(dir, 'node_modules/bullmq/package.json'))).toBe(true);
    expect(existsSync(join(dir, 'node_modules/vitest'))).toBe(false);
  });

  it('runs a hub node, a hub context on its own ioredis and the official client from the installed packages', async () => {
    project!.writeFile('smoke.mjs', readFileSync(join(REPO_ROOT, 'test/packaging/installed-smoke.mjs'), 'utf8'));
    const { stdout } = await project!.exec(process.execPath, ['smoke.mjs'], { env: { REDIS_URL, REDIS_PREFIX: uniquePrefix('packaging') }, timeoutMs: 90_000 });
    expect(stdout).toContain('smoke: ok');
  });

  it('runs the CLI bin (`npx switchboard --help`: usage on stdout, exit 0)', async () => {
    const { stdout, stderr, code } = await project!.exec('npx', ['--no-install', 'switchboard', '--help'], { timeoutMs: 60_000 });
    expect(code).toBe(0);
    expect(stdout).toMatch(/usage: .*<command>[\s\S]*enqueue <name>/);
    expect(stderr).not.toMatch(/ERR_MODULE_NOT_FOUND|Cannot find (module|package)/);
  });
});
