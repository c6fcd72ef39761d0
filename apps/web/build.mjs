// Bundles the dashboard for browsers into dist/: index.html, app.js, app.css (with source maps).
// Type checking is tsc's job (`tsc -b`); esbuild only strips types and bundles.
import { build } from 'esbuild';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const dist = here('./dist/');
const common = { bundle: true, minify: true, sourcemap: 'linked', legalComments: 'linked', logLevel: 'warning', metafile: true };

const started = Date.now();
await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });
const [js, css] = await Promise.all([
  build({
    ...common,
    entryPoints: [here('./src/main.ts')],
    outfile: `${dist}app.js`,
    format: 'esm',
    platform: 'browser', // a Node-only import anywhere in the graph fails the build
    target: ['es2022', 'chrome100', 'firefox100', 'safari15'],
  }),
  build({ ...common, entryPoints: [here('./src/app.css')], outfile: `${dist}app.css`, target: ['chrome100', 'firefox100', 'safari15'] }),
  copyFile(here('./src/index.html'), `${dist}index.html`),
]);
const sizes = [js, css]
  .flatMap((r) => Object.entries(r.metafile.outputs))
  .filter(([f]) => !f.endsWith('.map') && !f.endsWith('.txt'))
  .map(([f, o]) => `${f.split('/').pop()} ${(o.bytes / 1024).toFixed(1)} KiB`);
console.error(`web: bundled dist/ in ${Date.now() - started} ms (${sizes.join(', ')})`);
