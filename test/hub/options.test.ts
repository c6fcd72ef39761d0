import { describe, expect, it } from 'vitest';
import { HubServer, HUB_SERVER_DEFAULTS, silentLogger, type HubServerOptions } from '@switchboard/hub-server';
import { SwitchboardError } from '@switchboard/protocol';
import { TEST_SECRET } from './fixture.js';

function configError(options: HubServerOptions): SwitchboardError {
  let server: HubServer | undefined;
  try {
    server = new HubServer(options);
  } catch (err) {
    expect(err).toBeInstanceOf(SwitchboardError);
    return err as SwitchboardError;
  }
  void server.close();
  throw new Error(`new HubServer(${JSON.stringify(options)}) did not throw`);
}

const base = { secret: TEST_SECRET, logger: silentLogger };

describe('HubServer options validation', () => {
  it.each([
    ['an empty string', ''],
    ['undefined', undefined],
    ['null', null],
  ])('refuses a missing secret (%s) with SB_CONFIG_INVALID naming secret', (_label, secret) => {
    const err = configError({ secret: secret as unknown as string });
    expect(err.code).toBe('SB_CONFIG_INVALID');
    expect(err.message).toMatch(/^secret is required/);
  });

  it.each([['short'], ['fifteen-bytes!!'], [new Uint8Array(8)]])('refuses a secret under 16 bytes (%s)', (secret) => {
    const err = configError({ ...base, secret });
    expect(err.code).toBe('SB_CONFIG_INVALID');
    expect(err.message).toContain('secret');
    expect(err.message).toContain('16 bytes');
  });

  it.each([
    ['maxMessageSize', 0],
    ['maxMessageSize', -1],
    ['maxMessageSize', 1.5],
    ['maxMessageSize', Number.NaN],
    ['maxMessageSize', Number.POSITIVE_INFINITY],
    ['maxMessageSize', '1024'],
    ['handshakeTimeoutMs', 0],
    ['keepAliveIntervalMs', -5],
    ['clientTimeoutMs', 0],
    ['clientResultTimeoutMs', 0],
    ['tokenTtlMs', 0],
    ['maxParallelInvocations', 0],
    ['streamBufferCapacity', 0.5],
    ['maxBufferedBytes', -1],
    ['heartbeatIntervalMs', 0],
    ['longPollTimeoutMs', 0],
    ['longPollTimeoutMs', 1.5],
    ['disconnectTimeoutMs', -1],
    ['disconnectTimeoutMs', '15000'],
  ] as const)('refuses %s: %s with SB_CONFIG_INVALID naming the option', (option, value) => {
    const err = configError({ ...base, [option]: value } as HubServerOptions);
    expect(err.code).toBe('SB_CONFIG_INVALID');
    expect(err.message.startsWith(`${option} must be a positive integer`)).toBe(true);
    expect(err.message).toContain(JSON.stringify(value) ?? 'null');
  });

  it.each([
    [{ clientTimeoutMs: 1000, keepAliveIntervalMs: 1000 }],
    [{ clientTimeoutMs: 999, keepAliveIntervalMs: 1000 }],
    [{ clientTimeoutMs: 10_000 }], // default keep-alive 15 s
    [{ keepAliveIntervalMs: 30_000 }], // default client timeout 30 s
  ])('refuses clientTimeoutMs <= keepAliveIntervalMs: %o', (options) => {
    const err = configError({ ...base, ...options });
    expect(err.code).toBe('SB_CONFIG_INVALID');
    expect(err.message).toContain('clientTimeoutMs');
    expect(err.message).toContain('keepAliveIntervalMs');
  });

  it.each([[-1], [1.5], [1001], [Number.NaN], ['12']] as const)('refuses maxWriteDelayMs: %s with SB_CONFIG_INVALID saying what is accepted', (value) => {
    const err = configError({ ...base, maxWriteDelayMs: value as number });
    expect(err.code).toBe('SB_CONFIG_INVALID');
    expect(err.message.startsWith('maxWriteDelayMs must be an integer from 0 (write at the end of every turn) to 1000')).toBe(true);
    expect(err.message).toContain(JSON.stringify(value) ?? 'null');
  });

  it('refuses an empty protocol list', () => {
    const err = configError({ ...base, protocols: [] });
    expect(err.code).toBe('SB_CONFIG_INVALID');
    expect(err.message).toContain('protocols');
  });

  it('accepts the smallest valid values and applies the documented defaults', async () => {
    const server = new HubServer({ ...base, keepAliveIntervalMs: 1, clientTimeoutMs: 2, maxMessageSize: 1, heartbeatIntervalMs: 1, maxBufferedBytes: undefined, maxWriteDelayMs: 0 });
    try {
      expect(server.options.maxWriteDelayMs).toBe(0);
      expect(server.options.clientTimeoutMs).toBe(2);
      expect(server.options.maxMessageSize).toBe(1);
      expect(server.options.maxBufferedBytes).toBe(HUB_SERVER_DEFAULTS.maxBufferedBytes);
    } finally {
      await server.close();
    }
    const defaults = new HubServer(base);
    try {
      expect(defaults.options.maxMessageSize).toBe(32 * 1024);
      expect(defaults.options.keepAliveIntervalMs).toBe(15_000);
      expect(defaults.options.clientTimeoutMs).toBe(30_000);
      expect(defaults.options.handshakeTimeoutMs).toBe(15_000);
      expect(defaults.options.longPollTimeoutMs).toBe(90_000);
      expect(defaults.options.disconnectTimeoutMs).toBe(15_000);
      expect(defaults.options.protocols.map((p) => p.name)).toEqual(['json', 'messagepack']);
      expect(defaults.options.maxWriteDelayMs).toBe(12);
    } finally {
      await defaults.close();
    }
  });
});
