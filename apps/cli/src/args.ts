import { parseArgs } from 'node:util';
import { LISTED_JOB_STATES, type EnqueueOptions, type JobListQuery, type ListedJobState } from '@switchboard/contracts';
import { parseDuration } from './duration.js';

/** What the command line asks for, checked: everything a command needs is present and well-formed. */
export type Command =
  | { readonly kind: 'types' }
  | { readonly kind: 'list'; readonly query: JobListQuery; readonly all: boolean }
  | { readonly kind: 'enqueue'; readonly name: string; readonly data: unknown; readonly options: EnqueueOptions; readonly watch: boolean }
  | { readonly kind: 'retry'; readonly jobId: string; readonly watch: boolean }
  | { readonly kind: 'watch' | 'get' | 'cancel' | 'remove'; readonly jobId: string };

export type Invocation =
  | { readonly help: true; readonly json: boolean }
  | { readonly help: false; readonly json: boolean; readonly command: Command; readonly url: string; readonly token: string | undefined };

/** A command line that cannot run: exit code 2, with `usage` (the command's, or all of it). */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message);
  }
}

interface Spec {
  readonly synopsis: string;
  readonly summary: string;
  readonly positionals: readonly string[];
  /** How many positionals may be left out from the end (enqueue's data defaults to {}). */
  readonly optional?: number;
  readonly flags: readonly string[];
}

const COMMANDS: Readonly<Record<Command['kind'], Spec>> = {
  types: { synopsis: 'types', summary: "the hub's job set: names, titles, stages, attempts and data fields", positionals: [], flags: [] },
  list: {
    synopsis: 'list [--state S] [--name N] [--limit K] [--cursor C] [--all]',
    summary: 'jobs newest first, with counts per state (users see their own, admins every job)\nS: waiting (= queued), delayed, active, completed, failed, cancelled; K: 1..200 per page\n--all follows the pages to the end (at most 10,000 jobs)',
    positionals: [],
    flags: ['state', 'name', 'limit', 'cursor', 'all'],
  },
  enqueue: {
    synopsis: "enqueue <name> '<json data>' [--watch] [--delay 5s] [--priority N] [--idempotency-key K]",
    summary: "enqueue a job of the hub's job set (and watch it until it ends)\n--delay: ms, or 500ms, 5s, 2m, 1h, 1d; --priority: 1 is highest\n--idempotency-key: the same key within 24 h enqueues nothing and answers the first job's id",
    positionals: ['name', 'json data'],
    optional: 1,
    flags: ['watch', 'delay', 'priority', 'idempotency-key'],
  },
  watch: { synopsis: 'watch <jobId>', summary: "show a job's progress (rate, ETA) until it ends", positionals: ['jobId'], flags: [] },
  get: { synopsis: 'get <jobId>', summary: "print a job's snapshot as JSON", positionals: ['jobId'], flags: [] },
  retry: { synopsis: 'retry <jobId> [--watch]', summary: 'run a failed job again (and watch it)', positionals: ['jobId'], flags: ['watch'] },
  cancel: { synopsis: 'cancel <jobId>', summary: 'cancel a job that has not ended', positionals: ['jobId'], flags: [] },
  remove: { synopsis: 'remove <jobId>', summary: 'delete a finished job and its record', positionals: ['jobId'], flags: [] },
};

const COMMON_FLAGS = ['url', 'token', 'json', 'help'];
const OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  watch: { type: 'boolean' },
  delay: { type: 'string' },
  priority: { type: 'string' },
  'idempotency-key': { type: 'string' },
  state: { type: 'string' },
  name: { type: 'string' },
  limit: { type: 'string' },
  cursor: { type: 'string' },
  all: { type: 'boolean' },
} as const;

function indent(text: string, by: string): string {
  return text
    .split('\n')
    .map((l) => `${by}${l}`)
    .join('\n');
}

export const DEFAULT_URL = 'http://127.0.0.1:3000';

export const USAGE = `usage: switchboard <command> [args] [--url <url>] [--token <jwt>] [--json]   (in this repository: npm run cli -- ...)
commands:
${Object.values(COMMANDS)
  .map((c) => `  ${c.synopsis}\n${indent(c.summary, '      ')}`)
  .join('\n')}
options:
  --url <url>     the hub node (default: SWITCHBOARD_URL, else ${DEFAULT_URL})
  --token <jwt>   the access token for hub nodes that require one (default: SWITCHBOARD_TOKEN)
  --json          machine-readable output only: one JSON document on stdout (watch: JSON lines of
                  updates, the final one last); errors as {"error","code"} on stderr
  -h, --help      this text
exit codes: 0 success (a watched job completed); 1 the job failed, was cancelled or lost, or the hub
  refused or could not be reached; 2 usage error
examples (the example job set that npm start runs when JOBS_MODULE is not set):
  switchboard types
  switchboard enqueue hash '{"rounds":200000}' --watch
  switchboard enqueue pipeline '{"items":2000}' --delay 10s --idempotency-key nightly-2026-11-30
  switchboard list --state failed --json
  switchboard retry <jobId> --watch`;

function usageOf(kind: Command['kind']): string {
  return `usage: switchboard ${COMMANDS[kind].synopsis} [--url <url>] [--token <jwt>] [--json]\n${indent(COMMANDS[kind].summary, '  ')}\n(switchboard --help for every command)`;
}

/** Node's parseArgs messages, said shorter and always naming the flag. */
function parseError(err: unknown): string {
  const e = err as Error & { code?: string };
  const flag = /'(-[^' ,]+)/.exec(e.message)?.[1];
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option '${flag}'`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return /argument missing|ambiguous/.test(e.message) ? `${flag} needs a value` : `${flag} takes no value`;
    default:
      return e.message;
  }
}

function positiveInt(flag: string, text: string, usage: string, max?: number): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || (max !== undefined && n > max)) {
    throw new UsageError(`--${flag} must be an integer from 1${max !== undefined ? ` to ${max}` : ' up'}, got '${text}'`, usage);
  }
  return n;
}

/** What a job id looks like (12 random bytes in base64url; the hub accepts 8-64 such characters). */
const JOB_ID = /^[A-Za-z0-9_-]{8,64}$/;

function knownOption(token: string): { name: string; inline: boolean } | undefined {
  const long = /^--([^=]+)(=[\s\S]*)?$/.exec(token);
  if (long && Object.hasOwn(OPTIONS, long[1]!)) return { name: long[1]!, inline: long[2] !== undefined };
  if (token === '-h') return { name: 'help', inline: false };
  return undefined;
}

/**
 * Job ids are base64url, so one in 64 starts with '-', and a cursor or idempotency key may too;
 * parseArgs would take `get -Xq3...` for an unknown option. This moves every positional after a
 * `--` and writes option values as `--opt=value`, so that: a dash token in a job id's place that
 * looks like a job id is that id; the token after a string option is its value unless it is itself
 * a known option (`--limit --json` still says --limit needs a value); anything else starting with
 * '-' stays an option, and parseArgs reports it if unknown.
 */
export function normalizeArgv(argv: readonly string[]): { args: string[]; positionals: string[] } {
  const options: string[] = [];
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    const known = knownOption(token);
    if (known) {
      const next = argv[i + 1];
      if (OPTIONS[known.name as keyof typeof OPTIONS].type === 'string' && !known.inline && next !== undefined && next !== '--' && !knownOption(next)) {
        options.push(`${token}=${next}`);
        i++;
      } else options.push(token);
      continue;
    }
    const spec = Object.hasOwn(COMMANDS, positionals[0] ?? '') ? COMMANDS[positionals[0] as Command['kind']] : undefined;
    const expecting = spec?.positionals[positionals.length - 1];
    if (token.startsWith('-') && token !== '-' && !(expecting === 'jobId' && JOB_ID.test(token))) options.push(token);
    else positionals.push(token);
  }
  return { args: [...options, '--', ...positionals], positionals };
}

/** Parses the arguments after the program name; `env` gives SWITCHBOARD_URL / SWITCHBOARD_TOKEN. */
export function parseCommandLine(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): Invocation {
  // Known before parsing, so even a bad command line gets its error in the format asked for.
  const json = argv.includes('--json');
  const normalized = normalizeArgv(argv);
  let parsed;
  try {
    parsed = parseArgs({ args: normalized.args, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    const name = normalized.positionals[0];
    throw new UsageError(parseError(err), name !== undefined && Object.hasOwn(COMMANDS, name) ? usageOf(name as Command['kind']) : USAGE);
  }
  const { values, positionals } = parsed;
  if (values.help) return { help: true, json };
  const [name, ...rest] = positionals;
  if (name === undefined) throw new UsageError('no command given', USAGE);
  if (!Object.hasOwn(COMMANDS, name)) throw new UsageError(`unknown command '${name}'`, USAGE);
  const kind = name as Command['kind'];
  const spec = COMMANDS[kind];
  const usage = usageOf(kind);
  for (const flag of Object.keys(values)) {
    if (!COMMON_FLAGS.includes(flag) && !spec.flags.includes(flag)) throw new UsageError(`--${flag} is not an option of '${kind}'`, usage);
  }
  const need = spec.positionals.length - (spec.optional ?? 0);
  if (rest.length < need) throw new UsageError(`${kind} needs <${spec.positionals[rest.length]}>`, usage);
  if (rest.length > spec.positionals.length) throw new UsageError(`${kind} takes ${spec.positionals.map((p) => `<${p}>`).join(' ') || 'no arguments'}; got an extra '${rest[spec.positionals.length]}'`, usage);

  const url = (values.url ?? (env['SWITCHBOARD_URL'] || DEFAULT_URL)).replace(/\/+$/, '');
  let protocol: string | undefined;
  try {
    protocol = new URL(url).protocol;
  } catch {
    // reported below
  }
  if (protocol !== 'http:' && protocol !== 'https:') throw new UsageError(`--url must be an http(s) URL such as ${DEFAULT_URL}, got '${url}'`, usage);
  if (values.token === '') throw new UsageError('--token needs a value', usage);
  const token = values.token ?? (env['SWITCHBOARD_TOKEN'] || undefined);

  let command: Command;
  switch (kind) {
    case 'types':
      command = { kind };
      break;
    case 'list': {
      let state: JobListQuery['state'];
      if (values.state !== undefined) {
        if (values.state !== 'waiting' && !LISTED_JOB_STATES.includes(values.state as ListedJobState)) {
          throw new UsageError(`--state must be one of waiting, ${LISTED_JOB_STATES.join(', ')}; got '${values.state}'`, usage);
        }
        state = values.state as JobListQuery['state'];
      }
      if (values.name === '') throw new UsageError('--name needs a value', usage);
      if (values.cursor === '') throw new UsageError('--cursor needs a value', usage);
      // Only the keys given: the query is sent to the hub as it is (MessagePack would send an undefined as nil).
      const query: { -readonly [K in keyof JobListQuery]: JobListQuery[K] } = {};
      if (state !== undefined) query.state = state;
      if (values.name !== undefined) query.name = values.name;
      if (values.limit !== undefined) query.limit = positiveInt('limit', values.limit, usage, 200);
      if (values.cursor !== undefined) query.cursor = values.cursor;
      command = { kind, query, all: values.all ?? false };
      break;
    }
    case 'enqueue': {
      const [jobName, text = '{}'] = rest as [string, string?];
      let data: unknown;
      try {
        data = JSON.parse(text);
      } catch (err) {
        throw new UsageError(`the job data must be JSON (${(err as Error).message}), got ${text}`, usage);
      }
      const options: { -readonly [K in keyof EnqueueOptions]: EnqueueOptions[K] } = {};
      if (values.delay !== undefined) {
        const ms = parseDuration(values.delay);
        if (ms === undefined) throw new UsageError(`--delay must be milliseconds or a duration such as 500ms, 5s, 2m, 1h; got '${values.delay}'`, usage);
        options.delayMs = ms;
      }
      if (values.priority !== undefined) options.priority = positiveInt('priority', values.priority, usage);
      if (values['idempotency-key'] !== undefined) {
        if (values['idempotency-key'] === '') throw new UsageError('--idempotency-key needs a value', usage);
        options.idempotencyKey = values['idempotency-key'];
      }
      command = { kind, name: jobName, data, options, watch: values.watch ?? false };
      break;
    }
    case 'retry':
      command = { kind, jobId: rest[0]!, watch: values.watch ?? false };
      break;
    default:
      command = { kind, jobId: rest[0]! };
  }
  return { help: false, json, command, url, token };
}
