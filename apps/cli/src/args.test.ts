import { describe, expect, it } from 'vitest';
import { DEFAULT_URL, parseCommandLine, UsageError, USAGE, type Command } from './args.js';

function command(argv: string[], env: Record<string, string> = {}): Command {
  const inv = parseCommandLine(argv, env);
  if (inv.help) throw new Error('got help');
  return inv.command;
}

function usageError(argv: string[]): UsageError {
  try {
    parseCommandLine(argv);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return err as UsageError;
  }
  throw new Error(`${argv.join(' ')} parsed`);
}

describe('parseCommandLine', () => {
  it('--help and -h ask for the usage, whatever else is there', () => {
    expect(parseCommandLine(['--help'])).toEqual({ help: true, json: false });
    expect(parseCommandLine(['list', '-h', '--json'])).toEqual({ help: true, json: true });
    expect(USAGE).toMatch(/^usage: switchboard <command>/);
    for (const c of ['types', 'list', 'enqueue <name>', 'watch <jobId>', 'get <jobId>', 'retry <jobId>', 'cancel <jobId>', 'remove <jobId>', 'exit codes']) expect(USAGE).toContain(c);
  });

  it('enqueue: name, JSON data (default {}), --watch and the enqueue options', () => {
    expect(command(['enqueue', 'hash', '{"rounds":5}'])).toEqual({ kind: 'enqueue', name: 'hash', data: { rounds: 5 }, options: {}, watch: false });
    expect(command(['enqueue', 'note'])).toMatchObject({ data: {} });
    expect(command(['enqueue', 'hash', '{}', '--watch', '--delay', '2m', '--priority', '3', '--idempotency-key', 'nightly-1'])).toEqual({
      kind: 'enqueue',
      name: 'hash',
      data: {},
      options: { delayMs: 120_000, priority: 3, idempotencyKey: 'nightly-1' },
      watch: true,
    });
    expect(command(['enqueue', 'hash', '{}', '--delay=1500'])).toMatchObject({ options: { delayMs: 1500 } });
  });

  it('list: state (waiting too), name, limit, cursor, --all', () => {
    expect(command(['list'])).toEqual({ kind: 'list', query: {}, all: false });
    expect(command(['list', '--state', 'waiting', '--name', 'hash', '--limit', '20', '--cursor', 'c1', '--all'])).toEqual({
      kind: 'list',
      query: { state: 'waiting', name: 'hash', limit: 20, cursor: 'c1' },
      all: true,
    });
    expect(command(['list', '--state', 'delayed'])).toMatchObject({ query: { state: 'delayed' } });
  });

  it('job id commands, and retry --watch', () => {
    for (const kind of ['watch', 'get', 'cancel', 'remove'] as const) expect(command([kind, 'j1'])).toEqual({ kind, jobId: 'j1' });
    expect(command(['retry', 'j1', '--watch'])).toEqual({ kind: 'retry', jobId: 'j1', watch: true });
    // After `--` an id may start with a dash.
    expect(command(['get', '--', '-odd'])).toEqual({ kind: 'get', jobId: '-odd' });
  });

  it('job ids, cursors and keys may start with a dash (base64url): taken by their place', () => {
    expect(command(['get', '-Xq3abcdefgh1234'])).toEqual({ kind: 'get', jobId: '-Xq3abcdefgh1234' });
    expect(command(['retry', '--watch', '--Xq3abcdefgh123'])).toEqual({ kind: 'retry', jobId: '--Xq3abcdefgh123', watch: true });
    expect(command(['list', '--cursor', '-c2', '--json'])).toMatchObject({ query: { cursor: '-c2' } });
    expect(command(['enqueue', 'hash', '{}', '--idempotency-key', '-k', '--delay', '5s'])).toMatchObject({ options: { idempotencyKey: '-k', delayMs: 5000 } });
    // Other places take a dash token as an option; after `--` it is an argument.
    expect(() => command(['enqueue', 'hash', '-1'])).toThrow("unknown option '-1'");
    expect(command(['enqueue', 'hash', '--', '-1'])).toMatchObject({ name: 'hash', data: -1 });
  });

  it('--url and --token, else SWITCHBOARD_URL and SWITCHBOARD_TOKEN (empty ones count as unset)', () => {
    expect(parseCommandLine(['types'])).toMatchObject({ url: DEFAULT_URL, token: undefined, json: false });
    expect(parseCommandLine(['types', '--json'], { SWITCHBOARD_URL: 'http://h:1/', SWITCHBOARD_TOKEN: 't' })).toMatchObject({ url: 'http://h:1', token: 't', json: true });
    expect(parseCommandLine(['types', '--url', 'https://x/base', '--token', 'u'], { SWITCHBOARD_URL: 'http://h:1', SWITCHBOARD_TOKEN: 't' })).toMatchObject({ url: 'https://x/base', token: 'u' });
    expect(parseCommandLine(['types'], { SWITCHBOARD_URL: '', SWITCHBOARD_TOKEN: '' })).toMatchObject({ url: DEFAULT_URL, token: undefined });
  });

  it.each([
    [[], /^no command given$/],
    [['frobnicate'], /^unknown command 'frobnicate'$/],
    [['list', '--frob'], /^unknown option '--frob'$/],
    [['list', '-x'], /^unknown option '-x'$/],
    [['list', '--limit'], /^--limit needs a value$/],
    [['list', '--limit', '--json'], /^--limit needs a value$/],
    [['list', '--json=yes'], /^--json takes no value$/],
    [['list', '--limit', '0'], /^--limit must be an integer from 1 to 200, got '0'$/],
    [['list', '--limit', '201'], /--limit must be an integer from 1 to 200/],
    [['list', '--limit', '2.5'], /--limit must be an integer/],
    [['list', '--state', 'lost'], /^--state must be one of waiting, queued, delayed, active, completed, failed, cancelled; got 'lost'$/],
    [['list', 'extra'], /^list takes no arguments; got an extra 'extra'$/],
    [['get'], /^get needs <jobId>$/],
    [['get', 'a', 'b'], /^get takes <jobId>; got an extra 'b'$/],
    [['get', 'a', '--watch'], /^--watch is not an option of 'get'$/],
    [['types', '--delay', '5s'], /^--delay is not an option of 'types'$/],
    [['enqueue'], /^enqueue needs <name>$/],
    [['enqueue', 'hash', '{rounds:1}'], /^the job data must be JSON \(.+\), got \{rounds:1\}$/],
    [['enqueue', 'hash', '{}', '--delay', 'soon'], /^--delay must be milliseconds or a duration such as 500ms, 5s, 2m, 1h; got 'soon'$/],
    [['enqueue', 'hash', '{}', '--priority', '-1'], /^--priority must be an integer from 1 up, got '-1'$/],
    [['enqueue', 'hash', '{}', '--priority', '--watch'], /^--priority needs a value$/],
    [['get', '--frob'], /^unknown option '--frob'$/],
    [['get', 'abcdefgh12', '-Xq3abcdefgh'], /^unknown option '-X'$/],
    [['enqueue', 'hash', '{}', '--priority', 'high'], /^--priority must be an integer from 1 up, got 'high'$/],
    [['enqueue', 'hash', '{}', '--idempotency-key', ''], /^--idempotency-key needs a value$/],
    [['types', '--url', 'ftp://x'], /^--url must be an http\(s\) URL such as http:\/\/127\.0\.0\.1:3000, got 'ftp:\/\/x'$/],
    [['types', '--url', 'nonsense'], /^--url must be an http\(s\) URL/],
    [['types', '--token', ''], /^--token needs a value$/],
    [['types', '--token'], /^--token needs a value$/],
  ])('%j is a usage error: %s', (argv, message) => {
    expect(usageError(argv as string[]).message).toMatch(message);
  });

  it("a command's error carries that command's usage; an unknown one the whole usage", () => {
    expect(usageError(['list', '--frob']).usage).toMatch(/^usage: switchboard list \[--state S\]/);
    expect(usageError(['get']).usage).toMatch(/^usage: switchboard get <jobId>/);
    expect(usageError(['nope']).usage).toBe(USAGE);
    expect(usageError([]).usage).toBe(USAGE);
  });

  it('knows --json even when the rest does not parse (the error is printed as JSON)', () => {
    expect(() => parseCommandLine(['list', '--frob', '--json'])).toThrow(UsageError);
    expect(parseCommandLine(['types', '--json'])).toMatchObject({ json: true });
  });
});
