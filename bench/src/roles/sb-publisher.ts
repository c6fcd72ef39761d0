import type { BenchClient } from '@switchboard/contracts';
import { createHubContext } from '@switchboard/hub-context';
import { monoMs } from '../clock.js';
import { PAD, serveSource } from './source.js';

/**
 * Switchboard's publisher: an ordinary hub context, as a worker process would use it:
 * `clients.group(name).tick(payload)` on hub `bench`, through Redis.
 */
const ctx = createHubContext<BenchClient>({ hub: 'bench', redis: process.env['REDIS_URL']!, prefix: process.env['REDIS_PREFIX'] ?? 'sb:' });
const groups = Array.from({ length: Number(process.env['GROUPS']) }, (_, g) => ctx.clients.group(`g${g}`));
let failures = 0;
let firstError: string | undefined;

serveSource(
  (seq) => {
    groups[seq % groups.length]!.tick({ t: monoMs(), s: seq, p: PAD }).catch((err: Error) => {
      failures++;
      firstError ??= err.message;
    });
  },
  { errors: () => ({ failures, firstError: firstError ?? null }) },
  () => ctx.close(),
);
