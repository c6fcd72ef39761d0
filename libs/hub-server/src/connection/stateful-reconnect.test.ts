import { describe, expect, it } from 'vitest';
import { isSwitchboardError } from '@switchboard/protocol';
import { DEFAULT_STATEFUL_RECONNECT_BUFFER_SIZE, statefulReconnectSettings } from '../hub/hub-endpoint.js';
import { StatefulReconnect } from './stateful-reconnect.js';

/** A message of `size` bytes whose first byte names it. */
const msg = (name: number, size = 10): Uint8Array => new Uint8Array(size).fill(name);
const names = (list: Uint8Array[]): number[] => list.map((b) => b[0]!);

describe('StatefulReconnect: outbound buffer', () => {
  it('numbers messages from 1 and writes them at once while under the buffer size', () => {
    const s = new StatefulReconnect(100);
    expect([s.add(msg(1)), s.add(msg(2)), s.add(msg(3))]).toEqual([true, true, true]);
    expect(s.bufferedBytes).toBe(30);
    expect(s.heldBytes).toBe(0);
    // Nothing acknowledged: a reattach announces id 1 and replays all three.
    expect(s.reattach(0)).toEqual({ sequenceId: 1, replay: [msg(1), msg(2), msg(3)] });
  });

  it('an Ack frees messages up to its id; a reattach then starts after them', () => {
    const s = new StatefulReconnect(100);
    for (let i = 1; i <= 4; i++) s.add(msg(i));
    expect(s.ack(2)).toEqual([]);
    expect(s.bufferedBytes).toBe(20);
    const { sequenceId, replay } = s.reattach(0);
    expect(sequenceId).toBe(3);
    expect(names(replay)).toEqual([3, 4]);
  });

  it('with nothing unacknowledged, a reattach announces the next id and replays nothing', () => {
    const s = new StatefulReconnect(100);
    s.add(msg(1));
    s.add(msg(2));
    s.ack(2);
    expect(s.reattach(0)).toEqual({ sequenceId: 3, replay: [] });
    expect(new StatefulReconnect(100).reattach(0)).toEqual({ sequenceId: 1, replay: [] });
  });

  it('holds messages once the unacknowledged bytes reach the buffer size, and releases them in order on Ack', () => {
    const s = new StatefulReconnect(25);
    // 0, 10, 20 bytes in flight before each: the third still goes (under 25), the fourth waits.
    expect([s.add(msg(1)), s.add(msg(2)), s.add(msg(3)), s.add(msg(4)), s.add(msg(5))]).toEqual([true, true, true, false, false]);
    expect(s.heldBytes).toBe(20);
    expect(names(s.ack(1))).toEqual([4]); // 20 in flight → one more fits (20 < 25), then 30
    expect(names(s.ack(3))).toEqual([5]);
    expect(s.heldBytes).toBe(0);
    expect(s.bufferedBytes).toBe(20);
  });

  it('a later message never overtakes a held one, even when it would fit', () => {
    const s = new StatefulReconnect(15);
    expect(s.add(msg(1, 10))).toBe(true);
    expect(s.add(msg(2, 10))).toBe(true); // 10 < 15
    expect(s.add(msg(3, 1))).toBe(false); // 20 in flight
    expect(s.ack(1)).toEqual([msg(3, 1)]);
    expect(s.add(msg(4, 1))).toBe(true);
  });

  it('an Ack beyond what was written frees only what was written', () => {
    const s = new StatefulReconnect(10);
    s.add(msg(1));
    s.add(msg(2)); // held
    expect(names(s.ack(99))).toEqual([2]); // 1 freed, 2 written now, not freed
    expect(s.bufferedBytes).toBe(10);
    expect(s.reattach(0).sequenceId).toBe(2);
  });

  it('while detached everything is held; the reattach replays the unacknowledged ones and then the held ones', () => {
    const s = new StatefulReconnect(1000);
    s.add(msg(1));
    s.add(msg(2));
    s.ack(1);
    s.detach(100);
    expect(s.detached).toBe(true);
    expect(s.add(msg(3))).toBe(false);
    expect(s.heldBytes).toBe(20); // 2 (written on the lost socket) and 3
    expect(s.expired(200, 100)).toBe(false);
    expect(s.expired(201, 100)).toBe(true);
    const { sequenceId, replay } = s.reattach(150);
    expect(sequenceId).toBe(2);
    expect(names(replay)).toEqual([2, 3]);
    expect(s.detached).toBe(false);
    expect(s.add(msg(4))).toBe(true);
  });

  it('a replay is bounded by the buffer size too; Acks release the rest', () => {
    const s = new StatefulReconnect(20);
    for (let i = 1; i <= 2; i++) s.add(msg(i));
    s.detach(0);
    for (let i = 3; i <= 5; i++) s.add(msg(i));
    const { sequenceId, replay } = s.reattach(1);
    expect(sequenceId).toBe(1);
    expect(names(replay)).toEqual([1, 2]);
    expect(names(s.ack(2))).toEqual([3, 4]);
    expect(names(s.ack(4))).toEqual([5]);
  });

  it('an Ack that arrives while detached frees what the peer had received', () => {
    const s = new StatefulReconnect(100);
    s.add(msg(1));
    s.add(msg(2));
    s.detach(0);
    expect(s.ack(1)).toEqual([]); // nothing written while detached
    expect(s.heldBytes).toBe(10);
    expect(s.reattach(1)).toEqual({ sequenceId: 2, replay: [msg(2)] });
  });

  it('keeps a long-lived queue compact (acknowledged slots are dropped)', () => {
    const s = new StatefulReconnect(1_000_000);
    for (let i = 1; i <= 10_000; i++) {
      s.add(msg(i & 0xff, 1));
      if (i % 10 === 0) s.ack(i);
    }
    expect(s.bufferedBytes).toBe(0);
    expect((s as unknown as { entries: unknown[] }).entries.length).toBeLessThan(200);
    expect(s.reattach(0).sequenceId).toBe(10_001);
  });
});

describe('StatefulReconnect: inbound counting', () => {
  it('accepts new messages and drops duplicates after a Sequence moves the count back', () => {
    const s = new StatefulReconnect(100);
    expect([s.accept(), s.accept(), s.accept()]).toEqual([true, true, true]); // ids 1-3
    s.resetSequence(2); // the peer replays from 2
    expect([s.accept(), s.accept(), s.accept()]).toEqual([false, false, true]); // 2, 3 again; 4 is new
  });

  it('a Sequence equal to the next expected id is fine; one above it is a protocol error', () => {
    const s = new StatefulReconnect(100);
    s.accept();
    expect(() => s.resetSequence(2)).not.toThrow();
    let caught: unknown;
    try {
      s.resetSequence(3);
    } catch (err) {
      caught = err;
    }
    expect(isSwitchboardError(caught, 'SB_PROTOCOL_INVALID_SEQUENCE')).toBe(true);
    expect((caught as Error).message).toContain('announced 3');
  });

  it('takeAck answers the latest processed id once, and only after it moved', () => {
    const s = new StatefulReconnect(100);
    expect(s.takeAck()).toBeUndefined();
    s.accept();
    s.accept();
    expect(s.takeAck()).toBe(2);
    expect(s.takeAck()).toBeUndefined();
    s.resetSequence(1);
    s.accept(); // a duplicate does not move it
    expect(s.takeAck()).toBeUndefined();
    s.accept();
    s.accept();
    expect(s.takeAck()).toBe(3);
  });
});

describe('statefulReconnectSettings', () => {
  it('is off by default and defaults the buffer to 100000 bytes', () => {
    expect(statefulReconnectSettings({})).toBeUndefined();
    expect(statefulReconnectSettings({ allowStatefulReconnects: false })).toBeUndefined();
    expect(statefulReconnectSettings({ allowStatefulReconnects: true })).toEqual({ bufferSize: DEFAULT_STATEFUL_RECONNECT_BUFFER_SIZE });
    expect(DEFAULT_STATEFUL_RECONNECT_BUFFER_SIZE).toBe(100_000);
    expect(statefulReconnectSettings({ allowStatefulReconnects: true, statefulReconnectBufferSize: 5 })).toEqual({ bufferSize: 5 });
  });

  it.each([0, -1, 1.5, Number.NaN, '100' as unknown as number])('refuses statefulReconnectBufferSize %s, naming the option', (bad) => {
    expect(() => statefulReconnectSettings({ allowStatefulReconnects: true, statefulReconnectBufferSize: bad })).toThrow(/statefulReconnectBufferSize must be a positive integer/);
  });

  it('refuses a non-boolean allowStatefulReconnects', () => {
    expect(() => statefulReconnectSettings({ allowStatefulReconnects: 'yes' as unknown as boolean })).toThrow(/allowStatefulReconnects must be true or false/);
  });
});
