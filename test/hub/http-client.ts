import { request, type IncomingHttpHeaders } from 'node:http';
import { FrameConsumer, RS, type Message } from './frames.js';

export { RS } from './frames.js';

export interface HttpResult {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** Milliseconds from sending to the end of the response. */
  readonly ms: number;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** One HTTP request on its own TCP connection (no agent), read whole; rejects after `timeoutMs` (3 s). */
export function httpRequest(url: string, options: RequestOptions = {}): Promise<HttpResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers ?? {}, agent: false, signal: options.signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), ms: Date.now() - started });
      });
      res.on('error', reject);
    });
    const timeoutMs = options.timeoutMs ?? 3000;
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`${options.method ?? 'GET'} ${url.replace(/id=[^&]+/, 'id=…')} got no complete answer within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(options.body);
  });
}

/**
 * A hand-made long-polling client: polls, POSTs and DELETEs at `{hub}?id={token}`, and decodes the
 * polled bytes (the handshake reply, then JSON records or varint-framed MessagePack).
 */
export class LongPollingClient {
  private readonly consumer: FrameConsumer;

  constructor(
    readonly hubUrl: string,
    readonly token: string,
    readonly protocol: 'json' | 'messagepack' = 'json',
  ) {
    this.consumer = new FrameConsumer(protocol);
  }

  /** Hub messages polled since the handshake reply. */
  get messages(): Message[] {
    return this.consumer.messages;
  }

  /** The handshake reply with its separator, once polled. */
  get handshakeReply(): string | undefined {
    return this.consumer.handshakeReply;
  }

  get url(): string {
    return `${this.hubUrl}?id=${this.token}`;
  }

  /** One poll; a 200 body is decoded into `messages`. */
  async poll(options: RequestOptions = {}): Promise<HttpResult> {
    const res = await httpRequest(`${this.url}&_=${Date.now()}`, options);
    if (res.status === 200) this.consumer.consume(res.body);
    return res;
  }

  send(body: string | Uint8Array, headers: Record<string, string> = { 'Content-Type': 'text/plain;charset=UTF-8' }): Promise<HttpResult> {
    return httpRequest(this.url, { method: 'POST', body, headers });
  }

  sendJson(...messages: object[]): Promise<HttpResult> {
    return this.send(messages.map((m) => JSON.stringify(m) + RS).join(''));
  }

  delete(): Promise<HttpResult> {
    return httpRequest(this.url, { method: 'DELETE' });
  }

  /** First poll (activates), handshake POST, then polls until the handshake reply; returns it parsed. */
  async open(): Promise<Record<string, unknown>> {
    const first = await this.poll();
    if (first.status !== 200 || first.body.length !== 0) throw new Error(`first poll answered ${first.status} with ${first.body.length} bytes`);
    const posted = await this.send(`${JSON.stringify({ protocol: this.protocol, version: 1 })}${RS}`);
    if (posted.status !== 200) throw new Error(`handshake POST answered ${posted.status}`);
    await this.pollUntil(() => this.handshakeReply !== undefined, 'the handshake reply');
    return JSON.parse(this.handshakeReply!.slice(0, -1)) as Record<string, unknown>;
  }

  /** Polls until `condition` holds (or a poll is not 200); rejects after `ms`. */
  async pollUntil(condition: () => boolean, what: string, ms = 3000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms polling for ${what}; messages: ${JSON.stringify(this.messages)}`);
      const res = await this.poll({ timeoutMs: Math.max(100, deadline - Date.now()) });
      if (res.status !== 200) throw new Error(`poll answered ${res.status} while waiting for ${what}`);
    }
  }

  completion(invocationId: string): Message | undefined {
    return this.messages.find((m) => m.type === 3 && m['invocationId'] === invocationId);
  }
}

/**
 * A hand-made Server-Sent Events client: keeps the raw text of the stream and the `data` of every
 * complete event (lines joined with LF, as an EventSource does).
 */
export class SseClient {
  raw = '';
  readonly events: string[] = [];
  ended = false;
  private readonly waiters = new Set<() => void>();

  private constructor(
    readonly status: number,
    readonly headers: IncomingHttpHeaders,
    private readonly abort: () => void,
  ) {}

  /** Opens `GET url` with `Accept: text/event-stream`; resolves once the response head arrived. */
  static open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    return new Promise((resolve, reject) => {
      const req = request(url, { headers: { Accept: 'text/event-stream', ...headers }, agent: false }, (res) => {
        clearTimeout(timer);
        const client = new SseClient(res.statusCode ?? 0, res.headers, () => req.destroy());
        res.setEncoding('utf8');
        res.on('data', (text: string) => client.push(text));
        res.on('close', () => {
          client.ended = true;
          client.wake();
        });
        res.on('error', () => {});
        resolve(client);
      });
      const timer = setTimeout(() => {
        req.destroy();
        reject(new Error(`no SSE response head within 3000 ms`));
      }, 3000);
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      req.end();
    });
  }

  /** Hub messages (JSON) in the events after the handshake reply. */
  messages(): Message[] {
    const text = this.events.join('');
    const records = text.split(RS).slice(0, -1);
    return records.slice(1).map((r) => JSON.parse(r) as Message);
  }

  async until(condition: () => boolean, what: string, ms = 3000): Promise<void> {
    if (condition()) return;
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!condition()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out after ${ms} ms waiting for ${what}; stream: ${JSON.stringify(this.raw)}`));
      }, ms);
      this.waiters.add(check);
    });
  }

  close(): void {
    this.abort();
  }

  private push(text: string): void {
    this.raw += text;
    const complete = this.raw.split('\r\n\r\n');
    complete.pop();
    this.events.length = 0;
    for (const block of complete) {
      const data = block
        .split('\r\n')
        .filter((line) => line.startsWith('data: '))
        .map((line) => line.slice('data: '.length));
      if (data.length) this.events.push(data.join('\n'));
    }
    this.wake();
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}
