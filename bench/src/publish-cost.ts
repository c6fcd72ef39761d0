import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startRedis } from '@switchboard/test/support/redis';
import { median, round } from './stats.js';

/**
 * CPU per hub-context send: what a worker process pays for each `clients.group(g).method(arg)`
 * (`group(g)` called per send, as workers write it; serialize for both protocols, wrap in a
 * backplane envelope, publish to Redis), measured as process CPU time (user + system) over N
 * sends in bursts of 50, after a warm-up.
 *
 *   node bench/dist/publish-cost.js [--n=60000] [--rounds=4] [--compare=<checkout>]
 *
 * With `--compare`, every round measures this checkout and the other one (its
 * libs/hub-context/dist, built) one after the other, in fresh processes, so a noisy machine
 * affects both alike; the report gives each round and the median ratio. Redis: a private
 * redis-server, started and stopped here.
 */
const args = process.argv.slice(2);
const arg = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const here = resolve(new URL('../..', import.meta.url).pathname);

interface Sample {
  tick: number;
  jobUpdate: number;
}

/** One measurement, in this process: µs of CPU per send for two payload shapes. */
async function measure(root: string, redisUrl: string, n: number): Promise<Sample> {
  const { createHubContext } = (await import(pathToFileURL(join(root, 'libs/hub-context/dist/index.js')).href)) as typeof import('@switchboard/hub-context');
  const ctx = createHubContext<Record<string, (arg: unknown) => Promise<void>>>({ hub: 'bench', redis: redisUrl, prefix: `cost${process.pid}:` });
  // `clients.group(name)` per send, as a job worker writes it (`hub.clients.group(`job:${id}`).jobUpdated(...)`).
  const names = Array.from({ length: 10 }, (_, g) => `g${g}`);
  const group = (s: number) => ctx.clients.group(names[s % 10]!);
  const shapes = {
    tick: (s: number) => group(s)['tick']!({ t: performance.now(), s, p: 'x'.repeat(24) }),
    jobUpdate: (s: number) =>
      group(s)['jobUpdated']!({ jobId: `${s}`, state: 'active', progress: { percent: s % 100, stage: 'hashing', rounds: 1000, done: s % 1000 }, seq: s, at: Date.now() }),
  };
  const out: Partial<Sample> = {};
  for (const [name, send] of Object.entries(shapes) as [keyof Sample, (s: number) => Promise<void>][]) {
    const burst = async (from: number) => {
      const sends: Promise<void>[] = [];
      for (let i = 0; i < 50; i++) sends.push(send(from + i));
      await Promise.all(sends);
    };
    for (let i = 0; i < n / 5; i += 50) await burst(i);
    const before = process.cpuUsage();
    for (let i = 0; i < n; i += 50) await burst(i);
    const used = process.cpuUsage(before);
    out[name] = round((used.user + used.system) / n, 2);
  }
  await ctx.close();
  return out as Sample;
}

if (args.includes('--child')) {
  const sample = await measure(arg('root')!, arg('redis')!, Number(arg('n')));
  process.stdout.write(JSON.stringify(sample));
} else {
  const n = Number(arg('n') ?? 60_000);
  const rounds = Number(arg('rounds') ?? 4);
  const compare = arg('compare') ? resolve(arg('compare')!) : undefined;
  const redis = await startRedis();
  const script = new URL(import.meta.url).pathname;
  const run = (root: string): Sample =>
    JSON.parse(execFileSync(process.execPath, [script, '--child', `--root=${root}`, `--redis=${redis.url}`, `--n=${n}`], { encoding: 'utf8' })) as Sample;
  try {
    const mine: Sample[] = [];
    const theirs: Sample[] = [];
    for (let r = 1; r <= rounds; r++) {
      mine.push(run(here));
      if (compare) theirs.push(run(compare));
      const last = (s: Sample[]) => `tick ${s.at(-1)!.tick} µs, job update ${s.at(-1)!.jobUpdate} µs`;
      process.stdout.write(`round ${r}: this checkout ${last(mine)}${compare ? `; ${compare}: ${last(theirs)}` : ''}\n`);
    }
    for (const shape of ['tick', 'jobUpdate'] as const) {
      const m = median(mine.map((s) => s[shape]));
      const line = compare
        ? `, other ${median(theirs.map((s) => s[shape]))} µs, ratio (median of rounds) ${round(median(mine.map((s, i) => s[shape] / theirs[i]![shape])), 2)}`
        : '';
      process.stdout.write(`${shape}: CPU per send ${m} µs (median of ${rounds})${line}\n`);
    }
  } finally {
    await redis.stop();
  }
}
