// Fuzzes a running HubServer: mutated hub messages and handshakes over WebSockets, raw WebSocket
// frames after a valid handshake, and raw HTTP requests to negotiate and the transport endpoints.
// Every case must end in a clear outcome for its own connection (an answer, an error Close with a
// registry code, a handshake error, a WebSocket protocol close, a 4xx) while the process stays up,
// three canary clients (WebSockets, Server-Sent Events, long polling) keep working, nothing is
// logged as an internal error, and memory and connections return to where they were.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES, jsonHubProtocol, messagePackHubProtocol, MessageType, type HubMessage, type HubProtocol } from '@switchboard/protocol';
import { connect, signalR } from '../support/signalr.js';
import { negotiate, startHub, within, type HubFixture } from '../hub/fixture.js';
import { FUZZ_SEED, Findings, casesFor, timeoutFor } from './budget.js';
import { HANDSHAKE_CORPUS, JSON_CORPUS, MSGPACK_CORPUS } from './corpus.js';
import { chunks, deepInvocation, mutate } from './mutate.js';
import { Prng } from './prng.js';
import { clientFrame, exchange, serverCloseCode, statusOf, upgradeRequest } from './raw-socket.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const RS = '\u001e';
const CONCURRENCY = 16;
const CLOSE_ERROR = /^Connection closed with an error\. (SB_[A-Z_]+): /;
/** Close codes a server may send for a peer's bad frames (RFC 6455): never 1011 (internal error). */
const PROTOCOL_CLOSE_CODES = new Set([1000, 1002, 1007, 1008, 1009]);

let f: HubFixture;
let port: number;
const canaries: signalR.HubConnection[] = [];
let heapBefore = 0;

beforeAll(async () => {
  f = await startHub(
    { handshakeTimeoutMs: 300, heartbeatIntervalMs: 50, longPollTimeoutMs: 300, disconnectTimeoutMs: 800, keepAliveIntervalMs: 15_000, clientTimeoutMs: 30_000 },
    { endpoint: { allowStatefulReconnects: true } },
  );
  port = Number(new URL(f.origin).port);
  for (const transport of ['WebSockets', 'ServerSentEvents', 'LongPolling'] as const) canaries.push(await connect(f.url, { transport }));
  await canariesAlive('warm-up');
  gc();
  heapBefore = process.memoryUsage().heapUsed;
});

afterAll(async () => {
  await Promise.allSettled(canaries.map((c) => c.stop()));
  await f?.close();
});

async function canariesAlive(label: string): Promise<void> {
  for (const c of canaries) {
    expect(c.state, `${label}: a canary client disconnected`).toBe(signalR.HubConnectionState.Connected);
    expect(await within(c.invoke('Echo', label), 3000, `${label}: canary echo`)).toBe(label);
  }
}

/** Internal errors the server logged (anything at error level) since `from`. */
function errorLogs(from: number): string[] {
  return f.logs.entries.slice(from).filter((e) => e.level === 'error').map((e) => `${e.msg} ${JSON.stringify(e.obj).slice(0, 300)}`);
}

/** Runs cases 0..cases-1, CONCURRENCY at a time (each worker takes the next case when it is done). */
async function batched(cases: number, run: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < cases) await run(next++);
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, cases) }, worker));
}

async function tokenFor(rng: Prng, stateful: boolean): Promise<string | undefined> {
  if (rng.chance(0.2)) return undefined; // skipNegotiation
  const { body } = await negotiate(f.url, `negotiateVersion=1${stateful ? '&useStatefulReconnect=true' : ''}`);
  return body['connectionToken'] as string;
}

/** A `ws` client that records everything, for one case. */
class CaseSocket {
  readonly received: Buffer[] = [];
  closeCode: number | undefined;
  private waiters = new Set<() => void>();

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      this.received.push(data);
      this.wake();
    });
    ws.on('close', (code: number) => {
      this.closeCode = code;
      this.wake();
    });
    ws.on('error', () => {});
  }

  static open(url: string): Promise<CaseSocket | string> {
    return new Promise((resolve) => {
      const ws = new WebSocket(url);
      const timer = setTimeout(() => {
        ws.terminate();
        resolve('the upgrade did not complete within 2 s');
      }, 2000);
      ws.once('open', () => {
        clearTimeout(timer);
        resolve(new CaseSocket(ws));
      });
      ws.once('unexpected-response', (_req, res) => {
        clearTimeout(timer);
        res.resume();
        resolve(`the upgrade was refused with ${res.statusCode}`);
      });
      ws.once('error', (err) => {
        clearTimeout(timer);
        resolve(`the upgrade failed: ${err.message}`);
      });
    });
  }

  get bytes(): Buffer {
    return Buffer.concat(this.received);
  }

  /** Waits until `condition` holds or `ms` pass; resolves with whether it held. */
  until(condition: () => boolean, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const check = () => {
        if (!condition()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        resolve(condition());
      }, ms);
      this.waiters.add(check);
      check();
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}

/** Splits what the server sent after its handshake reply into hub messages of `protocol`. */
function serverMessages(protocol: HubProtocol, bytes: Buffer, afterHandshake = true): HubMessage[] | string {
  const end = afterHandshake ? bytes.indexOf(0x1e) : -1;
  if (afterHandshake && end < 0) return [];
  const rest = bytes.subarray(end + 1);
  try {
    return protocol.createReader(16 * 1024 * 1024).push(rest).map((b) => protocol.parse(b));
  } catch (err) {
    return `the server sent bytes its own protocol cannot read: ${(err as Error).message}`;
  }
}

/** Judges how a connection ended (or did not): undefined when the outcome is a clear one. */
function judgeClose(messages: HubMessage[], closeCode: number | undefined): string | undefined {
  const close = messages.find((m) => m.type === MessageType.Close);
  if (close) {
    if (close.error !== undefined) {
      const m = CLOSE_ERROR.exec(close.error);
      if (!m) return `a Close error without a registry code: ${close.error}`;
      if (!(m[1]! in ERROR_CODES)) return `a Close error with an unregistered code: ${m[1]}`;
      if (close.allowReconnect !== true) return `an error Close that does not allow reconnecting: ${close.error}`;
    }
    if (closeCode !== undefined && closeCode !== 1000) return `a Close message followed by WebSocket close code ${closeCode}`;
    return undefined;
  }
  if (closeCode !== undefined && !PROTOCOL_CLOSE_CODES.has(closeCode)) return `the socket closed with ${closeCode} without a Close message`;
  return undefined;
}

describe(`server fuzzing (seed ${FUZZ_SEED})`, () => {
  const wsCases = casesFor(0.2);
  it(
    `WebSockets: ${wsCases} mutated hub message units after a valid handshake`,
    async () => {
      const findings = new Findings();
      const logStart = f.logs.entries.length;
      const outcomes = { answered: 0, closedWithError: 0, protocolClose: 0, waiting: 0 };
      await batched(wsCases, async (i) => {
        const rng = Prng.forCase(FUZZ_SEED ^ 0xa11, i);
        const protocol = rng.chance(0.5) ? jsonHubProtocol : messagePackHubProtocol;
        const name = protocol.name as 'json' | 'messagepack';
        const stateful = rng.chance(0.3);
        const token = await tokenFor(rng, stateful);
        const corpus = name === 'json' ? JSON_CORPUS : MSGPACK_CORPUS;
        const input: { bytes: Uint8Array; steps: readonly string[] } = rng.chance(0.05) ? { bytes: deepInvocation(rng, name), steps: ['deepInvocation'] } : mutate(rng, Buffer.concat(Array.from({ length: rng.range(1, 3) }, () => rng.pick(corpus))), corpus);
        const opened = await CaseSocket.open(f.wsUrl(token));
        if (typeof opened === 'string') return findings.add('ws', i, input.steps, input.bytes, opened);
        let socket = opened;
        let handshaken = true;
        try {
          socket.ws.send(`{"protocol":"${name}","version":${stateful ? 2 : 1}}${RS}`);
          if (!(await socket.until(() => socket.bytes.includes(0x1e), 2000))) return findings.add('ws', i, input.steps, input.bytes, 'no handshake reply');
          if (!socket.bytes.subarray(0, 3).equals(Buffer.from(`{}${RS}`))) return findings.add('ws', i, input.steps, input.bytes, `handshake refused: ${socket.bytes.toString()}`);
          if (stateful && token && rng.chance(0.5)) {
            // Stateful reconnect: drop the socket and feed the garbage to the reattached one (no handshake there).
            socket.ws.terminate();
            const again = await CaseSocket.open(f.wsUrl(token));
            if (typeof again === 'string') return findings.add('ws', i, [...input.steps, 'reattach'], input.bytes, `the reattach failed: ${again}`);
            socket = again;
            handshaken = false;
            input.steps = [...input.steps, 'reattach'];
          }
          const binary = (name === 'messagepack') !== rng.chance(0.1);
          for (const part of chunks(rng, input.bytes)) socket.ws.send(part, { binary });
          socket.ws.send(protocol.write({ type: MessageType.Invocation, invocationId: 'probe', target: 'Echo', arguments: ['probe'] }), { binary: name === 'messagepack' });
          const probeAnswered = (ms: ReturnType<typeof serverMessages>) => typeof ms !== 'string' && ms.some((m) => m.type === MessageType.Completion && m.invocationId === 'probe');
          // An answer or a close comes within milliseconds; a connection still waiting for the rest of a message it was promised says nothing.
          await socket.until(() => socket.closeCode !== undefined || probeAnswered(serverMessages(protocol, socket.bytes, handshaken)), 400);
          const messages = serverMessages(protocol, socket.bytes, handshaken);
          if (typeof messages === 'string') return findings.add('ws', i, input.steps, input.bytes, messages);
          const probe = messages.find((m) => m.type === MessageType.Completion && m.invocationId === 'probe');
          if (probe) {
            outcomes.answered++;
            if (probe.type !== MessageType.Completion || probe.result !== 'probe') findings.add('ws', i, input.steps, input.bytes, `the probe got ${JSON.stringify(probe)}`);
            return;
          }
          if (messages.some((m) => m.type === MessageType.Close)) {
            outcomes.closedWithError++;
            await socket.until(() => socket.closeCode !== undefined, 2000);
          } else if (socket.closeCode !== undefined) {
            outcomes.protocolClose++;
          } else {
            // Still open, waiting for the rest of a message it was promised (a length prefix, no RS yet).
            outcomes.waiting++;
            return;
          }
          const problem = judgeClose(messages, socket.closeCode);
          if (problem) findings.add('ws', i, input.steps, input.bytes, problem);
        } finally {
          socket.ws.terminate();
        }
      });
      expect(findings.list, findings.report()).toEqual([]);
      expect(errorLogs(logStart)).toEqual([]);
      // The cases did exercise both paths: valid input answered, bad input closed.
      expect(outcomes.answered).toBeGreaterThan(0);
      expect(outcomes.closedWithError).toBeGreaterThan(0);
      console.log(`WebSocket fuzz outcomes: ${JSON.stringify(outcomes)}`);
      await canariesAlive('after WebSocket hub messages');
    },
    timeoutFor(wsCases, 30),
  );

  const handshakeCases = casesFor(0.1);
  it(
    `WebSockets: ${handshakeCases} mutated handshakes`,
    async () => {
      const findings = new Findings();
      const logStart = f.logs.entries.length;
      await batched(handshakeCases, async (i) => {
        const rng = Prng.forCase(FUZZ_SEED ^ 0x4a5, i);
        const input = mutate(rng, rng.pick(HANDSHAKE_CORPUS), HANDSHAKE_CORPUS);
        const socket = await CaseSocket.open(f.wsUrl(await tokenFor(rng, rng.chance(0.3))));
        if (typeof socket === 'string') return findings.add('handshake', i, input.steps, input.bytes, socket);
        try {
          const binary = rng.chance(0.3);
          for (const part of chunks(rng, input.bytes)) socket.ws.send(part, { binary });
          // A reply, or (for a cut-off handshake) the handshake timeout's reply, or a protocol close.
          await socket.until(() => socket.closeCode !== undefined || socket.bytes.includes(0x1e), 2000);
          const bytes = socket.bytes;
          const end = bytes.indexOf(0x1e);
          if (end < 0) {
            if (socket.closeCode === undefined) return findings.add('handshake', i, input.steps, input.bytes, 'no reply and no close within 2 s');
            if (!PROTOCOL_CLOSE_CODES.has(socket.closeCode)) findings.add('handshake', i, input.steps, input.bytes, `closed with ${socket.closeCode} and no reply`);
            return;
          }
          const reply = JSON.parse(bytes.subarray(0, end).toString()) as Record<string, unknown>;
          if (Object.keys(reply).length === 0) return; // a valid handshake after all
          if (typeof reply['error'] !== 'string') return findings.add('handshake', i, input.steps, input.bytes, `an odd reply: ${bytes.toString()}`);
          await socket.until(() => socket.closeCode !== undefined, 2000);
          if (socket.closeCode !== 1000) findings.add('handshake', i, input.steps, input.bytes, `refused with "${reply['error']}" but closed with ${socket.closeCode}`);
        } finally {
          socket.ws.terminate();
        }
      });
      expect(findings.list, findings.report()).toEqual([]);
      expect(errorLogs(logStart)).toEqual([]);
      await canariesAlive('after handshakes');
    },
    timeoutFor(handshakeCases, 30),
  );

  const frameCases = casesFor(0.1);
  it(
    `WebSockets: ${frameCases} raw frame sequences after a valid handshake`,
    async () => {
      const findings = new Findings();
      const logStart = f.logs.entries.length;
      await batched(frameCases, async (i) => {
        const rng = Prng.forCase(FUZZ_SEED ^ 0xf4a, i);
        const token = await tokenFor(rng, rng.chance(0.3));
        const frames = Array.from({ length: rng.range(1, 4) }, () => randomFrame(rng));
        const request = [upgradeRequest(`/hub${token ? `?id=${token}` : ''}`), clientFrame(1, Buffer.from(`{"protocol":"json","version":1}${RS}`)), ...frames];
        const { data, closed } = await exchange(port, request, 300);
        if (statusOf(data) !== 101) return findings.add('frames', i, ['randomFrame'], frames, `upgrade answered ${data.subarray(0, 60).toString('latin1')}`);
        const code = serverCloseCode(data);
        if (code === 1011) findings.add('frames', i, ['randomFrame'], frames, 'the server closed with 1011 (internal error)');
        if (closed && code === undefined && !data.includes(Buffer.from(`{}${RS}`))) findings.add('frames', i, ['randomFrame'], frames, 'closed before the handshake reply, without a close frame');
      });
      expect(findings.list, findings.report()).toEqual([]);
      expect(errorLogs(logStart)).toEqual([]);
      await canariesAlive('after raw frames');
    },
    timeoutFor(frameCases, 60),
  );

  const httpCases = casesFor(0.2);
  it(
    `HTTP: ${httpCases} garbage requests to negotiate and the transport endpoints`,
    async () => {
      const findings = new Findings();
      const logStart = f.logs.entries.length;
      const statuses = new Map<number | undefined, number>();
      const tokens = await Promise.all([false, true].map(async (stateful) => (await negotiate(f.url, `negotiateVersion=1${stateful ? '&useStatefulReconnect=true' : ''}`)).body['connectionToken'] as string));
      const check = (i: number, steps: readonly string[], request: Uint8Array, data: Buffer) => {
        const status = statusOf(data);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status !== undefined && status >= 500 && status !== 503) findings.add('http', i, steps, request, `answered ${status}: ${data.subarray(0, 300).toString('latin1')}`);
      };
      await batched(httpCases, async (i) => {
        const rng = Prng.forCase(FUZZ_SEED ^ 0x477, i);
        if (rng.chance(0.4)) return httpSession(rng, i, check);
        let { request, steps } = randomRequest(rng, tokens);
        if (rng.chance(0.25)) ({ bytes: request, steps } = { ...mutate(rng, request, [request]), steps: [...steps, 'mutated'] });
        const { data } = await exchange(port, request, 500, responseComplete);
        check(i, steps, request, data);
      });
      expect(findings.list, findings.report()).toEqual([]);
      expect(errorLogs(logStart)).toEqual([]);
      // Both kinds of answers occurred: refusals and (for the valid parts) successes.
      expect([...statuses.keys()].some((s) => s !== undefined && s >= 400 && s < 500)).toBe(true);
      expect([...statuses.keys()].some((s) => s !== undefined && s >= 200 && s < 300)).toBe(true);
      await canariesAlive('after HTTP requests');
    },
    timeoutFor(httpCases, 30),
  );

  it('afterwards: connections are disposed of and memory is back within bounds', async () => {
    // Fuzzed connections left open end by the handshake timeout, the disconnect timeout (stateful
    // and long-polling ones) or their closed sockets; only the canaries stay.
    const deadline = Date.now() + 5000;
    while (f.server.connectionCount > canaries.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(f.server.connectionCount).toBe(canaries.length);
    f.recorded.length = 0;
    f.logs.entries.length = 0;
    gc();
    const grown = process.memoryUsage().heapUsed - heapBefore;
    expect(grown, `heap grew by ${(grown / 1048576).toFixed(1)} MiB`).toBeLessThan(48 * 1024 * 1024);
    await canariesAlive('at the end');
  });
});

/**
 * A long-polling or Server-Sent Events connection fed garbage: negotiate, open the transport, POST
 * a (mutated) handshake and (mutated) hub messages, collect the answer, sometimes DELETE.
 */
async function httpSession(rng: Prng, i: number, check: (i: number, steps: readonly string[], request: Uint8Array, data: Buffer) => void): Promise<void> {
  const sse = rng.chance(0.3);
  const protocol = sse || rng.chance(0.5) ? 'json' : 'messagepack';
  const { body } = await negotiate(f.url);
  const target = `/hub?id=${body['connectionToken'] as string}`;
  const get = (accept: string) => Buffer.from(`GET ${target} HTTP/1.1\r\nHost: x\r\n${accept}\r\n`, 'latin1');
  const steps = [sse ? 'sse' : 'longPolling', protocol];
  let stream: Promise<{ data: Buffer }> | undefined;
  if (sse) {
    stream = exchange(port, get('Accept: text/event-stream\r\n'), 400);
    await new Promise((r) => setTimeout(r, 20));
  } else {
    const first = get('');
    check(i, [...steps, 'first poll'], first, (await exchange(port, first, 500, responseComplete)).data);
  }
  const corpus = protocol === 'json' ? JSON_CORPUS : MSGPACK_CORPUS;
  const handshake = Buffer.from(`{"protocol":"${protocol}","version":1}${RS}`);
  const payload = rng.chance(0.5)
    ? Buffer.concat([handshake, mutate(rng, Buffer.concat([rng.pick(corpus), rng.pick(corpus)]), corpus).bytes])
    : mutate(rng, Buffer.concat([handshake, rng.pick(corpus)]), [...corpus, ...HANDSHAKE_CORPUS]).bytes;
  const contentType = rng.pick(['text/plain', 'application/octet-stream', 'application/x-www-form-urlencoded']);
  const post = Buffer.concat([Buffer.from(`POST ${target} HTTP/1.1\r\nHost: x\r\nContent-Type: ${contentType}\r\nContent-Length: ${payload.length}\r\n\r\n`, 'latin1'), payload]);
  check(i, [...steps, 'post'], post, (await exchange(port, post, 500, responseComplete)).data);
  if (stream) {
    check(i, [...steps, 'stream'], payload, (await stream).data);
    return;
  }
  const poll = get('');
  check(i, [...steps, 'poll'], payload, (await exchange(port, poll, 500, responseComplete)).data);
  if (rng.chance(0.5)) {
    const del = Buffer.from(`DELETE ${target} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`, 'latin1');
    check(i, [...steps, 'delete'], del, (await exchange(port, del, 500, responseComplete)).data);
  }
}

/** A random WebSocket frame: valid or not, complete or cut, masked or not. */
function randomFrame(rng: Prng): Buffer {
  const kind = rng.int(6);
  if (kind === 0) return Buffer.from(rng.bytes(rng.range(1, 40)));
  if (kind === 1) return clientFrame(1, Buffer.from([0x7b, 0xc3, 0x28, 0x1e])); // invalid UTF-8 text
  if (kind === 2) return clientFrame(rng.pick([0x8, 0x9, 0xa]), Buffer.from(rng.bytes(rng.chance(0.5) ? rng.range(0, 8) : rng.range(126, 300))), rng.chance(0.8)); // control frames, some too long or fragmented
  if (kind === 3) return clientFrame(rng.pick([0x0, 0x1, 0x2, 0x3, 0xb]), Buffer.from(rng.bytes(rng.range(0, 200))), rng.chance(0.5));
  // A header announcing a length it does not deliver (up to 2^63-1), masked or not.
  const header = Buffer.alloc(14);
  header[0] = (rng.chance(0.8) ? 0x80 : 0) | (rng.chance(0.1) ? rng.int(8) << 4 : 0) | rng.pick([0x1, 0x2, 0x0]);
  const masked = rng.chance(0.8);
  const size = rng.int(3);
  if (size === 0) header[1] = (masked ? 0x80 : 0) | rng.int(126);
  else if (size === 1) {
    header[1] = (masked ? 0x80 : 0) | 126;
    header.writeUInt16BE(rng.int(65536), 2);
  } else {
    header[1] = (masked ? 0x80 : 0) | 127;
    header.writeBigUInt64BE(rng.chance(0.5) ? 0x7fffffffffffffffn : BigInt(rng.next()) * 1024n, 2);
  }
  const headerLen = size === 0 ? 2 : size === 1 ? 4 : 10;
  return Buffer.concat([header.subarray(0, headerLen + (masked ? 4 : 0)), Buffer.from(rng.bytes(rng.range(0, 64)))]);
}

const METHODS = ['GET', 'POST', 'DELETE', 'PUT', 'OPTIONS', 'HEAD', 'PATCH', 'G\u00c9T', 'CONNECT'];
const PATHS = ['/hub', '/hub/', '/hub/negotiate', '/HUB/Negotiate', '/other', '/other/negotiate', '//hub', '//[', '//a:b@', '/%', '/hub/%zz', '/hub/negotiate/x', '/nope', `/${'a'.repeat(3000)}`, '*', 'http://x/hub'];
const QUERIES = ['', 'negotiateVersion=1', 'negotiateVersion=abc', 'negotiateVersion=-1', 'negotiateVersion=1e400', 'negotiateVersion=1&useStatefulReconnect=true', 'id=', 'id=%zz', 'id=AAAA', `id=${'A'.repeat(5000)}`, 'ID=x&id=y', 'id[]=1', '%', '&&&='];

/** A raw HTTP request with random parts; `tokens` are valid connection tokens. */
function randomRequest(rng: Prng, tokens: readonly string[]): { request: Uint8Array; steps: string[] } {
  const method = rng.pick(METHODS);
  const path = rng.pick(PATHS);
  const query = rng.chance(0.3) ? `id=${rng.pick(tokens)}${rng.chance(0.3) ? '&negotiateVersion=1' : ''}` : rng.pick(QUERIES);
  const headers: string[] = ['Host: 127.0.0.1'];
  const body = rng.chance(0.5) ? Buffer.from(rng.chance(0.5) ? rng.pick([...JSON_CORPUS, ...MSGPACK_CORPUS, ...HANDSHAKE_CORPUS]) : rng.bytes(rng.range(0, 200))) : Buffer.alloc(0);
  if (rng.chance(0.3)) headers.push('Accept: text/event-stream');
  if (rng.chance(0.3)) headers.push(`Content-Type: ${rng.pick(['text/plain', 'application/octet-stream', 'application/json', '\u00ff', ''])}`);
  if (rng.chance(0.2)) headers.push(`Authorization: ${rng.pick(['Bearer x', 'Bearer', 'Basic Og==', 'Bearer eyJhbGciOiJub25lIn0.e30.'])}`);
  if (rng.chance(0.2)) headers.push(`Cookie: ${rng.pick(['a=b', '=;;=', 'x', `c=${'%'.repeat(100)}`])}`);
  if (rng.chance(0.1)) headers.push('Connection: Upgrade', 'Upgrade: websocket', `Sec-WebSocket-Version: ${rng.pick(['13', '8', 'x'])}`, `Sec-WebSocket-Key: ${rng.pick(['dGhlIHNhbXBsZSBub25jZQ==', 'short', ''])}`);
  if (rng.chance(0.1)) headers.push(`X-Big: ${'b'.repeat(rng.pick([100, 20_000]))}`);
  if (rng.chance(0.2)) headers.push(`Origin: ${rng.pick(['http://evil', 'null', ''])}`);
  let framedBody: Buffer = body;
  const lengthMode = rng.int(5);
  if (lengthMode === 0) headers.push(`Content-Length: ${body.length}`);
  else if (lengthMode === 1) headers.push(`Content-Length: ${rng.pick(['-1', '99999999999', 'abc', String(body.length + 10), '0'])}`);
  else if (lengthMode === 2) {
    headers.push('Transfer-Encoding: chunked');
    framedBody = rng.chance(0.7) ? Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]) : Buffer.concat([Buffer.from('zz\r\n'), body]);
  } else if (lengthMode === 3 && body.length) headers.push(`Content-Length: ${body.length}`, 'Transfer-Encoding: chunked');
  else if (body.length) headers.push(`Content-Length: ${body.length}`);
  const head = `${method} ${path}${query ? `?${query}` : ''} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n`;
  return { request: Buffer.concat([Buffer.from(head, 'latin1'), framedBody]), steps: [method, path, query.slice(0, 40), `length:${lengthMode}`] };
}

/** Whether `data` holds a complete HTTP response (status line, headers, and the body its length says). */
function responseComplete(data: Buffer): boolean {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const head = data.subarray(0, end).toString('latin1');
  if (/^HTTP\/1\.1 101/.test(head)) return true;
  const m = /\r\ncontent-length: (\d+)/i.exec(head);
  if (m) return data.length >= end + 4 + Number(m[1]);
  return /^HTTP\/1\.1 (204|304)/.test(head);
}
