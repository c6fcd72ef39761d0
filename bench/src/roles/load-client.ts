import { messagePackHubProtocol } from '@switchboard/protocol';
import { monoMs } from '../clock.js';
import { Histogram } from '../histogram.js';
import { LeanWebSocket } from './lean-ws.js';
import { send, serve } from './rpc.js';

/**
 * A lean load client: many WebSockets in one process (LeanWebSocket: a minimal RFC 6455 client on
 * `net`, parsing frames in place), each speaking just enough of its stack's protocol to connect,
 * join one group and receive `tick`s.
 *
 * - `sb-json` / `sb-msgpack`: the SignalR hub protocol (skip-negotiation WebSocket, handshake,
 *   `JoinGroup` invocation) to /hubs/bench, JSON or MessagePack.
 * - `sio`: Engine.IO 4 / Socket.IO 5 protocol over WebSocket (open, connect to `/`, `join` event
 *   with an ack, answer pings).
 * - `raw`: a plain `ws` server; the group is in the URL, frames are JSON hub invocations.
 *
 * Counting reads only a few bytes per message (no JSON parse); sampled messages get their publish
 * time read in place for the latency histogram. Counts per lane (hub node) go to the orchestrator
 * every 10 ms.
 */
type Kind = 'sb-json' | 'sb-msgpack' | 'sio' | 'raw';
interface Target {
  url: string;
  lane: number;
  group: string;
  /** Source address (the scale scenario spreads connections over 127.0.x.y so loopback ports do not run out). */
  localAddress?: string;
}

const RS = 0x1e;
const counts: number[] = [0, 0];
const histogram = new Histogram();
let latencyOn = false;
const sockets: LeanWebSocket[] = [];
let reported = '';
let closing = false;
let unexpectedCloses = 0;

setInterval(() => {
  const key = counts.join(',');
  if (key === reported) return;
  reported = key;
  send({ ev: 'count', counts });
}, 10).unref();

/**
 * The receive time of what is being parsed: read once per socket read (every message of a read
 * arrived at the same moment) instead of once per message; `process.hrtime` allocates, and with
 * several messages per read the per-message reads were a visible share of the client's CPU.
 */
let readTime = Number.NaN;
const forgetReadTime = () => {
  readTime = Number.NaN;
};
function receivedAt(): number {
  if (Number.isNaN(readTime)) {
    readTime = monoMs();
    // Each socket read is its own callback; microtasks run right after it.
    queueMicrotask(forgetReadTime);
  }
  return readTime;
}

const T_JSON = Buffer.from('"t":');
const T_MSGPACK = Buffer.from([0xa1, 0x74, 0xcb]); // fixstr "t", then a float64

/** Reads the JSON number starting at `i` (digits, one '.', no exponent) without allocating. */
function readJsonNumber(data: Buffer, i: number): number {
  let n = 0;
  let scale = 0;
  for (; i < data.length; i++) {
    const c = data[i]!;
    if (c >= 0x30 && c <= 0x39) {
      n = n * 10 + (c - 0x30);
      if (scale) scale *= 10;
    } else if (c === 0x2e && !scale) scale = 1;
    else break;
  }
  return scale ? n / scale : n;
}

function recordJson(data: Buffer, start: number, end: number): void {
  const at = data.indexOf(T_JSON, start);
  if (at < 0 || at >= end) return;
  histogram.record(receivedAt() - readJsonNumber(data, at + T_JSON.length));
}

/**
 * Which deliveries of one connection get their latency recorded: every `every`-th, counted per
 * connection, so every connection (every group, both nodes) is sampled alike. Reading the
 * timestamp (a search and a number parse per message) is most of the client's cost per message,
 * and the load generator shares the cores with the servers it measures.
 */
class Sampler {
  private n = 0;
  constructor(private readonly every: number) {}
  take(): boolean {
    return latencyOn && ++this.n % this.every === 0;
  }
}

/** SignalR JSON: RS-terminated records; a tick is `{"type":1,...`. */
function onJsonFrame(lane: number, sample: Sampler, data: Buffer, from: number, end: number): void {
  let start = from;
  let n = 0;
  for (let i = data.indexOf(RS, start); i !== -1 && i < end; i = data.indexOf(RS, start)) {
    if (data[start + 8] === 0x31 && data[start + 9] === 0x2c) {
      n++;
      if (sample.take()) recordJson(data, start, i);
    }
    start = i + 1;
    if (start >= end) break;
  }
  counts[lane]! += n;
}

/** SignalR MessagePack: varint-prefixed arrays; a tick's array starts with type 1. */
function onMsgpackFrame(lane: number, sample: Sampler, data: Buffer, from: number, end: number): void {
  let off = from;
  let n = 0;
  while (off < end) {
    let len = 0;
    let shift = 0;
    let b: number;
    do {
      b = data[off++]!;
      len += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    const body = off;
    off += len;
    if (data[body + 1] === 0x01) {
      n++;
      if (sample.take()) {
        const at = data.indexOf(T_MSGPACK, body);
        if (at >= 0 && at < off) histogram.record(receivedAt() - data.readDoubleBE(at + 3));
      }
    }
  }
  counts[lane]! += n;
}

/** Socket.IO: one packet per frame; `42[...]` is an event, `2` a ping. */
function onSioFrame(ws: LeanWebSocket, lane: number, sample: Sampler, data: Buffer, start: number, end: number): void {
  if (data[start] === 0x34 && data[start + 1] === 0x32) {
    counts[lane]!++;
    if (sample.take()) recordJson(data, start, end);
  } else if (end - start === 1 && data[start] === 0x32) ws.send('3');
}

/** Reads setup frames until `done(frame)` returns true (or throws). */
async function until(ws: LeanWebSocket, what: string, done: (data: Buffer) => boolean): Promise<void> {
  while (!done(await ws.next(what)));
}

async function connectSignalR(target: Target, msgpack: boolean): Promise<LeanWebSocket> {
  const ws = await LeanWebSocket.open(target.url.replace(/^http/, 'ws') + '/hubs/bench', 10_000, target.localAddress);
  ws.send(`{"protocol":"${msgpack ? 'messagepack' : 'json'}","version":1}\u001e`);
  await until(ws, 'handshake reply', (d) => {
    const text = d.toString('latin1');
    if (!text.startsWith('{}')) throw new Error(`handshake refused: ${text}`);
    return true;
  });
  const join = { type: 1 as const, invocationId: '1', target: 'JoinGroup', arguments: [target.group] };
  ws.send(msgpack ? messagePackHubProtocol.write(join) : `${JSON.stringify(join)}\u001e`, msgpack);
  await until(ws, 'JoinGroup completion', (d) => {
    if (msgpack) {
      const reader = messagePackHubProtocol.createReader(1 << 20);
      for (const body of reader.push(d)) {
        const m = messagePackHubProtocol.parse(body);
        if (m.type === 3) {
          if (m.error) throw new Error(`JoinGroup failed: ${m.error}`);
          return true;
        }
      }
      return false;
    }
    for (const rec of d.toString('utf8').split('\u001e')) {
      if (!rec) continue;
      const m = JSON.parse(rec) as { type: number; error?: string };
      if (m.type === 3) {
        if (m.error) throw new Error(`JoinGroup failed: ${m.error}`);
        return true;
      }
    }
    return false;
  });
  return ws;
}

async function connectSocketIo(target: Target): Promise<LeanWebSocket> {
  const ws = await LeanWebSocket.open(target.url.replace(/^http/, 'ws') + '/socket.io/?EIO=4&transport=websocket');
  let stage = 0;
  const ready = until(ws, 'Socket.IO connect and join ack', (d) => {
    const text = d.toString('utf8');
    if (text === '2') {
      ws.send('3');
      return false;
    }
    if (stage === 0 && text.startsWith('0')) {
      stage = 1;
      ws.send('40');
      return false;
    }
    if (stage === 1 && text.startsWith('40')) {
      stage = 2;
      ws.send(`420${JSON.stringify(['join', target.group])}`);
      return false;
    }
    if (stage === 1 && text.startsWith('44')) throw new Error(`Socket.IO connect refused: ${text}`);
    return stage === 2 && text.startsWith('430');
  });
  await ready;
  return ws;
}

async function connectOne(kind: Kind, target: Target, sampleEvery: number): Promise<void> {
  const ws =
    kind === 'sio'
      ? await connectSocketIo(target)
      : kind === 'raw'
        ? await LeanWebSocket.open(`${target.url.replace(/^http/, 'ws')}/?g=${target.group}`)
        : await connectSignalR(target, kind === 'sb-msgpack');
  const lane = target.lane;
  const sample = new Sampler(sampleEvery);
  if (kind === 'sb-json' || kind === 'raw') ws.setHandler((d, s, e) => onJsonFrame(lane, sample, d, s, e));
  else if (kind === 'sb-msgpack') ws.setHandler((d, s, e) => onMsgpackFrame(lane, sample, d, s, e));
  else ws.setHandler((d, s, e) => onSioFrame(ws, lane, sample, d, s, e));
  ws.onClose = () => {
    if (!closing) unexpectedCloses++;
  };
  sockets.push(ws);
}

serve({
  /**
   * Opens and joins every target, `concurrency` at a time; latency is recorded for every
   * `sampleEvery`-th delivery of each. A failed connection fails the request, unless `tolerate`:
   * then the others go on, and the answer lists the failed ones (their indices in `targets`)
   * with the first error.
   */
  async connect(req) {
    const { kind, targets, concurrency, sampleEvery, tolerate } = req as unknown as { kind: Kind; targets: Target[]; concurrency: number; sampleEvery: number; tolerate?: boolean };
    let next = 0;
    const failed: number[] = [];
    let firstError: string | undefined;
    const worker = async () => {
      while (next < targets.length) {
        const i = next++;
        try {
          await connectOne(kind, targets[i]!, sampleEvery);
        } catch (err) {
          if (!tolerate) throw err;
          failed.push(i);
          firstError ??= (err as Error).message;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, targets.length) }, worker));
    return { connected: sockets.length, failed, firstError: firstError ?? null };
  },
  /** Starts (or stops) latency recording and clears the histogram. */
  latency(req) {
    latencyOn = req['on'] === true;
    histogram.reset();
    return null;
  },
  report: () => ({ counts, histogram: histogram.toSparse(), unexpectedCloses, sockets: sockets.length }),
  async close() {
    closing = true;
    const closed = sockets.map((ws) => new Promise<void>((resolve) => (ws.closed ? resolve() : (ws.onClose = () => resolve()))));
    for (const ws of sockets) ws.close();
    await Promise.race([Promise.all(closed), new Promise((r) => setTimeout(r, 3000))]);
    for (const ws of sockets) ws.terminate();
    sockets.length = 0;
    return null;
  },
});
