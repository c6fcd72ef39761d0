#!/usr/bin/env node
// Packs every publishable workspace (every workspace package.json without "private": true) with
// `npm pack` into one folder and prints the tarball paths, one per line on stdout (progress and
// problems go to stderr), so other scripts and tests can read the list.
//
//   npm run pack:all -- [destination]     (default: a new folder under the OS temp dir)
//
// Packs what is built: run `npm run build` first. It refuses dist/ files whose source is gone
// (stale output of an older build), and checks each tarball's file list, because a tarball that
// packs is not yet one that installs: dist/ and LICENSE must be there, and nothing of a test
// (which would import vitest) may be inside.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../', import.meta.url));

/** Files that must never be published: tests, type tests, test helpers, build info. */
const FORBIDDEN = /(\.test(-d|-support)?\.|\.tsbuildinfo$)/;

/**
 * Compiled files in dist/ whose source is gone: `tsc -b` (and `tsc -b --clean`) never removes the
 * output of a file that left the program (renamed, moved, deleted, or newly excluded like a test),
 * so an old checkout would publish modules nobody builds any more. A tsc output is a .js with a
 * .d.ts beside it (the dashboard's esbuild bundle has none and is not checked).
 */
export function staleOutputs(pkgDir) {
  const dist = join(pkgDir, 'dist');
  const stale = [];
  const walk = (rel) => {
    for (const e of readdirSync(join(dist, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else if (r.endsWith('.js') && existsSync(join(dist, `${r.slice(0, -3)}.d.ts`))) {
        const base = join(pkgDir, 'src', r.slice(0, -3));
        if (!['.ts', '.tsx', '.mts'].some((ext) => existsSync(base + ext))) stale.push(`dist/${r}`);
      }
    }
  };
  if (existsSync(dist)) walk('');
  return stale;
}

/** The publishable workspaces, in the root's workspace order: { name, dir }. */
export function publishableWorkspaces(root = ROOT) {
  const { workspaces } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const found = [];
  for (const pattern of workspaces) {
    // The root lists `folder/*` globs and plain folders; nothing else is needed here.
    const dirs = pattern.endsWith('/*')
      ? readdirSync(join(root, pattern.slice(0, -2)), { withFileTypes: true })
          .filter((d) => d.isDirectory())
          .map((d) => join(pattern.slice(0, -2), d.name))
          .sort()
      : [pattern];
    for (const dir of dirs) {
      const file = join(root, dir, 'package.json');
      if (!existsSync(file)) continue;
      const pkg = JSON.parse(readFileSync(file, 'utf8'));
      if (!pkg.private) found.push({ name: pkg.name, dir });
    }
  }
  return found;
}

/** Packs the publishable workspaces into `dest`; resolves to the tarballs' absolute paths. */
export async function packAll(dest, { root = ROOT, log = (line) => process.stderr.write(`${line}\n`) } = {}) {
  const packages = publishableWorkspaces(root);
  const unbuilt = packages.filter((p) => !existsSync(join(root, p.dir, 'dist')));
  if (unbuilt.length) throw new Error(`not built (no dist/): ${unbuilt.map((p) => p.dir).join(', ')}. Run \`npm run build\` first.`);
  const stale = packages.flatMap((p) => staleOutputs(join(root, p.dir)).map((f) => `${p.dir}/${f}`));
  if (stale.length) throw new Error(`build output without a source (left over from an older build): ${stale.join(', ')}. Remove those packages' dist/ folders and run \`npm run build\`.`);
  mkdirSync(dest, { recursive: true });
  const args = ['pack', '--json', '--pack-destination', dest, ...packages.flatMap((p) => ['--workspace', p.name])];
  // One npm call for all of them: npm starts once instead of once per package.
  const { stdout } = await run('npm', args, { cwd: root, maxBuffer: 64 * 1024 * 1024 });
  const packed = JSON.parse(stdout);
  const problems = [];
  for (const p of packages) {
    const entry = packed.find((e) => e.name === p.name);
    if (!entry) {
      problems.push(`${p.name}: npm pack produced no tarball`);
      continue;
    }
    const files = entry.files.map((f) => f.path);
    const bad = files.filter((f) => FORBIDDEN.test(f));
    if (bad.length) problems.push(`${p.name}: test or build-info files in the tarball: ${bad.join(', ')}`);
    if (!files.includes('LICENSE')) problems.push(`${p.name}: no LICENSE in the tarball (copy the root LICENSE into ${p.dir})`);
    if (!files.some((f) => f.startsWith('dist/'))) problems.push(`${p.name}: no dist/ files in the tarball ("files" in ${p.dir}/package.json)`);
    log(`packed ${p.name} (${files.length} files, ${(entry.size / 1024).toFixed(1)} KiB)`);
  }
  if (problems.length) throw new Error(`packing failed:\n  ${problems.join('\n  ')}`);
  return packages.map((p) => resolve(dest, packed.find((e) => e.name === p.name).filename));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dest = resolve(process.argv[2] ?? mkdtempSync(join(tmpdir(), 'switchboard-packs-')));
  try {
    const tarballs = await packAll(dest);
    process.stdout.write(`${tarballs.join('\n')}\n`);
  } catch (err) {
    process.stderr.write(`pack: ${err.message}\n`);
    process.exitCode = 1;
  }
}
