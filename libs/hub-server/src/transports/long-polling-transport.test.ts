import { afterEach, describe, expect, it, vi } from 'vitest';
import { LongPollingTransport, POLL_ENDED } from './long-polling-transport.js';

const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');

describe('LongPollingTransport', () => {
  afterEach(() => vi.useRealTimers());

  it('a poll takes everything pending at once, as one body', async () => {
    const t = new LongPollingTransport(1000, Date.now);
    t.send(Buffer.from('a\u001e'));
    t.send(Buffer.from('b\u001e'));
    expect(t.bufferedAmount).toBe(4);
    const reply = await t.poll(new AbortController().signal);
    expect(reply.status).toBe(200);
    expect(reply.contentType).toBe('application/octet-stream');
    expect(text(reply.body)).toBe('a\u001eb\u001e');
    expect(t.bufferedAmount).toBe(0);
  });

  it('a held poll gets the next send; with nothing it ends 200 empty after the poll timeout', async () => {
    vi.useFakeTimers();
    let now = 0;
    const t = new LongPollingTransport(90_000, () => now);
    const held = t.poll(new AbortController().signal);
    expect(t.idleSince).toBeUndefined();
    t.send(Buffer.from('x'));
    expect(text((await held).body)).toBe('x');
    now = 5;
    expect(t.idleSince).toBe(0);
    const empty = t.poll(new AbortController().signal);
    vi.advanceTimersByTime(89_999);
    let settled = false;
    void empty.then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    vi.advanceTimersByTime(1);
    expect(await empty).toEqual({ status: 200, body: new Uint8Array(0), contentType: 'application/octet-stream' });
  });

  it('a newer poll ends the older one with 204; an aborted poll takes nothing', async () => {
    const t = new LongPollingTransport(1000, Date.now);
    const older = t.poll(new AbortController().signal);
    const abandon = new AbortController();
    const newer = t.poll(abandon.signal);
    expect(await older).toBe(POLL_ENDED);
    abandon.abort();
    expect(await newer).toBe(POLL_ENDED);
    t.send(Buffer.from('kept'));
    expect(text((await t.poll(new AbortController().signal)).body)).toBe('kept');
  });

  it('after close, polls drain what is pending and then get 204; sends and POST bodies are refused', async () => {
    const t = new LongPollingTransport(1000, Date.now);
    const received: string[] = [];
    t.receiver = (chunk) => received.push(text(chunk));
    t.send(Buffer.from('last'));
    t.close();
    t.send(Buffer.from('ignored'));
    expect(t.ended).toBe(false);
    expect(text((await t.poll(new AbortController().signal)).body)).toBe('last');
    expect(t.ended).toBe(true);
    expect(await t.poll(new AbortController().signal)).toBe(POLL_ENDED);
    expect(await t.deliver(Buffer.from('late'), true)).toBe(false);
    expect(received).toEqual([]);
  });

  it('POST bodies wait while reading is paused and are delivered in order on resume', async () => {
    const t = new LongPollingTransport(1000, Date.now);
    const received: string[] = [];
    t.receiver = (chunk) => received.push(text(chunk));
    t.pause();
    const first = t.deliver(Buffer.from('1'), true);
    const second = t.deliver(Buffer.from('2'), true);
    await new Promise((r) => setImmediate(r));
    expect(received).toEqual([]);
    t.resume();
    expect(await Promise.all([first, second])).toEqual([true, true]);
    expect(received).toEqual(['1', '2']);
  });

  it('terminate drops pending output and ends a held poll with 204', async () => {
    const t = new LongPollingTransport(1000, Date.now);
    const held = t.poll(new AbortController().signal);
    t.terminate();
    expect(await held).toBe(POLL_ENDED);
    t.send(Buffer.from('x'));
    expect(t.bufferedAmount).toBe(0);
  });
});
