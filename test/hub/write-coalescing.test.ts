import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { writeCoalescingIntervalMs } from '@switchboard/hub-server';
import { clientPool, nextCalls, PROTOCOLS } from '../support/signalr.js';
import { startHub, within, type HubFixture } from './fixture.js';
import { RawClient, RS, rawPool } from './raw-client.js';

// Write coalescing (write-scheduler.ts, write-load.ts): when the event loop runs late, a busy
// connection's messages are held for up to maxWriteDelayMs and leave together in one frame.
// These tests make this process's loop late for real (busy turns while writing), then check what
// clients receive: everything, in order, in fewer frames; answers not held; frames bounded.

const raw = rawPool();
const pool = clientPool();
let coalescing: HubFixture;
let immediate: HubFixture;
/** A connection on /other that the busy turns write to (so the measured clients on /hub only get their own messages). */
let loadSink: RawClient;

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Keeps this process's event loop late (10 ms busy after each write) until the controller holds
 * writes for at least `min` ms. The lateness probe is armed by each write pass and fires late.
 */
async function makeLoopLate(min = 6, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (writeCoalescingIntervalMs() < min) {
    if (Date.now() > deadline) throw new Error(`the write interval stayed at ${writeCoalescingIntervalMs()} ms under a late event loop`);
    await coalescing.hubs.other.clients.all.Message('load');
    const busyUntil = performance.now() + 10;
    while (performance.now() < busyUntil);
    await turn();
  }
}

/** Sends `count` messages to every client of `/hub` on each fixture, one per turn of the event loop. */
async function sendOnePerTurn(fixtures: HubFixture[], count: number, text = (i: number) => `m${i}`): Promise<string[]> {
  const sent: string[] = [];
  for (let i = 0; i < count; i++) {
    sent.push(text(i));
    await Promise.all(fixtures.map((f) => f.hubs.hub.clients.all.Message(text(i))));
    await turn();
  }
  return sent;
}

const messageTexts = (c: RawClient) => c.messages.filter((m) => m.type === 1 && m['target'] === 'Message').map((m) => (m['arguments'] as string[])[0]);

beforeAll(async () => {
  [coalescing, immediate] = await Promise.all([startHub(), startHub({ maxWriteDelayMs: 0 })]);
  loadSink = await raw.connected(coalescing.wsUrl(undefined, '/other'));
});
afterEach(async () => {
  await pool.stopAll();
});
afterAll(async () => {
  raw.terminateAll();
  await Promise.all([coalescing?.close(), immediate?.close()]);
});

describe('write coalescing under a late event loop', () => {
  it('delivers every message in order in fewer frames; a server with maxWriteDelayMs 0 writes one frame per turn', async () => {
    const [held, direct] = await Promise.all([raw.connected(coalescing.wsUrl()), raw.connected(immediate.wsUrl())]);
    const [heldFrames, directFrames] = [held.frames.length, direct.frames.length];
    await makeLoopLate();
    const sent = await sendOnePerTurn([coalescing, immediate], 60);
    await held.find(() => messageTexts(held).length === 60, 3000, '60 messages (coalescing server)');
    await direct.find(() => messageTexts(direct).length === 60, 3000, '60 messages (maxWriteDelayMs 0)');
    expect(messageTexts(held)).toEqual(sent);
    expect(messageTexts(direct)).toEqual(sent);
    expect(direct.frames.length - directFrames).toBe(60);
    expect(held.frames.length - heldFrames).toBeLessThanOrEqual(30);
    // Several whole records per frame, each terminated, as the protocol allows.
    expect(held.frames.slice(heldFrames).some((f) => f.data.toString().split(RS).length > 2)).toBe(true);
  });

  it('caps a held frame near 16 KB: large output leaves at the end of the turn it reaches that size', async () => {
    const c = await raw.connected(coalescing.wsUrl());
    const before = c.frames.length;
    await makeLoopLate();
    const big = (i: number) => `${i}:`.padEnd(1000, 'x');
    const sent: string[] = [];
    for (let i = 0; i < 160; i += 8) {
      for (let j = i; j < i + 8; j++) {
        sent.push(big(j));
        await coalescing.hubs.hub.clients.all.Message(big(j));
      }
      await turn();
    }
    await c.find(() => messageTexts(c).length === 160, 3000, '160 large messages');
    expect(messageTexts(c)).toEqual(sent);
    const sizes = c.frames.slice(before).map((f) => f.data.length);
    // At most 16 KB held, plus the rest of the turn that crossed it (8 messages of ~1 KB).
    expect(Math.max(...sizes)).toBeLessThan(16 * 1024 + 8 * 1100);
    expect(sizes.length).toBeLessThan(160);
  });

  it.each(PROTOCOLS)('official client (%s): every coalesced message arrives in order, and an invocation is answered meanwhile', async (protocol) => {
    const client = await pool.connect(coalescing.url, { protocol });
    await makeLoopLate();
    const received = nextCalls(client, 'Message', 80);
    const sending = sendOnePerTurn([coalescing], 80, (i) => `${protocol}-${i}`);
    expect(await within(client.invoke('Echo', 'answer'), 2000, 'Echo during coalescing')).toBe('answer');
    const sent = await sending;
    expect((await received).map((args) => args[0])).toEqual(sent);
  });
});
