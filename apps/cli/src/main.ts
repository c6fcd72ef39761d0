#!/usr/bin/env node
import { connectJobs, type JobsConnection } from '@switchboard/client';
import type { JobUpdate } from '@switchboard/contracts';
import { parseCommandLine, UsageError, USAGE } from './args.js';
import { CliError, EXIT, errorCode, errorMessage, printError, runCommand, type Io, type JobsApi } from './commands.js';

const TERMINAL = new Set(['completed', 'failed', 'cancelled', 'lost']);

const io: Io = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  now: () => Date.now(),
  tty: process.stdout.isTTY === true,
  columns: () => process.stdout.columns,
  every(ms, fn) {
    const timer = setInterval(fn, ms);
    return () => clearInterval(timer);
  },
};

// `switchboard list | head -1` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(EXIT.ok);
  throw err;
});

/** The connection error a person can act on: no token, a bad one, a missing role, or no hub there. */
function connectError(err: unknown, hubUrl: string, token: string | undefined): CliError {
  const message = errorMessage(err);
  if (/Status code '401'/.test(message)) {
    const why = token ? 'the access token is not valid (expired, wrong key, issuer or audience)' : 'it requires an access token: pass --token <jwt> or set SWITCHBOARD_TOKEN';
    return new CliError(`${hubUrl} refused the connection (401): ${why}.`, 'SB_CLI_UNAUTHORIZED');
  }
  if (/Status code '403'/.test(message)) return new CliError(`${hubUrl} refused the connection (403): the user of this access token lacks the role the hub requires.`, 'SB_CLI_FORBIDDEN');
  return new CliError(`cannot connect to ${hubUrl}: ${message}. Is a hub node running (npm start) with REDIS_URL set?`, 'SB_CLI_UNREACHABLE');
}

/** The commands' view of a `JobsConnection` (which re-watches after a reconnect and drops stale updates by seq). */
function jobsApi(conn: JobsConnection): JobsApi {
  return {
    jobTypes: () => conn.jobTypes(),
    list: (query) => conn.list(query),
    // Without options, two arguments as before: a hub node older than the enqueue options refuses
    // a third one (extra hub-method arguments are refused, as ASP.NET does).
    enqueue: (name, data, options) => (Object.keys(options).length ? conn.enqueue(name, data, options) : conn.enqueue(name, data)),
    get: (jobId) => conn.watch(jobId),
    retry: (jobId) => conn.retry(jobId),
    cancel: (jobId) => conn.cancel(jobId),
    remove: (jobId) => conn.remove(jobId),
    follow: (jobId, onUpdate) =>
      new Promise<JobUpdate>((resolve, reject) => {
        const done = (settle: () => void) => {
          offUpdate();
          offError();
          settle();
        };
        const offUpdate = conn.onJobUpdated((u) => {
          if (u.jobId !== jobId) return;
          onUpdate(u);
          if (TERMINAL.has(u.state)) done(() => resolve(u));
        });
        // A re-watch after a reconnect refused for good (the job was removed, or is another user's).
        const offError = conn.onWatchError((id, err) => id === jobId && done(() => reject(err)));
        conn.watch(jobId).catch((err: unknown) => done(() => reject(err)));
      }),
  };
}

async function main(): Promise<number> {
  let inv;
  try {
    inv = parseCommandLine(process.argv.slice(2), process.env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    const json = process.argv.includes('--json');
    printError(io, json, json ? err.message : `${err.message}\n${err.usage}`, 'SB_CLI_USAGE');
    return EXIT.usage;
  }
  if (inv.help) {
    io.out(`${USAGE}\n`);
    return EXIT.ok;
  }
  const { command, json, url, token } = inv;
  const hubUrl = `${url}/hubs/jobs`;
  // The token goes in the Authorization header of negotiate and every HTTP request, and as
  // access_token on the WebSocket (what the official client does with accessTokenFactory).
  const conn = connectJobs(url, { ...(token ? { accessTokenFactory: () => token } : {}), logger: { log: () => {} } });
  // Ctrl-C while watching: end the bar's line and leave (128 + SIGINT, as shells report it).
  process.once('SIGINT', () => {
    if (io.tty && !json) io.out('\n');
    void conn.stop().finally(() => process.exit(130));
  });
  try {
    try {
      await conn.start();
    } catch (err) {
      throw connectError(err, hubUrl, token);
    }
    return await runCommand(command, json, jobsApi(conn), io);
  } catch (err) {
    // The hub's own text (after "HubException: ") starts with its stable code, e.g. SB_JOB_FORBIDDEN.
    printError(io, json, errorMessage(err), errorCode(err));
    return err instanceof CliError ? err.exitCode : EXIT.failed;
  } finally {
    await conn.stop();
  }
}

process.exit(await main());
