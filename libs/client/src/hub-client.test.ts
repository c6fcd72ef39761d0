import { describe, expect, it, vi } from 'vitest';
import type { ChatClient, ChatServer } from '@switchboard/contracts';
import { FakeConnection, settle } from './fake-connection.test-support.js';
import { HubClient, type ConnectionState } from './hub-client.js';

function client(fake: FakeConnection, options: ConstructorParameters<typeof HubClient>[1] = {}) {
  let transport: 'WebSockets' | 'LongPolling' = 'WebSockets';
  const c = new HubClient<ChatServer, ChatClient>({ connection: fake, selectedTransport: () => transport }, options);
  const states: ConnectionState[] = [];
  c.onStateChange((s) => states.push(s.state));
  return { c, states, setTransport: (t: typeof transport) => (transport = t) };
}

describe('HubClient', () => {
  it('goes connecting → connected → reconnecting → connected → disconnected, with the transport while up', async () => {
    const fake = new FakeConnection();
    const { c, states, setTransport } = client(fake);
    const reconnected = vi.fn();
    c.onReconnected(reconnected);
    await c.start();
    expect(c.state).toBe('connected');
    expect(c.transport).toBe('WebSockets');
    fake.drop();
    expect(c.state).toBe('reconnecting');
    expect(c.transport).toBeUndefined();
    expect(c.lastError?.message).toMatch(/1006/);
    setTransport('LongPolling');
    fake.restore();
    expect(c.transport).toBe('LongPolling');
    expect(reconnected).toHaveBeenCalledTimes(1);
    await c.stop();
    expect(states).toEqual(['connecting', 'connected', 'reconnecting', 'connected', 'disconnected']);
  });

  it('does not fire onReconnected for the first start', async () => {
    const fake = new FakeConnection();
    const { c } = client(fake);
    const reconnected = vi.fn();
    c.onReconnected(reconnected);
    await c.start();
    expect(reconnected).not.toHaveBeenCalled();
  });

  it('rejects when the first start fails and is not persistent', async () => {
    const fake = new FakeConnection();
    fake.startOutcomes.push(new Error('404 Not Found'));
    const { c, states } = client(fake);
    await expect(c.start()).rejects.toThrow('404 Not Found');
    expect(c.state).toBe('disconnected');
    expect(states).toEqual(['connecting', 'disconnected']);
    expect(fake.startCount).toBe(1);
  });

  it('persistent: keeps retrying the first start with the delays, then connects', async () => {
    const fake = new FakeConnection();
    fake.startOutcomes.push(new Error('refused'), new Error('refused'));
    const { c, states } = client(fake, { persistent: true, reconnectDelays: [0, 5] });
    await c.start();
    expect(fake.startCount).toBe(3);
    expect(c.state).toBe('connected');
    expect(c.lastError).toBeUndefined();
    expect(states).toEqual(['connecting', 'connecting', 'connecting', 'connected']);
  });

  it('persistent: a close without reconnect starts again and counts as a reconnect', async () => {
    const fake = new FakeConnection();
    const { c, states } = client(fake, { persistent: true, reconnectDelays: [0] });
    const reconnected = vi.fn();
    c.onReconnected(reconnected);
    await c.start();
    fake.close(new Error('Server returned an error on close: shutting down'));
    expect(c.state).toBe('reconnecting');
    await settle(5);
    expect(c.state).toBe('connected');
    expect(fake.startCount).toBe(2);
    expect(reconnected).toHaveBeenCalledTimes(1);
    expect(states).toEqual(['connecting', 'connected', 'reconnecting', 'reconnecting', 'connected']);
  });

  it('not persistent: a close is final', async () => {
    const fake = new FakeConnection();
    const { c } = client(fake);
    await c.start();
    fake.close(new Error('bye'));
    await settle(5);
    expect(c.state).toBe('disconnected');
    expect(fake.startCount).toBe(1);
  });

  it('stop() during persistent retries ends them and rejects start()', async () => {
    const fake = new FakeConnection();
    for (let i = 0; i < 100; i++) fake.startOutcomes.push(new Error('refused'));
    const { c } = client(fake, { persistent: true, reconnectDelays: [20] });
    const started = c.start();
    await settle(5);
    await c.stop();
    await expect(started).rejects.toThrow(/stopped/);
    const count = fake.startCount;
    await settle(60);
    expect(fake.startCount).toBe(count);
    expect(c.state).toBe('disconnected');
  });

  it('invoke and on are typed by the contract and reach the connection', async () => {
    const fake = new FakeConnection();
    const { c } = client(fake);
    await c.start();
    const got: string[] = [];
    const off = c.on('ReceiveMessage', (user, message) => got.push(`${user}: ${message}`));
    // What the official client sees returns nothing (a returned value would be sent as a client result).
    expect(fake.handlerResults('ReceiveMessage', 'x', 'y')).toEqual([undefined]);
    await c.invoke('SendMessage', 'ana', 'hi');
    expect(fake.calls).toEqual([['SendMessage', 'ana', 'hi']]);
    fake.push('ReceiveMessage', 'ana', 'hi');
    off();
    fake.push('ReceiveMessage', 'ana', 'again');
    expect(got).toEqual(['x: y', 'ana: hi']);
  });

  it('a throwing state handler does not keep the others from running', async () => {
    const fake = new FakeConnection();
    const { c, states } = client(fake);
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    c.onStateChange(() => {
      throw new Error('boom');
    });
    await c.start();
    expect(states).toEqual(['connecting', 'connected']);
    expect(error).toHaveBeenCalled();
    error.mockRestore();
  });
});
