import WebSocket from 'ws';
import { FrameConsumer, RS, type Message } from './frames.js';

export { RS, type Message } from './frames.js';

/** One WebSocket frame as received. */
export interface Frame {
  readonly data: Buffer;
  readonly binary: boolean;
}

export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
}

/**
 * A raw `ws` client that speaks the hub protocol by hand: it records every frame, splits the
 * inbound byte stream into the handshake reply and hub messages (JSON records, or varint-framed
 * MessagePack after a messagepack handshake), and lets tests wait for them with a bound.
 */
export class RawClient {
  readonly frames: Frame[] = [];
  closeInfo: CloseInfo | undefined;
  private readonly consumer = new FrameConsumer();
  private readonly waiters = new Set<() => void>();
  private parseError: Error | undefined;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      this.frames.push({ data, binary: isBinary });
      try {
        this.consumer.consume(data);
      } catch (err) {
        this.parseError = err as Error;
      }
      this.wake();
    });
    ws.on('close', (code: number, reason: Buffer) => {
      this.closeInfo = { code, reason: reason.toString() };
      this.wake();
    });
    ws.on('error', () => {});
  }

  /**
   * Opens a socket that continues a stateful-reconnect connection (a reattach): no handshake is
   * sent or expected, every record from the first byte on is a hub message of `protocol`.
   */
  static async reattach(url: string, protocol: 'json' | 'messagepack' = 'json'): Promise<RawClient> {
    const c = await RawClient.open(url, true);
    c.useProtocol(protocol);
    return c;
  }

  /** Opens a socket; rejects with `UpgradeRefused` (status and body) on a non-101 answer. */
  static open(url: string, noHandshake = false): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error(`WebSocket to ${url} did not open within 2000 ms`));
      }, 2000);
      ws.once('open', () => {
        clearTimeout(timer);
        const c = new RawClient(ws);
        // Set before any data event: the server may write right after the upgrade.
        if (noHandshake) c.handshakeReply = '';
        resolve(c);
      });
      ws.once('unexpected-response', (_req, res) => {
        clearTimeout(timer);
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => reject(new UpgradeRefused(res.statusCode ?? 0, body)));
        res.on('error', () => reject(new UpgradeRefused(res.statusCode ?? 0, body)));
      });
      ws.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  /** Opens, sends the handshake, and waits for the reply; returns the parsed reply. */
  static async connected(url: string, protocol: 'json' | 'messagepack' = 'json', version = 1): Promise<RawClient> {
    const c = await RawClient.open(url);
    try {
      const reply = await c.handshake(protocol, version);
      if (JSON.stringify(reply) !== '{}') throw new Error(`handshake refused: ${c.handshakeReply}`);
    } catch (err) {
      c.terminate();
      throw err;
    }
    return c;
  }

  /** Hub messages received since the handshake reply. */
  get messages(): Message[] {
    return this.consumer.messages;
  }

  /** The handshake reply with its separator, once received ('' when none is expected). */
  get handshakeReply(): string | undefined {
    return this.consumer.handshakeReply;
  }

  set handshakeReply(reply: string | undefined) {
    this.consumer.handshakeReply = reply;
  }

  /** Expects the server's data to be MessagePack after the handshake reply. */
  useProtocol(protocol: 'json' | 'messagepack'): void {
    this.consumer.protocol = protocol;
  }

  async handshake(protocol: 'json' | 'messagepack' = 'json', version = 1): Promise<Record<string, unknown>> {
    this.useProtocol(protocol);
    this.send(`${JSON.stringify({ protocol, version })}${RS}`);
    return this.nextHandshakeReply();
  }

  async nextHandshakeReply(timeoutMs = 2000): Promise<Record<string, unknown>> {
    await this.until(() => this.handshakeReply !== undefined, timeoutMs, 'the handshake reply');
    return JSON.parse(this.handshakeReply!.slice(0, -1)) as Record<string, unknown>;
  }

  send(data: string | Uint8Array, binary = typeof data !== 'string'): void {
    this.ws.send(data, { binary });
  }

  sendJson(...messages: object[]): void {
    this.send(messages.map((m) => JSON.stringify(m) + RS).join(''));
  }

  invoke(target: string, args: unknown[], invocationId: string): void {
    this.sendJson({ type: 1, invocationId, target, arguments: args });
  }

  /** Waits for the `index`-th hub message (0-based) received since the handshake. */
  async message(index: number, timeoutMs = 2000): Promise<Message> {
    await this.until(() => this.messages.length > index, timeoutMs, `hub message #${index}`);
    return this.messages[index]!;
  }

  /** Waits for the first message matching `predicate`. */
  async find(predicate: (m: Message) => boolean, timeoutMs = 2000, label = 'a matching message'): Promise<Message> {
    await this.until(() => this.messages.some(predicate), timeoutMs, label);
    return this.messages.find(predicate)!;
  }

  completion(invocationId: string, timeoutMs = 2000): Promise<Message> {
    return this.find((m) => m.type === 3 && m['invocationId'] === invocationId, timeoutMs, `Completion '${invocationId}'`);
  }

  closeMessage(timeoutMs = 2000): Promise<Message> {
    return this.find((m) => m.type === 7, timeoutMs, 'a Close message');
  }

  async closed(timeoutMs = 2000): Promise<CloseInfo> {
    await this.until(() => this.closeInfo !== undefined, timeoutMs, 'the socket to close');
    return this.closeInfo!;
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  terminate(): void {
    this.ws.terminate();
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  private until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.parseError) return done(this.parseError);
        if (condition()) return done();
        if (this.closeInfo) return done(new Error(`socket closed (${this.closeInfo.code}) before ${what}; frames: ${this.describeFrames()}`));
      };
      const done = (err?: Error) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        if (err) reject(err);
        else resolve();
      };
      const timer = setTimeout(() => done(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; frames: ${this.describeFrames()}`)), timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  describeFrames(): string {
    return JSON.stringify(this.frames.map((f) => (f.binary ? `bin:${f.data.toString('hex')}` : f.data.toString('utf8'))));
  }
}

export class UpgradeRefused extends Error {
  constructor(
    readonly statusCode: number,
    readonly body: string,
  ) {
    super(`upgrade refused with HTTP ${statusCode}: ${body}`);
  }
}

/** Opens a socket that must be refused; resolves with the HTTP status and body. */
export async function refusedUpgrade(url: string): Promise<UpgradeRefused> {
  try {
    const c = await RawClient.open(url);
    c.terminate();
  } catch (err) {
    if (err instanceof UpgradeRefused) return err;
    throw err;
  }
  throw new Error(`the upgrade to ${url} was accepted`);
}

/** Tracks raw clients so `afterEach` can terminate them. */
export function rawPool() {
  const clients: RawClient[] = [];
  const track = (c: RawClient) => {
    clients.push(c);
    return c;
  };
  return {
    open: async (url: string) => track(await RawClient.open(url)),
    connected: async (url: string, protocol: 'json' | 'messagepack' = 'json', version = 1) => track(await RawClient.connected(url, protocol, version)),
    terminateAll(): void {
      for (const c of clients.splice(0)) c.terminate();
    },
  };
}
