import { execFile, type ExecFileOptions } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { REPO_ROOT } from '../support/processes.js';

/**
 * Installing the packages the way a user does: `npm pack` every publishable workspace
 * (scripts/pack.mjs), then `npm install` the tarballs into an empty project under the OS temp
 * folder, outside the repository, so nothing resolves through the workspace links. Shared by the
 * packaging tests; a test that installs an example app and runs the hub and worker binaries from
 * it builds on `packAndInstall` too.
 */

export interface ExecResult {
  readonly stdout: string;
  readonly stderr: string;
  /** The exit code (non-zero only with `allowFailure`). */
  readonly code: number;
}

export interface ExecOptions {
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Resolve with the exit code instead of rejecting on a non-zero exit (a timeout still rejects). */
  allowFailure?: boolean;
}

export interface InstalledProject {
  /** The project folder (real path), with node_modules/@switchboard/* installed from the tarballs. */
  readonly dir: string;
  /** The tarballs it was installed from, one per publishable workspace. */
  readonly tarballs: readonly string[];
  /** Runs `command` in the project (npm env of an outer `npm test` removed); rejects with its output on a non-zero exit. */
  exec(command: string, args: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /** Copies a file into the project (e.g. a script to run with `exec('node', [name])`). */
  writeFile(name: string, contents: string): string;
  /** Removes the project, the tarballs and their temp folder. Idempotent. */
  cleanup(): void;
}

export interface PackAndInstallOptions {
  /** Registry packages to install beside the tarballs: `{ '@microsoft/signalr': '^10.0.11' }`. @defaultValue none */
  extraDeps?: Readonly<Record<string, string>>;
  /** Install only these tarballs (package names); their @switchboard dependencies must be among them. @defaultValue all */
  only?: readonly string[];
  /** The `npm install` time limit. @defaultValue 180000 */
  installTimeoutMs?: number;
}

/**
 * The environment for npm and node in the project: without the npm_* variables an outer
 * `npm test` sets (npm_config_workspace, npm_config_prefix, ... would point npm back at the
 * repository). The user's npm cache is kept: it makes `--prefer-offline` fast.
 */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) && k !== 'INIT_CWD') env[k] = v;
  return { ...env, ...extra };
}

function execIn(cwd: string, command: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  const opts: ExecFileOptions = { cwd, env: cleanEnv(options.env), timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024, killSignal: 'SIGKILL' };
  return new Promise((resolve, reject) => {
    execFile(command, [...args], opts, (err, stdout, stderr) => {
      const code = typeof err?.code === 'number' ? err.code : err ? -1 : 0;
      const out = { stdout: String(stdout), stderr: String(stderr), code };
      if (!err || (options.allowFailure && !err.killed && code > 0)) return resolve(out);
      const why = err.killed ? `killed after ${opts.timeout} ms` : `exit code ${String(err.code)}`;
      reject(new Error(`\`${command} ${args.join(' ')}\` in ${cwd} failed (${why}).\n--- stdout\n${out.stdout}\n--- stderr\n${out.stderr}`));
    });
  });
}

/** Packs every publishable workspace with scripts/pack.mjs into `dest`; resolves to the tarball paths it printed. */
export async function packAll(dest: string): Promise<string[]> {
  const { stdout } = await execIn(REPO_ROOT, process.execPath, [join(REPO_ROOT, 'scripts/pack.mjs'), dest], { timeoutMs: 120_000 });
  const tarballs = stdout.split('\n').filter((l) => l.endsWith('.tgz'));
  if (!tarballs.length) throw new Error(`scripts/pack.mjs printed no tarball:\n${stdout}`);
  return tarballs;
}

/**
 * Packs the publishable workspaces (they must be built: `npm run build`) and installs the
 * tarballs, plus `extraDeps` from the registry, into a new empty project under the OS temp
 * folder. Call `cleanup()` when done (in afterAll), also when a later step failed.
 */
export async function packAndInstall(options: PackAndInstallOptions = {}): Promise<InstalledProject> {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'sb-install-')));
  const cleanup = () => rmSync(root, { recursive: true, force: true });
  try {
    if (!relative(REPO_ROOT, root).startsWith('..')) throw new Error(`the temp folder ${root} is inside the repository ${REPO_ROOT}: set TMPDIR elsewhere`);
    const packs = join(root, 'packs');
    const dir = join(root, 'project');
    mkdirSync(dir);
    let tarballs = await packAll(packs);
    if (options.only) {
      const wanted = new Set(options.only.map((name) => name.replace(/^@/, '').replace('/', '-')));
      tarballs = tarballs.filter((t) => wanted.has(t.slice(t.lastIndexOf(sep) + 1).replace(/-\d+\.\d+\.\d+\.tgz$/, '')));
    }
    // An empty project of its own: no workspaces, no parent package.json to walk up to.
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: 'sb-install-check', version: '0.0.0', private: true, type: 'module' }, null, 2)}\n`);
    const extra = Object.entries(options.extraDeps ?? {}).map(([name, range]) => `${name}@${range}`);
    await execIn(dir, 'npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs, ...extra], { timeoutMs: options.installTimeoutMs ?? 180_000 });
    return {
      dir,
      tarballs,
      exec: (command, args, opts) => execIn(dir, command, args, opts),
      writeFile: (name, contents) => {
        const file = join(dir, name);
        writeFileSync(file, contents);
        return file;
      },
      cleanup,
    };
  } catch (err) {
    cleanup();
    throw err;
  }
}

/** Files of installed @switchboard packages' dist folders that belong to tests (must be none). */
export function installedTestFiles(projectDir: string): string[] {
  const scope = join(projectDir, 'node_modules', '@switchboard');
  if (!existsSync(scope)) return [];
  const found: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.test(-d|-support)?\.|\.tsbuildinfo$/.test(e.name)) found.push(relative(projectDir, p));
    }
  };
  for (const pkg of readdirSync(scope)) if (existsSync(join(scope, pkg, 'dist'))) walk(join(scope, pkg, 'dist'));
  return found;
}
