#!/usr/bin/env node
import * as signalR from '@microsoft/signalr';
import type { JobUpdate } from '@switchboard/contracts';
import { SeqFilter, renderLine } from './progress-bar.js';

const USAGE = `usage: switchboard <command> [args] [--url http://127.0.0.1:3000] [--token <jwt>]   (in this repository: npm run cli -- ...)
  (--url defaults to SWITCHBOARD_URL, --token to SWITCHBOARD_TOKEN: the access token for hub nodes that require one)
  enqueue <name> '<json data>' [--watch]   enqueue a job of the hub's job set (and watch it until it ends);
                                           an unknown name is answered with the list of known jobs
  watch <jobId>                            show a job's progress until it ends
  get <jobId>                              print a job's snapshot as JSON
  cancel <jobId>                           cancel a job
examples (the example job set that npm start runs when JOBS_MODULE is not set):
  switchboard enqueue hash '{"rounds":200000}' --watch
  switchboard enqueue pipeline '{"items":2000}' --watch`;

const TERMINAL = new Set(['completed', 'failed', 'cancelled', 'lost']);

function parseArgs(argv: string[]) {
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) {
      const next = argv[i + 1];
      if (a === '--watch' || next === undefined || next.startsWith('--')) flags.set(a.slice(2), true);
      else flags.set(a.slice(2), argv[++i]!);
    } else positional.push(a);
  }
  return { flags, positional };
}

function fail(message: string, code = 2): never {
  console.error(`cli: ${message}`);
  process.exit(code);
}

const { flags, positional } = parseArgs(process.argv.slice(2));
const [command, arg1, arg2] = positional;
const base = String(flags.get('url') ?? process.env['SWITCHBOARD_URL'] ?? 'http://127.0.0.1:3000').replace(/\/$/, '');
const token = flags.get('token') ?? process.env['SWITCHBOARD_TOKEN'];
if (!command || flags.has('help')) fail(USAGE, flags.has('help') ? 0 : 2);
if (token === true) fail('--token needs a value: --token <jwt>');

// The token goes in the Authorization header of negotiate and every HTTP request, and as
// access_token on the WebSocket (what the official client does with accessTokenFactory).
const connection = new signalR.HubConnectionBuilder()
  .withUrl(`${base}/hubs/jobs`, token ? { accessTokenFactory: () => token } : {})
  .withAutomaticReconnect()
  .configureLogging(signalR.LogLevel.None)
  .build();

const tty = process.stdout.isTTY;
function show(u: JobUpdate): void {
  const line = renderLine(u);
  if (tty) process.stdout.write(`\r\x1b[2K${line}`);
  else console.log(line);
}

/** Watches until a terminal update; re-watches after a reconnect so the final state is never missed. */
async function watch(jobId: string): Promise<JobUpdate> {
  const filter = new SeqFilter();
  return new Promise<JobUpdate>((resolve, reject) => {
    const handle = (u: JobUpdate) => {
      if (u.jobId !== jobId || !filter.accept(u)) return;
      show(u);
      if (TERMINAL.has(u.state)) resolve(u);
    };
    connection.on('jobUpdated', handle);
    connection.onreconnected(() => {
      connection.invoke<JobUpdate>('watch', jobId).then(handle, reject);
    });
    connection.invoke<JobUpdate>('watch', jobId).then(handle, reject);
  });
}

async function main(): Promise<number> {
  try {
    await connection.start();
  } catch (err) {
    const message = (err as Error).message;
    if (/Status code '401'/.test(message)) fail(`${base}/hubs/jobs refused the connection (401): ${token ? 'the access token is not valid (expired, wrong key, issuer or audience)' : 'it requires an access token: pass --token <jwt> or set SWITCHBOARD_TOKEN'}.`, 1);
    if (/Status code '403'/.test(message)) fail(`${base}/hubs/jobs refused the connection (403): the user of this access token lacks the role the hub requires.`, 1);
    fail(`cannot connect to ${base}/hubs/jobs: ${message}. Is a hub node running (npm start) with REDIS_URL set?`, 1);
  }
  try {
    let jobId: string;
    switch (command) {
      case 'enqueue': {
        if (!arg1) fail('enqueue needs a job name, e.g. hash');
        let data: unknown;
        try {
          data = JSON.parse(arg2 ?? '{}');
        } catch {
          fail(`the job data must be JSON, got ${arg2}`);
        }
        ({ jobId } = await connection.invoke<{ jobId: string }>('enqueue', arg1, data));
        console.log(`enqueued ${arg1} as ${jobId}`);
        if (!flags.has('watch')) return 0;
        break;
      }
      case 'watch':
        if (!arg1) fail('watch needs a job id');
        jobId = arg1;
        break;
      case 'get':
        if (!arg1) fail('get needs a job id');
        console.log(JSON.stringify(await connection.invoke('watch', arg1), null, 2));
        return 0;
      case 'cancel': {
        if (!arg1) fail('cancel needs a job id');
        const cancelled = await connection.invoke<boolean>('cancel', arg1);
        console.log(cancelled ? `cancelled ${arg1}` : `${arg1} had already ended`);
        return cancelled ? 0 : 1;
      }
      default:
        fail(`unknown command '${command}'\n${USAGE}`);
    }
    const final = await watch(jobId);
    if (tty) process.stdout.write('\n');
    if (final.state === 'completed') console.log(`result: ${JSON.stringify(final.result)}`);
    if (final.error) console.log(`error: ${final.error}`);
    return final.state === 'completed' ? 0 : 1;
  } catch (err) {
    // The hub's own text (after "HubException: ") starts with its stable code, e.g. SB_JOB_FORBIDDEN.
    const message = (err as Error).message;
    console.error(`cli: ${/HubException: ([\s\S]*)$/.exec(message)?.[1] ?? message}`);
    return 1;
  } finally {
    await connection.stop();
  }
}

process.exit(await main());
