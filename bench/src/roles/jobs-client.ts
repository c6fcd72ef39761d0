import { monoMs } from '../clock.js';
import { Histogram } from '../histogram.js';
import { LeanWebSocket } from './lean-ws.js';
import { serve } from './rpc.js';

/**
 * The jobs pipeline's load client: many hub connections (LeanWebSocket, SignalR JSON, skip
 * negotiation) to /hubs/jobs in one process, each enqueueing with `{ watch: true }` (enqueue and
 * watch in one round trip) and counting what its watchers see, the way a browser watches a job.
 *
 * - `max`: closed loop, at most `window` jobs enqueued and not yet terminal at their watcher.
 * - `rate`: open loop at a fixed number of jobs per second (paced every 2 ms).
 * - `progress`: `jobs` long jobs at once, each watched by its enqueuer and by `watchers - 1` more
 *   connections (alternating hub nodes when there are two), counting progress updates and their delay.
 * `mark` returns the running counts (the orchestrator reads them at the edges of its measured
 * window) and turns latency recording on or off; `stop` stops sending, waits for every watched job
 * to end and returns the checks: each watcher saw exactly one terminal update, none is missing, and
 * live updates came in `seq` order.
 */
const RS = 0x1e;
const TERMINAL = new Set(['completed', 'failed', 'cancelled', 'lost']);
/** Below the hub's limit of in-flight invocations per connection (1 running + 100 pending). */
const MAX_OUTSTANDING = 90;

interface Update {
  jobId: string;
  seq: number;
  state: string;
  progress: number;
  createdAt: number;
  updatedAt: number;
  startedAt?: number;
}
/** One watcher (connection) of one job. */
interface Watch {
  /** When the enqueue was sent (NaN until its answer names the job, or for a second watcher). */
  sentAt: number;
  primary: boolean;
  measured: boolean;
  activeAt: number;
  terminalAt: number;
  liveTerminals: number;
  /** The seq of the first terminal update seen (live or in a snapshot). */
  terminalSeq: number;
  lastSeq: number;
  activeRecorded: boolean;
  done: boolean;
}
interface Call {
  kind: 'enqueue' | 'watch';
  sentAt: number;
  /** Date.now() at the send: the job's createdAt (the hub's wall clock, same machine) is compared with it. */
  sentWall: number;
  measured: boolean;
  jobId?: string;
}
interface Conn {
  ws: LeanWebSocket;
  lane: number;
  nextId: number;
  outstanding: number;
  calls: Map<number, Call>;
  watches: Map<string, Watch>;
}

const conns: Conn[] = [];
/**
 * `record`, `pickup`, `delivery`: where enqueue → active goes, from the wall clocks of client, hub
 * and worker (one machine, ms resolution): the send to the record's `createdAt` (the hub's write),
 * `createdAt` to `startedAt` (BullMQ hands the job to a worker), `startedAt` to the arrival of
 * `active` at the watcher (the worker's write, the publish, the hub node, the socket).
 */
const hist = { active: new Histogram(), terminal: new Histogram(), answer: new Histogram(), progress: new Histogram(), record: new Histogram(), pickup: new Histogram(), delivery: new Histogram() };
let recording = false;
let sending = false;
let timer: NodeJS.Timeout | undefined;
let stats = freshStats();
let rr = 0;
let idle: (() => void) | undefined;
let unexpectedCloses = 0;
let closing = false;

function freshStats() {
  return { sent: 0, answered: 0, finished: 0, inFlight: 0, errors: 0, firstError: '', stale: 0, secondTerminal: 0, afterTerminal: 0, progressUpdates: 0 };
}

function invoke(c: Conn, call: Call, tail: string): void {
  const id = c.nextId++;
  c.calls.set(id, call);
  c.outstanding++;
  c.ws.send(`{"type":1,"invocationId":"${id}",${tail}}\u001e`);
}

function enqueue(c: Conn, tail: string): void {
  stats.sent++;
  stats.inFlight++;
  invoke(c, { kind: 'enqueue', sentAt: monoMs(), sentWall: Date.now(), measured: recording }, tail);
}

/** Records what a watch can tell once both its enqueue time and the state's arrival are known. */
function settle(w: Watch): void {
  if (Number.isNaN(w.sentAt)) return;
  if (!w.activeRecorded && !Number.isNaN(w.activeAt)) {
    w.activeRecorded = true;
    if (w.measured) hist.active.record(w.activeAt - w.sentAt);
  }
  if (!w.done && !Number.isNaN(w.terminalAt)) {
    w.done = true;
    if (!w.primary) return;
    if (w.measured) hist.terminal.record(w.terminalAt - w.sentAt);
    stats.finished++;
    stats.inFlight--;
    if (sending) pumpNow?.();
    if (stats.inFlight === 0) idle?.();
  }
}

function watchOf(c: Conn, jobId: string): Watch {
  let w = c.watches.get(jobId);
  if (!w) {
    // An update can come before the enqueue's answer (the caller joined the group first).
    w = { sentAt: Number.NaN, primary: false, measured: false, activeAt: Number.NaN, terminalAt: Number.NaN, liveTerminals: 0, terminalSeq: 0, lastSeq: 0, activeRecorded: false, done: false };
    c.watches.set(jobId, w);
  }
  return w;
}

function onUpdate(c: Conn, u: Update, now: number): void {
  const w = watchOf(c, u.jobId);
  // Not above the highest seen: dropped by a client (a repeat, e.g. a resync's snapshot), not an error.
  if (u.seq <= w.lastSeq) {
    // The live copy of a terminal update the answer's snapshot already showed: expected, not stale.
    if (u.seq === w.terminalSeq && TERMINAL.has(u.state) && w.liveTerminals === 0) w.liveTerminals++;
    else stats.stale++;
    return;
  }
  w.lastSeq = u.seq;
  // After the terminal update nothing may follow, and no other terminal update may come.
  if (w.terminalSeq) {
    if (TERMINAL.has(u.state)) stats.secondTerminal++;
    else stats.afterTerminal++;
    return;
  }
  if (TERMINAL.has(u.state)) {
    w.liveTerminals++;
    w.terminalSeq = u.seq;
    if (Number.isNaN(w.terminalAt)) w.terminalAt = now;
    if (Number.isNaN(w.activeAt)) w.activeAt = now;
  } else if (u.state === 'active') {
    if (Number.isNaN(w.activeAt)) {
      w.activeAt = now;
      if (recording && u.startedAt !== undefined) {
        hist.pickup.record(Math.max(0, u.startedAt - u.createdAt));
        hist.delivery.record(Math.max(0, Date.now() - u.startedAt));
      }
    }
    else if (u.progress > 0) {
      // A progress report: its delay from the worker's write (updatedAt, wall clock in ms).
      stats.progressUpdates++;
      if (recording) hist.progress.record(Date.now() - u.updatedAt);
    }
  }
  settle(w);
}

function onCompletion(c: Conn, id: number, result: { jobId?: string; snapshot?: Update } & Partial<Update>, error: string | undefined, now: number): void {
  const call = c.calls.get(id);
  if (!call) return;
  c.calls.delete(id);
  c.outstanding--;
  if (call.kind === 'enqueue') stats.answered++;
  if (error !== undefined) {
    stats.errors++;
    stats.firstError ||= error;
    if (call.kind === 'enqueue') {
      stats.inFlight--;
      if (stats.inFlight === 0) idle?.();
    }
    return;
  }
  const jobId = call.kind === 'enqueue' ? result.jobId! : call.jobId!;
  const snapshot = call.kind === 'enqueue' ? result.snapshot : (result as Update);
  const w = watchOf(c, jobId);
  if (call.kind === 'enqueue') {
    w.primary = true;
    w.sentAt = call.sentAt;
    w.measured = call.measured;
    if (call.measured) hist.answer.record(now - call.sentAt);
    if (call.measured && snapshot) hist.record.record(Math.max(0, snapshot.createdAt - call.sentWall));
    moreWatches?.(c, jobId);
  } else w.sentAt = call.sentAt;
  // The snapshot counts as seeing its state (a late watcher learns the end from it), once; a live
  // update with its seq that comes after it is the same update, not a second one.
  if (snapshot && TERMINAL.has(snapshot.state) && !w.terminalSeq) {
    w.terminalSeq = snapshot.seq;
    w.lastSeq = Math.max(w.lastSeq, snapshot.seq);
    if (Number.isNaN(w.terminalAt)) w.terminalAt = now;
  }
  if (snapshot && snapshot.state === 'active' && Number.isNaN(w.activeAt)) w.activeAt = now;
  settle(w);
}

function onFrame(c: Conn, data: Buffer, start: number, end: number): void {
  const now = monoMs();
  let from = start;
  for (let i = data.indexOf(RS, from); i !== -1 && i < end; i = data.indexOf(RS, from)) {
    const m = JSON.parse(data.toString('utf8', from, i)) as { type: number; target?: string; arguments?: [Update]; invocationId?: string; result?: never; error?: string };
    if (m.type === 1 && m.target === 'jobUpdated') onUpdate(c, m.arguments![0], now);
    else if (m.type === 3) onCompletion(c, Number(m.invocationId), m.result ?? {}, m.error, now);
    else if (m.type === 7) {
      stats.errors++;
      stats.firstError ||= `hub closed the connection: ${m.error ?? ''}`;
    }
    from = i + 1;
    if (from >= end) break;
  }
}

async function connectOne(url: string, lane: number): Promise<void> {
  const ws = await LeanWebSocket.open(`${url.replace(/^http/, 'ws')}/hubs/jobs`);
  ws.send('{"protocol":"json","version":1}\u001e');
  const reply = (await ws.next('handshake reply')).toString('latin1');
  if (!reply.startsWith('{}')) throw new Error(`handshake refused: ${reply}`);
  const c: Conn = { ws, lane, nextId: 1, outstanding: 0, calls: new Map(), watches: new Map() };
  ws.setHandler((d, s, e) => onFrame(c, d, s, e));
  ws.onClose = () => {
    if (!closing) unexpectedCloses++;
  };
  conns.push(c);
}

/** The next connection (round robin) with fewer than `cap` invocations in flight, if any. */
function nextConn(cap: number): Conn | undefined {
  for (let tries = 0; tries < conns.length; tries++) {
    const c = conns[rr++ % conns.length]!;
    if (c.outstanding < cap) return c;
  }
  return undefined;
}

/** One more watcher for a job enqueued on `c`, not one of `taken`: on another hub node than `c` when `otherLane` and there is one. */
function otherConn(c: Conn, taken: readonly Conn[], otherLane: boolean): Conn | undefined {
  const open = conns.filter((o) => o !== c && !taken.includes(o) && o.outstanding < MAX_OUTSTANDING);
  const preferred = open.filter((o) => (o.lane !== c.lane) === otherLane);
  const pool = preferred.length ? preferred : open;
  return pool.length ? pool[rr++ % pool.length] : undefined;
}

const tailOf = (job: string, data: unknown) => `"target":"enqueue","arguments":[${JSON.stringify(job)},${JSON.stringify(data)},{"watch":true}]`;
let pumpNow: (() => void) | undefined;
let moreWatches: ((c: Conn, jobId: string) => void) | undefined;
let stop: () => void = () => {};

function begin(): void {
  stop();
  stop = () => {};
  pumpNow = undefined;
  moreWatches = undefined;
  stats = freshStats();
  for (const h of Object.values(hist)) h.reset();
  for (const c of conns) c.watches.clear();
  recording = false;
  sending = true;
}

serve({
  async connect(req) {
    const { targets } = req as unknown as { targets: { url: string; lane: number }[] };
    closing = false;
    await Promise.all(targets.map((t) => connectOne(t.url, t.lane)));
    // SignalR keep-alive: a connection that sends nothing for 30 s is closed by the hub.
    timer = setInterval(() => conns.forEach((c) => c.ws.send('{"type":6}\u001e')), 10_000);
    return { connected: conns.length };
  },
  max(req) {
    const { job, data, window, perConnection } = req as unknown as { job: string; data: unknown; window: number; perConnection: number };
    begin();
    const tail = tailOf(job, data);
    pumpNow = () => {
      while (sending && stats.inFlight < window) {
        const c = nextConn(Math.min(perConnection, MAX_OUTSTANDING));
        if (!c) return;
        enqueue(c, tail);
      }
    };
    const t = setInterval(() => pumpNow?.(), 5);
    stop = () => clearInterval(t);
    pumpNow();
    return null;
  },
  rate(req) {
    const { job, data, perSecond } = req as unknown as { job: string; data: unknown; perSecond: number };
    begin();
    const tail = tailOf(job, data);
    const t0 = monoMs();
    let due = 0;
    const t = setInterval(() => {
      const target = Math.floor(((monoMs() - t0) / 1000) * perSecond);
      for (; due < target; due++) {
        const c = nextConn(MAX_OUTSTANDING);
        if (!c) break; // every connection full: the pipeline is past this rate; the answer shows it
        enqueue(c, tail);
      }
    }, 2);
    stop = () => clearInterval(t);
    return null;
  },
  /** Enqueues `jobs` long jobs, each watched by its enqueuer and by `watchers - 1` more connections; resolves when all are answered. */
  async progress(req) {
    const { jobs, until, watchers } = req as unknown as { jobs: number; until: number; watchers: number };
    begin();
    const tail = tailOf('progress', { until });
    moreWatches = (c, jobId) => {
      const taken: Conn[] = [];
      // The second watcher on the other hub node, the third on the enqueuer's, and so on.
      for (let k = 1; k < watchers; k++) {
        const other = otherConn(c, taken, k % 2 === 1);
        if (!other) break;
        taken.push(other);
        invoke(other, { kind: 'watch', sentAt: monoMs(), sentWall: Date.now(), measured: false, jobId }, `"target":"watch","arguments":[${JSON.stringify(jobId)}]`);
      }
    };
    for (let i = 0; i < jobs; i++) {
      const c = nextConn(MAX_OUTSTANDING / 2);
      if (!c) throw new Error(`progress: ${jobs} jobs need more connections (${conns.length}, each with at most ${MAX_OUTSTANDING} invocations in flight)`);
      enqueue(c, tail);
    }
    const deadline = monoMs() + 60_000;
    while (stats.answered < jobs && monoMs() < deadline) await new Promise((r) => setTimeout(r, 10));
    return { enqueued: stats.answered, errors: stats.errors, firstError: stats.firstError };
  },
  /** The running counts; `record` turns latency recording on (the measured window) or off. */
  mark(req) {
    recording = req['record'] === true;
    let running = 0;
    let outstanding = 0;
    if (req['running']) {
      for (const c of conns) {
        outstanding += c.outstanding;
        for (const w of c.watches.values()) if (w.primary && !Number.isNaN(w.activeAt) && !w.done) running++;
      }
    }
    return { finished: stats.finished, progressUpdates: stats.progressUpdates, sent: stats.sent, running, outstanding };
  },
  /** Stops sending and waits (up to `drainMs`) until every watched job has ended; then the checks. */
  async stop(req) {
    stop();
    sending = false;
    recording = false;
    const drainMs = Number(req['drainMs'] ?? 30_000);
    const allEnded = () => stats.inFlight === 0 && conns.every((c) => c.outstanding === 0 && [...c.watches.values()].every((w) => w.done));
    const deadline = monoMs() + drainMs;
    while (!allEnded() && monoMs() < deadline) {
      await new Promise<void>((resolve) => {
        idle = resolve;
        setTimeout(resolve, 20);
      });
      idle = undefined;
    }
    let watches = 0;
    let missing = 0;
    let primaryWithoutLive = 0;
    for (const c of conns) {
      for (const w of c.watches.values()) {
        watches++;
        if (!w.done) missing++;
        // Joined before the job existed: its terminal update should come live, not only in a snapshot.
        if (w.primary && w.done && w.liveTerminals === 0) primaryWithoutLive++;
      }
      missing += [...c.calls.values()].filter((call) => call.kind === 'enqueue').length;
    }
    return {
      ...stats,
      watches,
      missing,
      duplicates: stats.secondTerminal + stats.afterTerminal,
      primaryWithoutLive,
      unexpectedCloses,
      histograms: Object.fromEntries(Object.entries(hist).map(([k, h]) => [k, h.toSparse()])),
    };
  },
  async close() {
    closing = true;
    clearInterval(timer);
    const closed = conns.map((c) => new Promise<void>((resolve) => (c.ws.closed ? resolve() : (c.ws.onClose = () => resolve()))));
    for (const c of conns) c.ws.close();
    await Promise.race([Promise.all(closed), new Promise((r) => setTimeout(r, 3000))]);
    for (const c of conns) c.ws.terminate();
    conns.length = 0;
    return null;
  },
});
